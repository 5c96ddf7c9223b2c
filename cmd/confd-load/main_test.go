package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/version"
)

// run is runContext without a way to stop early, for the tests.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if err := os.WriteFile(key, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"nothing", nil, "--key-file is required"},
		{"no key", []string{"ping"}, "--key-file is required"},
		{"no type", []string{"--key-file", key}, "a request TYPE or --mix FILE is required"},
		{"type and mix", []string{"--key-file", key, "--mix", "m.json", "ping"}, "not both"},
		{"too many", []string{"--key-file", key, "ping", "a", "b"}, "too many arguments"},
		{"unknown type", []string{"--key-file", key, "nosuch"}, "unknown request type"},
		{"bad duration", []string{"--key-file", key, "-d", "0s", "ping"}, "must be positive"},
		{"ramp without rate", []string{"--key-file", key, "--ramp", "ping"}, "--ramp needs --rate"},
		{"unknown flag", []string{"--nosuch"}, "flag provided but not defined"},
		{"remote", []string{"--key-file", key, "-s", "192.0.2.1:1814", "ping"}, "not on loopback"},
		{"no port", []string{"--key-file", key, "-s", "127.0.0.1:0", "ping"}, "no port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != 2 {
				t.Errorf("run(%q) = %d, want 2", tc.args, code)
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("stderr %q does not say %q", errOut.String(), tc.want)
			}
		})
	}
}

func TestHelpNamesRequiredArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-h"}, &out, &errOut); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	for _, want := range []string{"Required: --key-file", "TYPE", "--mix FILE", "-rate", "--allow-remote"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("-h does not say %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, &out, &errOut); code != 0 {
		t.Fatalf("run(--version) = %d, stderr %q", code, errOut.String())
	}
	if want := "confd-load (goconfd) version " + version.String() + "\n"; out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}

// lastJSON decodes the last line of a run's output.
func lastJSON(t *testing.T, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
}
