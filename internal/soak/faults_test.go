package soak

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/protocol"
)

// asker asks one daemon questions, one at a time.
type asker struct {
	t  *testing.T
	c  *net.UDPConn
	to netip.AddrPort
	n  atomic.Int64
}

func newAsker(t *testing.T, to netip.AddrPort) *asker {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &asker{t: t, c: c, to: to}
}

// master asks CLUSTER_MASTER with key and returns the reply, or false
// after 300 ms without one.
func (a *asker) master(key []byte) (protocol.Reply, bool) {
	rsalt := "f" + strconv.FormatInt(a.n.Add(1), 10)
	d := protocol.AppendRequest(nil, key, time.Now(), protocol.TypeClusterMaster, nil, rsalt)
	if _, err := a.c.WriteToUDPAddrPort(d, a.to); err != nil {
		a.t.Fatal(err)
	}
	return readReply(a.c, make([]byte, 65536), key, rsalt, 300*time.Millisecond)
}

// serial is the serial of a status-0 reply with key, -1 for a status-1
// reply, -2 for none.
func (a *asker) serial(key []byte) int64 {
	r, ok := a.master(key)
	switch {
	case !ok:
		return -2
	case r.Status != protocol.StatusOK:
		return -1
	}
	return r.Serial
}

// eventually waits up to 5 s for the serial asked with key to be want,
// and returns how long it took.
func (a *asker) eventually(key []byte, want int64, what string) time.Duration {
	a.t.Helper()
	start := time.Now()
	var got int64
	for time.Since(start) < 5*time.Second {
		if got = a.serial(key); got == want {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.t.Fatalf("%s: serial %d after 5 s, want %d", what, got, want)
	return 0
}

// steady checks that the serial asked with key stays want for d.
func (a *asker) steady(key []byte, want int64, d time.Duration, what string) {
	a.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got := a.serial(key); got != want {
			a.t.Fatalf("%s: serial %d, want %d (the last good one)", what, got, want)
		}
	}
}

// TestFaults breaks a running daemon's files and process, one fault after
// the other, and checks that it keeps answering correctly (never from a
// config it failed to load), recovers by itself once the fault is gone,
// and says what happened once in its log. It prints one line per fault.
// When the test runs as root (as CI does) the daemons run as nobody
// (dropRoot), so that config.data and hmac.key can be made unreadable to
// them.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a real daemon")
	}
	bin := testdaemon.Goconfd(t)
	key := []byte("faults-key-0123456789abcdef\n")
	v := func(n int) []byte { data, _ := version(t, n); return data }
	serial := func(n int) int64 { return int64(baseSerial + n) }
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := testdaemon.LayoutRoot(root, v(0), key); err != nil {
		t.Fatal(err)
	}
	// The daemon must not be root, or no file is unreadable to it.
	as := dropRoot(t, bin, dir, root)
	start := func(name string) *testdaemon.Daemon {
		sub := filepath.Join(dir, name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		return testdaemon.StartT(t, testdaemon.Config{
			Bin: as.Bin, Dir: sub, Env: testdaemon.ConfdEnv(root),
			Args: testdaemon.ConfdArgs, Ready: testdaemon.PingProbe(key),
			Prepare: as.Prepare,
		})
	}
	d := start("first")
	if uid := procStatus(t, d.Pid(), "Uid"); as.Prepare != nil && uid != nobody {
		t.Fatalf("the daemon runs as uid %d, want %d", uid, nobody)
	}
	a := newAsker(t, d.Addr)
	cfg := filepath.Join(root, testdaemon.ConfigRel)
	keyPath := filepath.Join(root, testdaemon.KeyRel)
	logCount := func(s string) int { return strings.Count(d.Output(), s) }
	report := func(format string, args ...any) { fmt.Printf("fault: "+format+"\n", args...) }
	writeAtomic := func(path string, data []byte) {
		if err := testdaemon.ReplaceFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	a.eventually(key, serial(0), "start")

	// config.data truncated mid-write (in place), then completed.
	failed := logCount("config failed to load")
	full := v(1)
	if err := os.WriteFile(cfg, full[:len(full)/2], 0o640); err != nil {
		t.Fatal(err)
	}
	a.steady(key, serial(0), 500*time.Millisecond, "truncated")
	if err := os.WriteFile(cfg, full, 0o640); err != nil {
		t.Fatal(err)
	}
	took := a.eventually(key, serial(1), "completed")
	report("config.data truncated mid-write for 500 ms: last good served throughout, %d log line, completed file served after %v",
		logCount("config failed to load")-failed, took.Round(time.Millisecond))
	if n := logCount("config failed to load") - failed; n != 1 {
		t.Errorf("truncated file: %d log lines, want 1", n)
	}

	// Garbage, then a good version.
	failed = logCount("config failed to load")
	writeAtomic(cfg, []byte("\x00\x01 this is not JSON {"))
	a.steady(key, serial(1), 500*time.Millisecond, "garbage")
	writeAtomic(cfg, v(2))
	took = a.eventually(key, serial(2), "after garbage")
	report("config.data replaced by garbage: last good served, %d log line, next good version served after %v", logCount("config failed to load")-failed, took.Round(time.Millisecond))
	if n := logCount("config failed to load") - failed; n != 1 {
		t.Errorf("garbage: %d log lines, want 1", n)
	}

	// Unreadable, then readable again (the same content: nothing new to
	// serve).
	report("the daemon runs as %s", as.User)
	failed = logCount("config failed to load")
	if err := os.Chmod(cfg, 0); err != nil {
		t.Fatal(err)
	}
	a.steady(key, serial(2), 1500*time.Millisecond, "unreadable")
	if err := os.Chmod(cfg, 0o640); err != nil {
		t.Fatal(err)
	}
	a.steady(key, serial(2), 200*time.Millisecond, "readable again")
	report("config.data unreadable for 1.5 s: last good served, %d log line", logCount("config failed to load")-failed)
	if n := logCount("config failed to load") - failed; n != 1 {
		t.Errorf("unreadable config.data: %d log lines, want 1:\n%s", n, d.Tail(10))
	}
	if !strings.Contains(d.Output(), "permission denied") {
		t.Errorf("the log does not say why config.data could not be read:\n%s", d.Tail(10))
	}

	// Deleted: status 1 for every request, as Ganeti; re-created: served.
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	took = a.eventually(key, -1, "deleted")
	writeAtomic(cfg, v(3))
	took2 := a.eventually(key, serial(3), "re-created")
	report("config.data deleted: status 1 after %v (as Ganeti); re-created: served after %v", took.Round(time.Millisecond), took2.Round(time.Millisecond))

	// hmac.key changed, removed, emptied.
	newKey := []byte("faults-key-rotated-abcdef\n")
	keyLines := logCount("keeping the last good key")
	writeAtomic(keyPath, newKey)
	// A request sent within microseconds of the rename would race the
	// daemon's reading of the new key, and cost the asker a timeout.
	time.Sleep(20 * time.Millisecond)
	took = 20*time.Millisecond + a.eventually(newKey, serial(3), "new key")
	if got := a.serial(key); got != -2 {
		t.Errorf("the old key still gets answers (%d)", got)
	}
	report("hmac.key changed: the new key answered after %v, the old one gets nothing", took.Round(time.Millisecond))
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	a.steady(newKey, serial(3), 500*time.Millisecond, "key removed")
	writeAtomic(keyPath, nil)
	a.steady(newKey, serial(3), 500*time.Millisecond, "key empty")
	report("hmac.key removed, then emptied: the last good key kept; %d log lines", logCount("keeping the last good key")-keyLines)
	if n := logCount("keeping the last good key") - keyLines; n < 1 || n > 2 {
		t.Errorf("key faults: %d log lines, want one per fault", n)
	}
	writeAtomic(keyPath, key)
	a.eventually(key, serial(3), "key restored")
	// Unreadable, then readable again.
	keyLines = logCount("keeping the last good key")
	if err := os.Chmod(keyPath, 0); err != nil {
		t.Fatal(err)
	}
	a.steady(key, serial(3), 500*time.Millisecond, "key unreadable")
	if err := os.Chmod(keyPath, 0o440); err != nil {
		t.Fatal(err)
	}
	a.steady(key, serial(3), 200*time.Millisecond, "key readable again")
	report("hmac.key unreadable for 0.5 s: the last good key kept; %d log line", logCount("keeping the last good key")-keyLines)
	if n := logCount("keeping the last good key") - keyLines; n != 1 {
		t.Errorf("unreadable hmac.key: %d log lines, want 1:\n%s", n, d.Tail(10))
	}

	// SIGSTOP, then SIGCONT.
	if err := d.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // kill returns before every thread has stopped
	if got := a.serial(key); got != -2 {
		t.Errorf("a stopped daemon answered (%d)", got)
	}
	time.Sleep(time.Second)
	if err := d.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	took = a.eventually(key, serial(3), "after SIGCONT")
	report("SIGSTOP for 1.35 s, then SIGCONT: answering again after %v", took.Round(time.Millisecond))

	// SIGKILL, then a restart on the same files (stale pid file).
	if err := d.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.Done()
	restart := time.Now()
	d2 := start("restarted")
	took = time.Since(restart)
	a2 := newAsker(t, d2.Addr)
	a2.eventually(key, serial(3), "after restart")
	report("SIGKILL, then restart on the same root: first answer %v after the start", took.Round(time.Millisecond))
	// A start-up with hmac.key unreadable: refused, with the reason, as
	// with a missing key (docs/compatibility.md). The running daemon
	// holds the pid file's lock: stopped first.
	d2.Stop()
	if err := os.Chmod(keyPath, 0); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "unreadable-key")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	d3, err := testdaemon.Start(testdaemon.Config{
		Bin: as.Bin, Dir: sub, Env: testdaemon.ConfdEnv(root),
		Args: testdaemon.ConfdArgs, Ready: testdaemon.PingProbe(key),
		Prepare: as.Prepare, Attempts: 1,
	})
	if err == nil {
		d3.Stop()
		t.Fatal("a daemon started with hmac.key unreadable")
	}
	if !errors.Is(err, testdaemon.ErrExited) || !strings.Contains(err.Error(), testdaemon.KeyRel+": openBinaryFile: permission denied") {
		t.Errorf("start-up with hmac.key unreadable: %v; want an exit naming the file and the reason", err)
	}
	report("start-up with hmac.key unreadable: refused (%s)", strings.ReplaceAll(lastLine(err.Error()), root, "$GANETI_ROOTDIR"))
	if err := os.Chmod(keyPath, 0o440); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d.Output()+d2.Output(), "panic") {
		t.Errorf("a panic in the log")
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
