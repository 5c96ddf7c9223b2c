package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"-h"}, 0, "Usage: ganeti-confd", ""},
		{"version", []string{"-V"}, 0, "ganeti-confd (goconfd) version", ""},
		{"unknown option", []string{"--nosuch"}, 2, "", "ganeti-confd: unrecognized option `--nosuch'"},
		{"positional", []string{"-f", "x"}, 1, "", "ganeti-confd: This program doesn't take any arguments"},
		{"bad port", []string{"-p", "x"}, 1, "", `ganeti-confd: Invalid port value "x"`},
		{"bad bind", []string{"-f", "--no-user-checks", "-b", "localhost"}, 1, "", "ganeti-confd: parsing bind address: Invalid address localhost"},
		{"no detaching yet", []string{"--no-user-checks"}, 1, "", "ganeti-confd: detaching is not implemented yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, func(string) string { return t.TempDir() }, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want prefix %q", stdout.String(), tt.wantStdout)
			}
			if first, _, _ := strings.Cut(stderr.String(), "\n"); !strings.HasPrefix(first, tt.wantStderr) {
				t.Errorf("stderr first line = %q, want prefix %q", first, tt.wantStderr)
			}
		})
	}
}

// layout makes a Ganeti root with the demo cluster's files.
func layout(t *testing.T, withKey bool) (root string, key []byte) {
	t.Helper()
	root = t.TempDir()
	dir := filepath.Join(root, "var/lib/ganeti")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../../examples/config.data")
	if err != nil {
		t.Fatal(err)
	}
	key, err = os.ReadFile("../../examples/hmac.key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.data"), cfg, 0o640); err != nil {
		t.Fatal(err)
	}
	if withKey {
		if err := os.WriteFile(filepath.Join(dir, "hmac.key"), key, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	return root, key
}

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func TestRunMissingKey(t *testing.T) {
	root, _ := layout(t, false)
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-f", "--no-user-checks", "-b", "127.0.0.1", "-p", "0"},
		func(k string) string { return map[string]string{"GANETI_ROOTDIR": root}[k] }, &bytes.Buffer{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "reading HMAC key") {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}

// TestRunServes starts the daemon on the demo cluster under a
// GANETI_ROOTDIR, asks it, and stops it as SIGTERM would.
func TestRunServes(t *testing.T) {
	root, key := layout(t, true)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"-f", "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(port)},
			func(k string) string { return map[string]string{"GANETI_ROOTDIR": root}[k] }, &bytes.Buffer{}, &stderr)
	}()
	conn, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ask until the daemon is up (bounded).
	deadline := time.Now().Add(10 * time.Second)
	var r protocol.Reply
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no answer; daemon said: %s", stderr.String())
		}
		rsalt := "r" + strconv.Itoa(i)
		conn.Write(protocol.AppendRequest(nil, key, time.Now(), protocol.TypeClusterMaster, nil, rsalt))
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 65536)
		n, err := conn.Read(buf)
		if err != nil {
			continue
		}
		if r, err = protocol.ParseReply(buf[:n], key, rsalt); err != nil {
			t.Fatal(err)
		}
		break
	}
	if r.Status != protocol.StatusOK || string(tjson.Marshal(&r.Answer)) != `"node1.example.org"` {
		t.Errorf("cluster master = %d %s", r.Status, tjson.Marshal(&r.Answer))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after shutdown; stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("daemon did not stop")
	}
	if !strings.Contains(stderr.String(), "ganeti-confd daemon shutdown") {
		t.Errorf("no shutdown line in %q", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer the daemon's logger and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
