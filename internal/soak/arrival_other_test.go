//go:build !linux

package soak

import (
	"net"
	"time"
)

// enableArrivalTimes says that the kernel's receive timestamps are not
// used here (SO_TIMESTAMPNS is Linux's).
func enableArrivalTimes(*net.UDPConn) bool { return false }

// arrivalTime is zero: there is no timestamp.
func arrivalTime([]byte) time.Time { return time.Time{} }
