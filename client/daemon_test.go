package client

// Real servers for the tests: goconfd's daemon (built once per test
// binary) and Ganeti 3.0.2's own ganeti-confd when the reference is
// installed (../shared/reference/setup.sh).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment knobs, shared with the conformance suite.
const (
	envRequired = "GOCONFD_CONFORMANCE" // "1": a missing reference fails instead of skipping
	envBin      = "GOCONFD_BIN"         // a prebuilt goconfd binary instead of building one
	envCache    = "GANETI_REF_CACHE"    // where setup.sh unpacked the reference
	envScripts  = "GOCONFD_REF_SCRIPTS" // directory of pyquery.py
)

// Test data: the rich cluster of the conformance suite and the key of
// docs/protocol.md §1.8.
const (
	richConfig = "../config/testdata/rich.json"
	refKeyFile = "../conformance/testdata/hmac.key"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// goconfdBin returns the path of goconfd's daemon, building it on first
// use.
func goconfdBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if b := os.Getenv(envBin); b != "" {
			buildBin = b
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "goconfd-client-test-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "ganeti-confd")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", buildBin, "../cmd/ganeti-confd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building goconfd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// refCache returns the reference's cache directory.
func refCache() string {
	if c := os.Getenv(envCache); c != "" {
		return c
	}
	return "/tmp/ganeti-ref"
}

// referenceBin returns the real ganeti-confd, or skips the test when the
// reference is not installed (fails with GOCONFD_CONFORMANCE=1).
func referenceBin(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(refCache(), "root/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("the real Ganeti 3.0.2 server is not installed (%s); %s=1 requires it: run ../shared/reference/setup.sh", bin, envRequired)
		}
		t.Skipf("skipping: the real Ganeti 3.0.2 server is not installed (%s); run ../shared/reference/setup.sh, or set %s=1 to make this a failure", bin, envRequired)
	}
	return bin
}

// pyquery returns the path of pyquery.py (the real Python client), or
// skips as referenceBin does.
func pyquery(t testing.TB) string {
	t.Helper()
	referenceBin(t)
	dir := os.Getenv(envScripts)
	if dir == "" {
		dir = "../../shared/reference"
	}
	p, err := filepath.Abs(filepath.Join(dir, "pyquery.py"))
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		if os.Getenv(envRequired) == "1" {
			t.Fatalf("pyquery.py not found (%v); set %s", err, envScripts)
		}
		t.Skipf("skipping: pyquery.py not found (%v); set %s", err, envScripts)
	}
	return p
}

// daemon is a running confd process.
type daemon struct {
	name string
	addr netip.AddrPort
	cmd  *exec.Cmd
	done chan struct{}
	out  string
}

// startDaemon runs bin as a confd on a free loopback port, with a
// GANETI_ROOTDIR holding config and key, and waits until it answers a
// ping with status 0. It stops at the end of the test.
func startDaemon(t testing.TB, name, bin, config, keyFile string) *daemon {
	t.Helper()
	root := t.TempDir()
	lib := filepath.Join(root, "var", "lib", "ganeti")
	for _, d := range []string{lib, filepath.Join(root, "var", "run", "ganeti"), filepath.Join(root, "var", "log", "ganeti")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for src, dst := range map[string]string{config: "config.data", keyFile: "hmac.key"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(lib, dst), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 3 {
		d, err := tryStart(t, name, bin, root, key)
		if err == nil {
			return d
		}
		lastErr = err // the port may have been taken in between
	}
	t.Fatalf("starting %s: %v", name, lastErr)
	return nil
}

func tryStart(t testing.TB, name, bin, root string, key []byte) (*daemon, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(root, "daemon.out")
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, "-f", "--no-user-checks", "-b", "127.0.0.1", "-p", strconv.Itoa(int(port)))
	cmd.Env = append(os.Environ(), "GANETI_ROOTDIR="+root, "GANETI_HOSTNAME=localhost")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{name: name, cmd: cmd, done: make(chan struct{}), out: out,
		addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)}
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(d.stop)
	c, err := New(Options{Key: key, Peers: []Peer{d.peer()}, Timeout: 100 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			out, _ := os.ReadFile(d.out)
			return nil, fmt.Errorf("%s exited:\n%s", name, out)
		default:
		}
		if _, err := c.Ping(context.Background()); err == nil {
			return d, nil
		} else if !errors.Is(err, ErrNoQuorum) {
			d.stop()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	d.stop()
	return nil, fmt.Errorf("%s did not answer a ping within 20 s", name)
}

func (d *daemon) peer() Peer {
	return Peer{Host: d.addr.Addr().String(), Port: d.addr.Port()}
}

// stop sends SIGTERM, then SIGKILL after 5 s.
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = d.cmd.Process.Kill()
	<-d.done
}

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago.
// (The real daemon sets SO_REUSEADDR and would share a busy port
// silently, so the port must be free, not just bindable.)
func freePort() (uint16, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
}
