package main

// Real-process tests of goconfd's daemon: detaching, the pid file and
// its lock, signals, log rotation. The daemon is this test binary run
// through a symlink named ganeti-confd (main_test.go).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// startDetached starts the daemon without -f on a free port and returns
// the port. The command returns only once the daemon serves.
func startDetached(t testing.TB, n *node, extra ...string) int {
	t.Helper()
	port := freePort(t)
	args := append([]string{"--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(port)}, extra...)
	code, stdout, stderr := n.run(t, goconfdBin(t), args...)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("starting the daemon: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	return port
}

// stopDaemon sends sig to the node's daemon and waits until it is gone.
func stopDaemon(t *testing.T, n *node, sig syscall.Signal) {
	t.Helper()
	pid := n.daemonPid()
	if pid <= 0 {
		t.Fatal("no daemon pid")
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	if !waitGone(pid, runTimeout) {
		t.Fatalf("daemon %d still runs %v after %v", pid, runTimeout, sig)
	}
}

// foreground is a daemon started with -f.
type foreground struct {
	cmd    *exec.Cmd
	port   int
	stderr *testdaemon.SyncBuffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// startForeground starts the daemon with -f and waits until it answers.
func startForeground(t *testing.T, n *node, extra ...string) *foreground {
	t.Helper()
	f := &foreground{port: freePort(t), stderr: &testdaemon.SyncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"-f", "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(f.port)}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	f.cmd = exec.CommandContext(ctx, goconfdBin(t), args...)
	f.cmd.Env = daemonEnv(n.root)
	f.cmd.Stderr = f.stderr
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		f.err = f.cmd.Wait()
		cancel()
		close(f.exited)
	}()
	t.Cleanup(func() {
		f.cmd.Process.Kill()
		<-f.exited
	})
	waitAnswering(t, f.port, n.key, f.exited)
	return f
}

// stop sends sig and waits for the exit.
func (f *foreground) stop(t *testing.T, sig syscall.Signal) *os.ProcessState {
	t.Helper()
	f.cmd.Process.Signal(sig)
	<-f.exited
	return f.cmd.ProcessState
}

// TestDetach starts the daemon as init scripts do: the command returns
// once the daemon serves (so the first query is answered), and the daemon
// is a proper daemon.
func TestDetach(t *testing.T) {
	n := newNode(t)
	// A descriptor the starting command inherits (a pipe someone reads
	// to its end, say) must not stay open in the daemon.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goconfdBin(t), "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = daemonEnv(n.root)
	cmd.ExtraFiles = []*os.File{w}
	// Output returns only when stdout's pipe closes: the daemon must
	// not hold it.
	out, err := cmd.Output()
	w.Close()
	if err != nil || len(out) != 0 {
		t.Fatalf("starting: %v, output %q", err, out)
	}
	if status, err := ping(port, n.key, runTimeout); err != nil || status != 0 {
		t.Fatalf("first query after start: status %d, %v", status, err)
	}

	pid := n.daemonPid()
	if pid <= 0 || pid == cmd.Process.Pid {
		t.Fatalf("pid file names %d (the command was %d)", pid, cmd.Process.Pid)
	}
	checks := []struct {
		what, got, want string
	}{
		{"command name", readTrim(t, fmt.Sprintf("/proc/%d/comm", pid)), "ganeti-confd"},
		{"umask", procStatus(t, pid, "Umask"), "0077"},
		{"working directory", readLink(t, pid, "cwd"), "/"},
		{"stdin", readLink(t, pid, "fd/0"), "/dev/null"},
		{"stdout", readLink(t, pid, "fd/1"), n.path(logRel)},
		{"stderr", readLink(t, pid, "fd/2"), n.path(logRel)},
		{"session", strings.Fields(readTrim(t, fmt.Sprintf("/proc/%d/stat", pid)))[5], strconv.Itoa(pid)},
		{"log file mode", fileMode(t, n.path(logRel)), "-rw-------"},
		{"pid file mode", fileMode(t, n.path(pidRel)), "-rw-------"},
		{"pid file", readTrim(t, n.path(pidRel)), strconv.Itoa(pid)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("daemon's %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	var pipeIno syscall.Stat_t
	syscall.Fstat(int(r.Fd()), &pipeIno)
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if l := readLink(t, pid, "fd/"+fd.Name()); l == fmt.Sprintf("pipe:[%d]", pipeIno.Ino) {
			t.Errorf("daemon holds the starting command's pipe as fd %s", fd.Name())
		}
	}
	stopDaemon(t, n, syscall.SIGTERM)
	if _, err := os.Stat(n.path(pidRel)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file after SIGTERM: %v", err)
	}
	log := readTrim(t, n.path(logRel))
	if !strings.Contains(log, " NOTICE ganeti-confd daemon startup\n") || !strings.HasSuffix(log, " NOTICE ganeti-confd daemon shutdown") {
		t.Errorf("log lacks the start-up or shutdown line:\n%s", log)
	}
}

// TestDetachFailures: a daemon that cannot start makes the starting
// command print Ganeti's message and exit 1, and leaves nothing behind.
func TestDetachFailures(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, n *node)
		args    []string
		want    string // {root} for the root
	}{
		{"no log directory", func(t *testing.T, n *node) { os.RemoveAll(n.path("var/log/ganeti")) }, nil,
			"Error when starting the daemon process: {root}/var/log/ganeti/conf-daemon.log: openFile: does not exist (No such file or directory)"},
		{"no run directory", func(t *testing.T, n *node) { os.RemoveAll(n.path("var/run/ganeti")) }, nil,
			"Error when starting the daemon process: {root}/var/run/ganeti/ganeti-confd.pid: writing PID file; already locked?: does not exist (No such file or directory)"},
		{"already running", func(t *testing.T, n *node) { startDetached(t, n) }, nil,
			"Error when starting the daemon process: {root}/var/run/ganeti/ganeti-confd.pid: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"},
		{"address not local", nil, []string{"-b", "192.0.2.1"},
			"Error when starting the daemon process: Network.Socket.bind: unsupported operation (Cannot assign requested address)"},
		{"no key (Ganeti 3.0.2 exits 0 here)", func(t *testing.T, n *node) { os.Remove(n.path(keyRel)) }, nil,
			"Error when starting the daemon process: {root}/var/lib/ganeti/hmac.key: openBinaryFile: does not exist (No such file or directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t)
			if tt.prepare != nil {
				tt.prepare(t, n)
			}
			holder := n.daemonPid()
			args := append([]string{"--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(freePort(t))}, tt.args...)
			code, stdout, stderr := n.run(t, goconfdBin(t), args...)
			want := strings.ReplaceAll(tt.want, "{root}", n.root) + "\n"
			if code != 1 || stdout != "" || stderr != want {
				t.Errorf("exit status %d, stdout %q, stderr\n%s\nwant 1 and\n%s", code, stdout, stderr, want)
			}
			if pid := n.daemonPid(); pid != holder {
				t.Errorf("pid file names %d, want %d", pid, holder)
			}
		})
	}
}

// TestForegroundSignals: SIGTERM is an orderly shutdown with status 0;
// SIGINT too, after which the process dies by SIGINT as Ganeti's does.
func TestForegroundSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			n := newNode(t)
			f := startForeground(t, n)
			st := f.stop(t, sig)
			ws := st.Sys().(syscall.WaitStatus)
			switch {
			case sig == syscall.SIGTERM && (!ws.Exited() || ws.ExitStatus() != 0):
				t.Errorf("after SIGTERM: %v, want exit status 0", st)
			case sig == syscall.SIGINT && (!ws.Signaled() || ws.Signal() != syscall.SIGINT):
				t.Errorf("after SIGINT: %v, want death by SIGINT", st)
			}
			if _, err := os.Stat(n.path(pidRel)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("pid file left: %v", err)
			}
			if !strings.HasSuffix(f.stderr.String(), " NOTICE ganeti-confd daemon shutdown\n") {
				t.Errorf("stderr does not end with the shutdown line:\n%s", f.stderr.String())
			}
		})
	}
}

// TestSecondInstance: the pid file's lock refuses a second daemon in the
// foreground and in the background, and the refused one leaves the
// running one's pid file alone.
func TestSecondInstance(t *testing.T) {
	n := newNode(t)
	f := startForeground(t, n)
	want := "Error when starting the daemon process: " + n.path(pidRel) +
		": writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"
	for _, args := range [][]string{{"-f"}, nil} {
		args = append(args, "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(freePort(t)))
		code, _, stderr := n.run(t, goconfdBin(t), args...)
		if code != 1 || errorLine(stderr) != want {
			t.Errorf("%q: exit status %d, stderr\n%s\nwant 1 and %s", args, code, stderr, want)
		}
	}
	if pid := n.daemonPid(); pid != f.cmd.Process.Pid {
		t.Errorf("pid file names %d, want the first daemon's %d", pid, f.cmd.Process.Pid)
	}
	if _, err := ping(f.port, n.key, runTimeout); err != nil {
		t.Errorf("first daemon stopped answering: %v", err)
	}
}

// TestLogRotation rotates the log as logrotate does, with "create"
// (rename; the daemon reopens on SIGHUP) and "copytruncate" (copy and
// truncate; appending writes go on at the new end), with the daemon in
// the foreground and detached.
func TestLogRotation(t *testing.T) {
	for _, detached := range []bool{false, true} {
		for _, name := range testdaemon.LogRotations() {
			mode := map[bool]string{false: "foreground", true: "detached"}[detached]
			t.Run(mode+"/"+name, func(t *testing.T) {
				n := newNode(t)
				var f *foreground
				if detached {
					startDetached(t, n)
				} else {
					f = startForeground(t, n)
				}
				pid := n.daemonPid()
				logPath := n.path(logRel)
				if err := testdaemon.RotateLog(logPath, name); err != nil {
					t.Fatal(err)
				}
				syscall.Kill(pid, syscall.SIGHUP)
				const reopened = " INFO Reopening log files after receiving SIGHUP\n"
				waitUntil(t, filepath.Dir(logPath), "the reopen line in the new log", func() bool {
					data, _ := os.ReadFile(logPath)
					return strings.Contains(string(data), reopened)
				})
				if detached {
					// Runtime errors would go to stderr: the new file too.
					if got := readLink(t, pid, "fd/2"); got != logPath {
						t.Errorf("stderr after SIGHUP = %s, want %s", got, logPath)
					}
				}
				if detached {
					stopDaemon(t, n, syscall.SIGTERM)
				} else {
					f.stop(t, syscall.SIGTERM)
				}
				cur, _ := os.ReadFile(logPath)
				old, _ := os.ReadFile(logPath + ".1")
				if strings.ContainsRune(string(cur), 0) {
					t.Errorf("new log has a hole:\n%q", cur)
				}
				// Lines logged around the rotation may land in either file;
				// the reopen and everything after it is in the new one.
				lines := strings.Split(strings.TrimSuffix(string(cur), "\n"), "\n")
				if !strings.Contains(string(cur), reopened) || strings.Contains(string(old), reopened) ||
					!strings.HasSuffix(lines[len(lines)-1], " NOTICE ganeti-confd daemon shutdown") {
					t.Errorf("new log =\n%s\nwant the reopen line and the shutdown line last", cur)
				}
				if !strings.Contains(string(old), " NOTICE ganeti-confd daemon startup\n") || strings.Contains(string(old), "shutdown") {
					t.Errorf("rotated log =\n%s\nwant the start-up and nothing after the rotation", old)
				}
				if f != nil && !strings.HasSuffix(f.stderr.String(), " NOTICE ganeti-confd daemon shutdown\n") {
					// Ganeti 3.0.2 sends stderr's lines to the log file after a
					// SIGHUP; goconfd keeps stderr (docs/compatibility.md).
					t.Errorf("stderr lost its lines after SIGHUP:\n%s", f.stderr.String())
				}
			})
		}
	}
}

// TestOddButValidCommandLine: Ganeti reads "-p 87537" as port 22001
// (Word16 wrap-around) and "-b 127.1" as 127.0.0.1 (inet_aton).
func TestOddButValidCommandLine(t *testing.T) {
	n := newNode(t)
	port := freePort(t)
	code, _, stderr := n.run(t, goconfdBin(t), "--no-user-checks", "-b", "127.1", "-p", strconv.Itoa(port+65536))
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if _, err := ping(port, n.key, runTimeout); err != nil {
		t.Errorf("no answer on 127.0.0.1:%d: %v", port, err)
	}
	stopDaemon(t, n, syscall.SIGTERM)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func readLink(t *testing.T, pid int, rel string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, rel))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fileMode(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().String()
}
