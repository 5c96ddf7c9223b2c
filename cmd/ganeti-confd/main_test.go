package main

// The test binary doubles as the daemon under test: started with
// envAsDaemon=1 it runs main, so the process tests need no separate
// build, and a symlink named ganeti-confd gives it the real command name.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/protocol"
)

const (
	// envAsDaemon makes the test binary run main ("1").
	envAsDaemon = "GOCONFD_TEST_AS_DAEMON"
	// daemonLifetime ends a test daemon that a crashed or killed test
	// left behind (a detached daemon outlives its test binary).
	daemonLifetime = 2 * time.Minute
	// runTimeout bounds every command a test runs.
	runTimeout = 20 * time.Second
)

func TestMain(m *testing.M) {
	mountHelper() // returns unless this process is the mount helper
	if os.Getenv(envAsDaemon) == "1" {
		time.AfterFunc(daemonLifetime, func() {
			fmt.Fprintln(os.Stderr, "test daemon: lifetime over")
			os.Exit(3)
		})
		main()
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	testdaemon.RemoveBuilt() // the binaries the shared helper built (Goconfd, Ganeti's client)
	os.Exit(code)
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// goconfdBin returns a path named ganeti-confd that runs this test binary
// as the daemon (with daemonEnv).
func goconfdBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		var exe string
		if exe, binErr = os.Executable(); binErr != nil {
			return
		}
		if binDir, binErr = os.MkdirTemp("", "goconfd-cmd-test-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "ganeti-confd")
		binErr = os.Symlink(exe, binPath)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// daemonEnv is the environment of a daemon under test with root as
// GANETI_ROOTDIR: a confd's (testdaemon.ConfdEnv: ours, without a systemd
// notification socket, GANETI_HOSTNAME set as the reference scripts set
// it, a UTF-8 locale), with the test binary acting as the daemon, and no
// race-detector pause at exit.
func daemonEnv(root string) []string {
	return testdaemon.ConfdEnv(root, envAsDaemon+"=1", "GORACE=atexit_sleep_ms=0")
}

// node is a Ganeti root directory with the demo cluster's files.
type node struct {
	root string
	key  []byte
}

func (n *node) path(rel string) string { return filepath.Join(n.root, rel) }

const (
	pidRel    = "var/run/ganeti/ganeti-confd.pid"
	logRel    = "var/log/ganeti/conf-daemon.log"
	keyRel    = "var/lib/ganeti/hmac.key"
	familyRel = "var/lib/ganeti/ssconf_primary_ip_family"
)

// newNode lays out a root as Ganeti's ensure-dirs would: config.data
// and hmac.key in var/lib/ganeti, and var/run/ganeti and var/log/ganeti.
// It stops any daemon left running in it when the test ends.
func newNode(t testing.TB) *node {
	t.Helper()
	n := &node{root: t.TempDir(), key: []byte(examples.Key)}
	if err := testdaemon.LayoutRoot(n.root, []byte(examples.Config), n.key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.killDaemon(t) })
	return n
}

// daemonPid returns the pid in the node's pid file, 0 if none.
func (n *node) daemonPid() int {
	data, err := os.ReadFile(n.path(pidRel))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// killDaemon kills the daemon of the pid file, if it runs in this root.
func (n *node) killDaemon(t testing.TB) {
	pid := n.daemonPid()
	if pid <= 0 {
		return
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil || !bytes.Contains(env, []byte("GANETI_ROOTDIR="+n.root+"\x00")) {
		return
	}
	t.Logf("killing daemon %d left in %s", pid, n.root)
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
	waitGone(pid, runTimeout)
}

// run runs bin with args in the node and returns its exit status,
// stdout and stderr; a daemon it starts must not keep the output pipes
// open.
func (n *node) run(t testing.TB, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return n.runCmd(t, nil, bin, args...)
}

// runCmd is run with a last change to the command, by modify if not nil.
func (n *node) runCmd(t testing.TB, modify func(*exec.Cmd), bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = daemonEnv(n.root)
	cmd.Dir = n.root
	if modify != nil {
		modify(cmd)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not finish within %v; stderr:\n%s", bin, args, runTimeout, e.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", bin, err)
	}
	return code, o.String(), e.String()
}

// logLineRE matches a Ganeti log line.
var logLineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{12} \S+: ganeti-confd pid=\d+/ThreadId \d+ [A-Z]+ `)

// errorLine is the first line of stderr that is not a log line; when it
// announces more (ends in ':'), the next line too.
func errorLine(stderr string) string {
	lines := strings.Split(stderr, "\n")
	for i, l := range lines {
		if l == "" || logLineRE.MatchString(l) {
			continue
		}
		if strings.HasSuffix(l, ":") && i+1 < len(lines) {
			return l + "\n" + lines[i+1]
		}
		return l
	}
	return ""
}

// freePort returns a UDP port on 127.0.0.1 reserved for the test
// (testdaemon.ReservePortT): the daemon the test starts on it binds with
// SO_REUSEADDR and gets it, and no other test, here or in another test
// binary, is handed it meanwhile.
func freePort(t testing.TB) int {
	t.Helper()
	return int(testdaemon.ReservePortT(t))
}

// ping asks the daemon at 127.0.0.1:port once and returns the reply's
// status, waiting at most timeout.
func ping(port int, key []byte, timeout time.Duration) (protocol.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, err := testdaemon.Ping(ctx, netip.AddrPortFrom(testdaemon.Loopback, uint16(port)), key)
	return protocol.Status(r.Status), err
}

// waitAnswering pings until the daemon answers, for daemons started in
// the foreground, which have no other way to say they are ready.
func waitAnswering(t testing.TB, port int, key []byte, exited <-chan struct{}) {
	t.Helper()
	if err := testdaemon.WaitReady(testdaemon.AnswerProbe(key), netip.AddrPortFrom(testdaemon.Loopback, uint16(port)), exited, runTimeout); err != nil {
		t.Fatalf("the daemon on port %d: %v", port, err)
	}
}
