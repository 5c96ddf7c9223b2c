package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(key, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing", nil, 2, "usage:"},
		{"no port", []string{"--key-file", key}, 2, "usage:"},
		{"not loopback", []string{"--key-file", key, "-p", "18150", "-b", "192.0.2.1"}, 2, "usage:"},
		{"missing key", []string{"--key-file", key + ".none", "-p", "18150"}, 1, "no such file"},
		{"bad flag", []string{"--nosuch"}, 2, "not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tc.code, tc.want)
			}
		})
	}
}
