//go:build linux

package daemon

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/goconfd/goconfd/internal/hs"
)

func TestBindError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"pid file locked", &hs.IOError{File: "/r/x.pid", Loc: pidFileLoc, Err: syscall.EAGAIN},
			"/r/x.pid: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"},
		{"read", ReadError("/r/k", &os.PathError{Op: "open", Path: "/r/k", Err: syscall.ENOENT}),
			"/r/k: openBinaryFile: does not exist (No such file or directory)"},
		{"bind", BindError(&net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}),
			"Network.Socket.bind: unsupported operation (Cannot assign requested address)"},
		{"bind in use", BindError(&net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}),
			"Network.Socket.bind: resource busy (Address already in use)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant       %q", got, tt.want)
			}
		})
	}
	// Not an error about binding: left alone.
	other := &net.OpError{Op: "listen", Err: os.NewSyscallError("setsockopt", syscall.EINVAL)}
	if BindError(other) != error(other) {
		t.Errorf("BindError changed a setsockopt error")
	}
	if e := ReadError("/k", syscall.ENOENT); !errors.Is(e, syscall.ENOENT) {
		t.Errorf("ReadError does not unwrap to its cause")
	}
}
