//go:build !unix

package testdaemon

import (
	"errors"
	"net"
)

// shareable is not supported here: a reservation could not be shared
// with the daemon.
func shareable(*net.UDPConn) error {
	return errors.New("port reservations need SO_REUSEADDR (unix only)")
}
