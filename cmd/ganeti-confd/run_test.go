package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// env returns a getenv for run with GANETI_ROOTDIR set to root.
func env(root string) func(string) string {
	return func(k string) string { return map[string]string{"GANETI_ROOTDIR": root}[k] }
}

func TestRunInfo(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, daemon.Usage(version)},
		{[]string{"--help", "extra"}, daemon.Usage(version)},
		{[]string{"-V", "--help-completion"}, daemon.VersionText(version)},
		{[]string{"--help-completion"}, daemon.Completion()},
		{[]string{"-V", "-h"}, daemon.Usage(version)},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, env(t.TempDir()), &stdout, &stderr); code != 0 {
				t.Errorf("exit status %d", code)
			}
			if stdout.String() != tt.want || stderr.Len() != 0 {
				t.Errorf("stdout %q, stderr %q; want stdout %q", stdout.String(), stderr.String(), tt.want)
			}
		})
	}
}

// TestRunErrors checks the command-line errors in-process; the
// comparison with the real binary is in compare_linux_test.go.
func TestRunErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string // exact, {usage} for the usage text
	}{
		{"unknown option", []string{"--nosuch"}, 2, "Command line error: unrecognized option `--nosuch'\n\n{usage}"},
		{"bad port", []string{"-p", "x"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string 'x'\n"},
		{"positional", []string{"-f", "x"}, 1, "Error: This program doesn't take any arguments\n"},
		{"unknown family", []string{"-f", "--no-user-checks"}, 1, "parsing bind address: Unknown af_family value: 7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(root+"/var/lib/ganeti", 0o755)
			os.WriteFile(root+"/"+familyRel, []byte("7\n"), 0o644)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(root), &stdout, &stderr)
			want := strings.ReplaceAll(tt.wantStderr, "{usage}", daemon.Usage(version))
			if code != tt.wantCode || stderr.String() != want || stdout.Len() != 0 {
				t.Errorf("run(%q) = %d, stderr\n%s\nwant %d, stderr\n%s", tt.args, code, stderr.String(), tt.wantCode, want)
			}
		})
	}
}

// TestRunMissingKey: unlike Ganeti's, a daemon without its key stops
// before it reports that it is ready; in the foreground it says so as
// Ganeti's runtime does.
func TestRunMissingKey(t *testing.T) {
	n := newNode(t)
	os.Remove(n.path(keyRel))
	var stderr testdaemon.SyncBuffer
	code := run(context.Background(), []string{"-f", "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(freePort(t))},
		env(n.root), &bytes.Buffer{}, &stderr)
	if want := "ganeti-confd: " + n.path(keyRel) + ": openBinaryFile: does not exist (No such file or directory)"; code != 1 || errorLine(stderr.String()) != want {
		t.Fatalf("exit status %d, stderr\n%s\nwant 1 and %s", code, stderr.String(), want)
	}
	if _, err := os.Stat(n.path(pidRel)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// TestRunServes runs the daemon in-process in the foreground on the demo
// cluster, asks it, and stops it as SIGTERM would.
func TestRunServes(t *testing.T) {
	n := newNode(t)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	exited := make(chan struct{})
	var stderr testdaemon.SyncBuffer
	go func() {
		done <- run(ctx, []string{"-f", "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, env(n.root), &bytes.Buffer{}, &stderr)
		close(exited)
	}()
	waitAnswering(t, port, n.key, exited)
	if pid, _ := os.ReadFile(n.path(pidRel)); string(pid) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("pid file holds %q", pid)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d after shutdown; stderr %s", code, stderr.String())
		}
	case <-time.After(runTimeout):
		t.Fatal("daemon did not stop")
	}
	logFile, _ := os.ReadFile(n.path(logRel))
	for name, out := range map[string]string{"stderr": stderr.String(), "log file": string(logFile)} {
		if !strings.Contains(out, " NOTICE ganeti-confd daemon startup\n") || !strings.HasSuffix(out, " NOTICE ganeti-confd daemon shutdown\n") {
			t.Errorf("%s lacks the start-up or shutdown line:\n%s", name, out)
		}
	}
	if _, err := os.Stat(n.path(pidRel)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left behind: %v", err)
	}
}
