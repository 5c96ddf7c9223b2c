package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		args      []string
		wantErr   bool
		wantUsage bool
		wantOut   string // substring of the summary
		check     func(t *testing.T, data []byte)
	}{
		{name: "defaults", args: []string{}, wantOut: "nodes: 8 (master 1, candidate 2, drained 1, offline 1, regular 3) in 2 groups"},
		{name: "counts", args: []string{"-nodes", "12", "-instances", "30", "-groups", "3", "-links", "3"},
			wantOut: "instances: 30 with"},
		{name: "demo", args: []string{"-demo"}, wantOut: "cluster demo.example.org, master node1.example.org",
			check: func(t *testing.T, data []byte) {
				if !bytes.HasPrefix(data, []byte("{\n  \"version\": 3000000,")) {
					t.Errorf("demo output is not indented: %.40q", data)
				}
			}},
		{name: "markdown", args: []string{"-demo", "-markdown"}, wantOut: "| node1.example.org | `"},
		{name: "size", args: []string{"-size", "256K"}, wantOut: "bytes in",
			check: func(t *testing.T, data []byte) {
				if n := len(data); n < 240<<10 || n > 272<<10 {
					t.Errorf("asked for 256K, got %d bytes", n)
				}
			}},
		{name: "ipv6", args: []string{"-ipv6", "-omit-optional"}, wantOut: "(2001:db8:0:1::b)",
			check: func(t *testing.T, data []byte) {
				var doc map[string]any
				if err := json.Unmarshal(data, &doc); err != nil {
					t.Fatal(err)
				}
				if _, ok := doc["ctime"]; ok {
					t.Error("-omit-optional kept ctime")
				}
			}},
		{name: "bad flag", args: []string{"-nosuch"}, wantErr: true, wantUsage: true},
		{name: "bad size", args: []string{"-size", "big"}, wantErr: true, wantUsage: true},
		{name: "extra argument", args: []string{"x"}, wantErr: true, wantUsage: true},
		{name: "bad options", args: []string{"-links", "1"}, wantErr: true},
		{name: "unwritable", args: []string{"-o", filepath.Join(dir, "no/such/dir/config.data")}, wantErr: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "c"+string(rune('a'+i))+".data")
			args := append([]string{"-o", out}, tt.args...)
			var stdout, stderr bytes.Buffer
			err := run(args, &stdout, &stderr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run(%v) = %v, stderr %s", args, err, stderr.String())
			}
			if err != nil {
				if tt.wantUsage != errors.As(err, new(usageError)) {
					t.Errorf("run(%v) = %v; usage error %v, want %v", args, err, !tt.wantUsage, tt.wantUsage)
				}
				return
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("summary %q does not contain %q", stdout.String(), tt.wantOut)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(data) {
				t.Error("output is not JSON")
			}
			if tt.check != nil {
				tt.check(t, data)
			}
		})
	}
}

func TestRunStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-o", "-", "-instances", "3"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(stdout.Bytes()) {
		t.Errorf("-o - wrote something other than the config to stdout: %.80q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "wrote -") {
		t.Errorf("summary should go to stderr with -o -, got %q", stderr.String())
	}
}
