package testdaemon

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRotateLog(t *testing.T) {
	for _, how := range LogRotations() {
		t.Run(how, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			if err := os.WriteFile(path, []byte("before\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := RotateLog(path, how); err != nil {
				t.Fatal(err)
			}
			if old, err := os.ReadFile(path + ".1"); err != nil || string(old) != "before\n" {
				t.Errorf("path.1 = %q, %v; want the old content", old, err)
			}
			cur, err := os.ReadFile(path)
			switch how {
			case RotateCreate:
				if !os.IsNotExist(err) {
					t.Errorf("log after create: %q, %v; want none", cur, err)
				}
			case RotateCopyTruncate:
				if err != nil || len(cur) != 0 {
					t.Errorf("log after copytruncate: %q, %v; want empty", cur, err)
				}
			}
		})
	}
	if err := RotateLog(filepath.Join(t.TempDir(), "log"), "shred"); err == nil {
		t.Error("an unknown rotation gave no error")
	}
}
