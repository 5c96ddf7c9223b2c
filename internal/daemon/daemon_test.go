//go:build linux

package daemon

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// lineBuffer is a stderr that tests can wait on.
type lineBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{changed: make(chan struct{}, 1)} }

func (l *lineBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

func (l *lineBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the buffer holds want.
func (l *lineBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for !strings.Contains(l.String(), want) {
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("no %q within %v in:\n%s", want, waitTimeout, l.String())
		}
	}
}

// nodeDirs makes var/run/ganeti and var/log/ganeti under a new root and
// returns the daemon config for it.
func nodeDirs(t *testing.T, stderr *lineBuffer) Config {
	t.Helper()
	p := NewPaths(t.TempDir())
	for _, f := range []string{p.PidFile, p.LogFile} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return Config{LogFile: p.LogFile, PidFile: p.PidFile, Foreground: true, Stderr: stderr}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// logLines returns the messages of the Ganeti log lines in s, as
// "LEVEL message".
func logLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if loc := lineRE.FindStringIndex(l); loc != nil {
			prefix := lineRE.FindStringSubmatch(l)
			out = append(out, prefix[1]+" "+strings.TrimSuffix(l[loc[1]:], "\n"))
		}
	}
	return out
}

func TestStartStop(t *testing.T) {
	defer goleak.VerifyNone(t)
	stderr := newLineBuffer()
	cfg := nodeDirs(t, stderr)
	sock := listenNotify(t)

	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(d.Fail(err))
	}
	if got := readFile(t, cfg.PidFile); got != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("pid file = %q", got)
	}
	d.Log.Info("hello", "k", 1)
	d.Ready()
	if got := sock.Next(t, waitTimeout); got != "READY=1" {
		t.Errorf("systemd heard %q, want READY=1", got)
	}
	if code := d.Stop(nil); code != 0 {
		t.Errorf("Stop = %d, want 0", code)
	}
	if got := sock.Next(t, waitTimeout); got != "STOPPING=1" {
		t.Errorf("systemd heard %q, want STOPPING=1", got)
	}
	if _, err := os.Stat(cfg.PidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file after Stop: %v", err)
	}
	want := []string{"NOTICE ganeti-confd daemon startup", "INFO hello k=1", "NOTICE ganeti-confd daemon shutdown"}
	for name, text := range map[string]string{"log file": readFile(t, cfg.LogFile), "stderr": stderr.String()} {
		if got := logLines(text); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant lines\n%s", name, text, strings.Join(want, "\n"))
		}
	}
}

// listenNotify points NOTIFY_SOCKET at a fake systemd's socket.
func listenNotify(t *testing.T) *testdaemon.NotifySocket {
	t.Helper()
	sock := testdaemon.ListenNotify(t)
	t.Setenv("NOTIFY_SOCKET", sock.Path)
	return sock
}

func TestStartFailures(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, cfg *Config)
		// want is stderr's first line, with {log} and {pid} for the paths.
		want string
		// wantLogged: the error is also in the log file.
		wantLogged bool
	}{
		{"no log directory", func(t *testing.T, cfg *Config) { os.RemoveAll(filepath.Dir(cfg.LogFile)) },
			"Error when starting the daemon process: {log}: openFile: does not exist (No such file or directory)", false},
		{"no run directory", func(t *testing.T, cfg *Config) { os.RemoveAll(filepath.Dir(cfg.PidFile)) },
			"Error when starting the daemon process: {pid}: writing PID file; already locked?: does not exist (No such file or directory)", true},
		{"pid file locked", func(t *testing.T, cfg *Config) { holdLock(t, cfg.PidFile) },
			"Error when starting the daemon process: {pid}: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)", true},
		{"no syslog", func(t *testing.T, cfg *Config) {
			cfg.Syslog = SyslogYes
			cfg.dialSyslog = func(string) (syslogConn, error) {
				return nil, &hs.IOError{Loc: "Network.Socket.sendBufTo", Err: syscall.ENOENT}
			}
		}, "Error when starting the daemon process: Network.Socket.sendBufTo: does not exist (No such file or directory)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := newLineBuffer()
			cfg := nodeDirs(t, stderr)
			tt.prepare(t, &cfg)
			d, err := Start(context.Background(), cfg)
			if err == nil {
				d.Stop(nil)
				t.Fatal("Start succeeded")
			}
			if code := d.Fail(err); code != 1 {
				t.Errorf("Fail = %d, want 1", code)
			}
			want := strings.NewReplacer("{log}", cfg.LogFile, "{pid}", cfg.PidFile).Replace(tt.want)
			if first, _, _ := strings.Cut(stderr.String(), "\n"); first != want {
				t.Errorf("stderr first line = %q\nwant %q", first, want)
			}
			msg := strings.TrimPrefix(want, startErrPrefix)
			if tt.wantLogged && !strings.Contains(readFile(t, cfg.LogFile), "ERROR "+msg) {
				t.Errorf("log file lacks the error:\n%s", readFile(t, cfg.LogFile))
			}
			if tt.name != "pid file locked" {
				if _, err := os.Stat(cfg.PidFile); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a failed start left a pid file: %v", err)
				}
			}
		})
	}
}

// TestStopWithError is a failure after start-up, such as a missing key:
// Ganeti's runtime prints it as "ganeti-confd: <error>" after the
// shutdown line.
func TestStopWithError(t *testing.T) {
	stderr := newLineBuffer()
	cfg := nodeDirs(t, stderr)
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(d.Fail(err))
	}
	code := d.Stop(ReadError("/k", syscall.ENOENT))
	if code != 1 {
		t.Errorf("Stop = %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != "ganeti-confd: /k: openBinaryFile: does not exist (No such file or directory)" {
		t.Errorf("last stderr line = %q", last)
	}
	if got := logLines(readFile(t, cfg.LogFile)); len(got) != 3 || got[1] != "ERROR /k: openBinaryFile: does not exist (No such file or directory)" ||
		got[2] != "NOTICE ganeti-confd daemon shutdown" {
		t.Errorf("log lines = %q", got)
	}
}

func TestSyslog(t *testing.T) {
	for _, usage := range []SyslogUsage{SyslogYes, SyslogOnly} {
		t.Run(string(usage), func(t *testing.T) {
			stderr := newLineBuffer()
			cfg := nodeDirs(t, stderr)
			sl := &fakeSyslog{}
			var tag string
			cfg.Syslog = usage
			cfg.Debug = true
			cfg.dialSyslog = func(t string) (syslogConn, error) { tag = t; return sl, nil }
			d, err := Start(context.Background(), cfg)
			if err != nil {
				t.Fatal(d.Fail(err))
			}
			d.Log.Debug("not for syslog")
			d.Stop(nil)
			if tag != "ganeti-confd" {
				t.Errorf("syslog tag = %q", tag)
			}
			want := []string{"notice [/NOTICE] ganeti-confd daemon startup", "notice [/NOTICE] ganeti-confd daemon shutdown"}
			if got := sl.messages(); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("syslog got %q, want %q", got, want)
			}
			if !strings.Contains(stderr.String(), "DEBUG not for syslog") {
				t.Errorf("stderr lacks the debug line:\n%s", stderr.String())
			}
			_, err = os.Stat(cfg.LogFile)
			if usage == SyslogOnly && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("--syslog=only made a log file: %v", err)
			}
			if usage == SyslogYes && err != nil {
				t.Errorf("--syslog=yes made no log file: %v", err)
			}
		})
	}
}

// TestSignals sends the test process SIGHUP, SIGTERM and SIGINT while a
// daemon handles them (os/signal then keeps them from ending the test).
func TestSignals(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("SIGHUP reopens the log, SIGTERM stops", func(t *testing.T) {
		stderr := newLineBuffer()
		cfg := nodeDirs(t, stderr)
		d, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(d.Fail(err))
		}
		if err := os.Rename(cfg.LogFile, cfg.LogFile+".1"); err != nil {
			t.Fatal(err)
		}
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		stderr.waitFor(t, "INFO Reopening log files after receiving SIGHUP")
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case <-d.Context().Done():
		case <-time.After(waitTimeout):
			t.Fatal("SIGTERM did not end the context")
		}
		if code := d.Stop(nil); code != 0 {
			t.Errorf("Stop after SIGTERM = %d, want 0", code)
		}
		if got := logLines(readFile(t, cfg.LogFile)); strings.Join(got, "|") != "INFO Reopening log files after receiving SIGHUP|NOTICE ganeti-confd daemon shutdown" {
			t.Errorf("new log file: %q", got)
		}
		if got := logLines(readFile(t, cfg.LogFile+".1")); strings.Join(got, "|") != "NOTICE ganeti-confd daemon startup" {
			t.Errorf("rotated log file: %q", got)
		}
	})
	t.Run("SIGINT stops with 130", func(t *testing.T) {
		cfg := nodeDirs(t, newLineBuffer())
		d, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(d.Fail(err))
		}
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		select {
		case <-d.Context().Done():
		case <-time.After(waitTimeout):
			t.Fatal("SIGINT did not end the context")
		}
		if code := d.Stop(nil); code != ExitInterrupted {
			t.Errorf("Stop after SIGINT = %d, want %d", code, ExitInterrupted)
		}
	})
}

// TestReopenFailure: a log directory that went away keeps the old file.
func TestReopenFailure(t *testing.T) {
	stderr := newLineBuffer()
	cfg := nodeDirs(t, stderr)
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(d.Fail(err))
	}
	defer d.Stop(nil)
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(filepath.Dir(cfg.LogFile), moved); err != nil {
		t.Fatal(err)
	}
	d.Reopen()
	if !strings.Contains(readFile(t, filepath.Join(moved, filepath.Base(cfg.LogFile))), "ERROR reopening the log file after SIGHUP: "+cfg.LogFile+": openFile: does not exist") {
		t.Errorf("old log file lacks the error")
	}
}

// TestStartNeedsDetach: a daemon without -f must have been detached.
func TestStartNeedsDetach(t *testing.T) {
	stderr := newLineBuffer()
	cfg := nodeDirs(t, stderr)
	cfg.Foreground = false
	d, err := Start(context.Background(), cfg)
	if err == nil {
		d.Stop(nil)
		t.Fatal("Start without -f in a process that did not detach succeeded")
	}
	if code := d.Fail(err); code != 1 || !strings.HasPrefix(stderr.String(), startErrPrefix) {
		t.Errorf("Fail = %d, stderr %q", code, stderr.String())
	}
}
