//go:build linux

package hs

import (
	"errors"
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
		{"pid file locked", &IOError{File: "/r/x.pid", Loc: "writing PID file; already locked?", Err: syscall.EAGAIN},
			"/r/x.pid: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"},
		{"missing file", &IOError{File: "/r/k", Loc: "openBinaryFile", Err: openMissing},
			"/r/k: openBinaryFile: does not exist (No such file or directory)"},
		{"reading a directory", &IOError{File: dir, Loc: "openFile", Err: readDir},
			dir + ": openFile: inappropriate type (is a directory)"},
		{"writing a directory", &IOError{File: dir, Loc: "openFile", Err: writeDir},
			dir + ": openFile: inappropriate type (Is a directory)"},
		{"no file", &IOError{Loc: "getFileStatus", Err: syscall.ENOENT}, "getFileStatus: does not exist (No such file or directory)"},
		{"permission", &IOError{Loc: "openFile", Err: syscall.EACCES}, "openFile: permission denied (Permission denied)"},
		{"no errno", &IOError{Loc: "somewhere", Err: errors.New("odd")}, "somewhere: failed (odd)"},
		{"nil cause", &IOError{Loc: "somewhere"}, "somewhere: failed"},
		{"unknown errno", &IOError{Loc: "x", Err: syscall.Errno(0x7ff)}, "x: failed (Unknown error 2047)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q\nwant       %q", got, tt.want)
			}
		})
	}
	if e := (&IOError{Err: syscall.ENOENT}); !errors.Is(e, syscall.ENOENT) {
		t.Errorf("IOError does not unwrap to its cause")
	}
}

func TestIsDoesNotExist(t *testing.T) {
	_, missing := os.Open(filepath.Join(t.TempDir(), "missing"))
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"missing file", missing, true},
		{"ESRCH", syscall.ESRCH, true},
		{"EACCES", syscall.EACCES, false},
		{"no errno", errors.New("odd"), false},
	}
	for _, tt := range tests {
		if got := IsDoesNotExist(tt.err); got != tt.want {
			t.Errorf("%s: IsDoesNotExist = %v, want %v", tt.name, got, tt.want)
		}
	}
}
