package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/confdtest"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// runWatch runs confd-client watch args against srv while edit changes
// srv's config once the first line is out, and returns stdout and the
// exit code.
func runWatch(t *testing.T, srv *confdtest.Server, args ...string) (string, int) {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "hmac.key")
	if err := os.WriteFile(keyFile, srv.Key, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"watch", "-a", srv.Addr.String(), "--key-file", keyFile, "--count", "2"}, args...)
	var stdout, stderr testdaemon.SyncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, full, &stdout, &stderr) }()
	// Once the serial served now is printed, change the config.
	for !strings.Contains(stdout.String(), "\n") {
		select {
		case code := <-done:
			t.Fatalf("exit %d early: %s %s", code, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := srv.Edit(nil); err != nil {
		t.Fatal(err)
	}
	code := <-done
	if stderr.Len() > 0 {
		t.Logf("stderr: %s", stderr.String())
	}
	return stdout.String(), code
}

func TestWatchCommand(t *testing.T) {
	srv := confdtest.Start(t, confdtest.Options{})
	tests := []struct {
		name string
		args []string
		want []string // substrings of each line, in order
	}{
		{"serials", nil, []string{"serial 1337 (from 127.0.0.1:", "serial 1338 (from 127.0.0.1:"}},
		{"with a type", []string{"cluster-master"}, []string{"serial", "node1.example.org", "(serial 1", "serial", "node1.example.org", "(serial 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runWatch(t, srv, tt.args...)
			if code != exitAnswered {
				t.Fatalf("exit %d, output %q", code, out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d: %q", len(lines), len(tt.want), out)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d %q lacks %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestWatchCommandJSON(t *testing.T) {
	srv := confdtest.Start(t, confdtest.Options{})
	top, _ := srv.Serial()
	out, code := runWatch(t, srv, "--json", "node-pip-list")
	if code != exitAnswered {
		t.Fatalf("exit %d, output %q", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out)
	}
	for i, l := range lines {
		var v struct {
			Serial int64  `json:"serial"`
			Mode   string `json:"mode"`
			Result struct {
				Answered bool `json:"answered"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		if v.Serial != top+int64(i) || v.Mode != "watch" || !v.Result.Answered {
			t.Errorf("line %d = %+v, want serial %d by watch, answered", i, v, top+int64(i))
		}
	}
}

func TestWatchCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"watch", "--wait", "2m"},
		{"watch", "--count", "-1"},
		{"watch", "nosuchtype"},
		{"watch", "node-role"},
		{"watch", "ping", "x", "y"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, stderr.String())
		}
	}
}
