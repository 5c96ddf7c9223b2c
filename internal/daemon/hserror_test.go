//go:build linux

package daemon

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestIOError(t *testing.T) {
	dir := t.TempDir()
	_, readDir := os.ReadFile(dir)
	_, openMissing := os.Open(filepath.Join(dir, "missing"))
	_, writeDir := os.OpenFile(dir, os.O_WRONLY, 0)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"pid file locked", &IOError{File: "/r/x.pid", Loc: pidFileLoc, Err: syscall.EAGAIN},
			"/r/x.pid: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"},
		{"missing file", &IOError{File: "/r/k", Loc: "openBinaryFile", Err: openMissing},
			"/r/k: openBinaryFile: does not exist (No such file or directory)"},
		{"reading a directory", &IOError{File: dir, Loc: "openFile", Err: readDir},
			dir + ": openFile: inappropriate type (is a directory)"},
		{"writing a directory", &IOError{File: dir, Loc: "openFile", Err: writeDir},
			dir + ": openFile: inappropriate type (Is a directory)"},
		{"bind", BindError(&net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}),
			"Network.Socket.bind: unsupported operation (Cannot assign requested address)"},
		{"bind in use", BindError(&net.OpError{Op: "listen", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}),
			"Network.Socket.bind: resource busy (Address already in use)"},
		{"no errno", &IOError{Loc: "somewhere", Err: errors.New("odd")}, "somewhere: failed (odd)"},
		{"unknown errno", &IOError{Loc: "x", Err: syscall.Errno(0x7ff)}, "x: failed (Unknown error 2047)"},
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
