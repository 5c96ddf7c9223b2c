//go:build unix

package mapfile

import (
	"bytes"
	"errors"
	"hash/maphash"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		size   int
		mapped bool
	}{
		{"empty", 0, false},
		{"small", 100, false},
		{"just below", MinMapSize - 1, false},
		{"mapped", MinMapSize, true},
		{"large", 3*MinMapSize + 17, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			want := bytes.Repeat([]byte("0123456789abcdef"), tt.size/16+1)[:tt.size]
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Mapped() != tt.mapped {
				t.Errorf("Mapped() = %v, want %v", m.Mapped(), tt.mapped)
			}
			if !bytes.Equal(m.Data, want) {
				t.Errorf("content differs (%d bytes, want %d)", len(m.Data), len(want))
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if m.Data != nil {
				t.Error("Data kept after Close")
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestGuardTruncated reads a mapping whose file was truncated: each read
// that would crash the process is an ErrTruncated.
func TestGuardTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 4*MinMapSize), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Mapped() {
		t.Skip("not mapped here")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	seed := maphash.MakeSeed()
	var sink uint64
	for name, read := range map[string]func() error{
		"hash":  func() error { sink += maphash.Bytes(seed, m.Data); return nil },
		"index": func() error { sink += uint64(bytes.IndexByte(m.Data, 'y')); return nil },
		"byte":  func() error { sink += uint64(m.Data[3*MinMapSize]); return nil },
	} {
		if err := Guard(m.Data, read); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: Guard returned %v, want ErrTruncated", name, err)
		}
	}
	// Other panics go on.
	defer func() {
		if r := recover(); r != "other" {
			t.Errorf("recovered %v, want the other panic", r)
		}
	}()
	_ = Guard(m.Data, func() error { panic("other") })
}

func TestGuardPassesErrors(t *testing.T) {
	want := errors.New("mine")
	if err := Guard(nil, func() error { return want }); err != want {
		t.Errorf("Guard returned %v, want %v", err, want)
	}
}
