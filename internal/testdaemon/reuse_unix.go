//go:build unix

package testdaemon

import (
	"fmt"
	"net"
	"syscall"
)

// shareable sets SO_REUSEADDR on a bound socket, so that a daemon that
// sets it too may bind the same port.
func shareable(c *net.UDPConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("setting SO_REUSEADDR: %w", err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}); err != nil {
		return fmt.Errorf("setting SO_REUSEADDR: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("setting SO_REUSEADDR: %w", serr)
	}
	return nil
}
