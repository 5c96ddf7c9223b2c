//go:build linux

package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestPidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ganeti-confd.pid")
	// A stale, longer pid file is replaced, not overwritten in place.
	if err := os.WriteFile(path, []byte("123456789\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := CreatePidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("pid file holds %q", got)
	}
	if p.Path() != path {
		t.Errorf("Path = %s", p.Path())
	}
	if err := p.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file still there after Remove: %v", err)
	}
	if err := p.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}

	// A new file has mode 0600 (under the usual umask).
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	p, err = CreatePidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestPidFileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ganeti-confd.pid")
	holdLock(t, path)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = CreatePidFile(path)
	want := path + ": writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"
	if err == nil || err.Error() != want {
		t.Fatalf("CreatePidFile = %v\nwant %s", err, want)
	}
	// The loser neither truncates nor removes the winner's file.
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("pid file changed from %q to %q", before, after)
	}
}

func TestPidFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "ganeti-confd.pid")
	_, err := CreatePidFile(missing)
	if want := missing + ": writing PID file; already locked?: does not exist (No such file or directory)"; err == nil || err.Error() != want {
		t.Errorf("CreatePidFile = %v\nwant %s", err, want)
	}
}

// TestPidFileRemoveKeepsOthers: if the file was replaced (deleted, and
// another daemon made a new one), Remove leaves the new one alone.
func TestPidFileRemoveKeepsOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ganeti-confd.pid")
	p, err := CreatePidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if err := os.WriteFile(path, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "1\n" {
		t.Errorf("another daemon's pid file = %q, %v", got, err)
	}
}
