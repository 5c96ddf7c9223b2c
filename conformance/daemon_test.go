package conformance

// Starting and stopping confd daemons (the real one and goconfd, which
// share a command line) on free loopback ports.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// startTimeout bounds the wait for a daemon's first good ping reply,
	// plus startPerMB for every MB of configuration: the real server needs
	// about 12 s of a 2-core machine for the 38 MB of gen-1000x20000, more
	// while the other daemons load.
	startTimeout = 20 * time.Second
	startPerMB   = 3 * time.Second
	// stopTimeout bounds the wait after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
	// rootDir is the GANETI_ROOTDIR of a daemon, under its directory.
	// Texts that name a file (load errors) hold it; the comparison
	// replaces each daemon's root with rootPlaceholder (classify).
	rootDir = "root"
	// rootPlaceholder stands for a daemon's GANETI_ROOTDIR in compared
	// texts.
	rootPlaceholder = "$GANETI_ROOTDIR"
	// notLoaded is the real server's answer before its first attempt to
	// load the configuration (docs/protocol.md §2.6).
	notLoaded = "Configuration not yet loaded"
)

// errExited means the daemon ended before it was ready.
var errExited = errors.New("exited")

// daemon is one running confd process.
type daemon struct {
	label string // "reference" or "goconfd"
	dir   string // its working directory, absolute
	root  string // its GANETI_ROOTDIR: dir/rootDir
	lib   string // root/var/lib/ganeti
	addr  netip.AddrPort
	cmd   *exec.Cmd
	done  chan struct{} // closed when the process has exited
	err   error         // Wait's result, valid after done
	out   string        // file with its stdout and stderr
	ready time.Duration // from the start to the first good ping reply
}

// spawner starts every child process from one goroutine locked to its OS
// thread, which stays alive until the suite stops: Linux delivers the
// parent-death signal (see procattr_linux_test.go) when the thread that
// forked a child exits, so the children die with the test binary even when
// it panics or times out, and not before.
type spawner struct {
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread()
		// Deliberately never unlocked: when the channel closes every
		// child has been stopped, and the thread may go with the
		// goroutine.
		for r := range s.reqs {
			r.errc <- r.cmd.Start()
		}
	}()
	return s
}

func (s *spawner) start(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	s.reqs <- spawnReq{cmd, errc}
	return <-errc
}

func (s *spawner) close() { close(s.reqs) }

// freePort returns a UDP port on 127.0.0.1 that was free a moment ago
// (bound to port 0 and released). The real daemon sets SO_REUSEADDR and
// would share a busy port silently, so the port is picked this way, as
// start-ref.sh checks it.
func freePort() (uint16, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
}

// layoutRoot prepares a GANETI_ROOTDIR as start-ref.sh does: config.data
// and hmac.key in var/lib/ganeti, and empty var/run/ganeti and
// var/log/ganeti for the pid file and the log.
func layoutRoot(root string, config, key []byte) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	lib := filepath.Join(root, "var", "lib", "ganeti")
	for _, d := range []string{lib, filepath.Join(root, "var", "run", "ganeti"), filepath.Join(root, "var", "log", "ganeti")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(lib, "config.data"), config, 0o640); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(lib, "hmac.key"), key, 0o400)
}

// startDaemon lays out dir/rootDir, starts bin on a free port with the
// common confd command line and waits until it answers a ping with status
// 0, or with refused, with the error of a configuration that failed to
// load.
func (s *suite) startDaemon(label, bin, dir string, config []byte, refused bool) (*daemon, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := layoutRoot(filepath.Join(dir, rootDir), config, s.key); err != nil {
		return nil, fmt.Errorf("laying out %s: %w", dir, err)
	}
	timeout := startTimeout + time.Duration(len(config)>>20)*startPerMB
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("picking a port: %w", err)
		}
		d, err := s.startOnce(label, bin, dir, port, refused, timeout)
		if err == nil || !errors.Is(err, errExited) {
			return d, err
		}
		// The port may have been taken between freePort and the bind.
		lastErr = err
	}
	return nil, lastErr
}

func (s *suite) startOnce(label, bin, dir string, port uint16, refused bool, timeout time.Duration) (*daemon, error) {
	out := filepath.Join(dir, "daemon.out")
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, "-f", "-b", "127.0.0.1", "-p", strconv.Itoa(int(port)), "--no-user-checks")
	cmd.Dir = dir
	root := filepath.Join(dir, rootDir)
	cmd.Env = daemonEnv(root)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childProcAttr()
	if err := s.spawn.start(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	d := &daemon{
		label: label, dir: dir, root: root, lib: filepath.Join(root, "var", "lib", "ganeti"),
		cmd: cmd, out: out, done: make(chan struct{}),
		addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	s.track(d)
	began := time.Now()
	if err := s.waitReady(d, refused, timeout); err != nil {
		d.stop()
		return nil, fmt.Errorf("%s %s on %v: %w\n%s", label, bin, d.addr, err, d.tail())
	}
	d.ready = time.Since(began)
	return d, nil
}

// daemonEnv is the environment of both daemons: the test's, with
// GANETI_ROOTDIR, GANETI_HOSTNAME (so that the real server never resolves
// the machine's name) and a UTF-8 locale, which the real server reads
// config.data with (docs/compatibility.md), whatever the caller's locale.
func daemonEnv(root string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_") || strings.HasPrefix(k, "GANETI_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG=C.UTF-8", "GANETI_ROOTDIR="+root, "GANETI_HOSTNAME=localhost")
}

// waitReady pings d until it answers with status 0 (with refused: with
// status 1 and the error of a failed load), the process exits, or timeout
// passes. Each ping waits at most 100 ms for its reply.
func (s *suite) waitReady(d *daemon, refused bool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ping := &Spec{Name: "ready"}
	var last string
	for {
		select {
		case <-d.done:
			return fmt.Errorf("%w: %v", errExited, d.err)
		case <-ctx.Done():
			if last != "" {
				return fmt.Errorf("no good ping reply within %v; last reply %s", timeout, last)
			}
			return fmt.Errorf("no ping reply within %v", timeout)
		default:
		}
		b, err := ping.build(time.Now(), s.key, newRsalt())
		if err != nil {
			return err
		}
		p, err := roundTrip(d.addr, b.datagram, 100*time.Millisecond)
		if err != nil || p == nil {
			continue
		}
		r := parseReply(p, s.key, true)
		last = fmt.Sprintf("%q", clip(string(p), 400))
		if !r.hmacOK || r.inErr != "" {
			continue
		}
		ok := jsonEqual(r.member("status"), jsonNumber(0))
		if text, isText := r.member("answer").(string); !ok && isText && text == notLoaded {
			time.Sleep(20 * time.Millisecond)
			continue // still loading
		}
		switch {
		case ok && !refused:
			return nil
		case !ok && refused:
			return nil
		case refused:
			return fmt.Errorf("the configuration loaded although it should have been refused: %s", last)
		default:
			return fmt.Errorf("the configuration did not load: %s", last)
		}
	}
}

// roundTrip sends one datagram to addr and returns the first reply, or nil
// after timeout.
func roundTrip(addr netip.AddrPort, p []byte, timeout time.Duration) ([]byte, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(p, addr); err != nil {
		return nil, err
	}
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if from.Port() == addr.Port() {
			return bytes.Clone(buf[:n]), nil
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL after stopTimeout. It waits
// a bounded time and is safe to call twice.
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
	case <-time.After(stopTimeout):
	}
	_ = d.cmd.Process.Kill()
	select {
	case <-d.done:
	case <-time.After(stopTimeout):
	}
}

// alive reports whether the process still runs.
func (d *daemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// tail returns the end of the daemon's output, for error messages.
func (d *daemon) tail() string {
	p, err := os.ReadFile(d.out)
	if err != nil {
		return ""
	}
	const n = 2000
	if len(p) > n {
		p = p[len(p)-n:]
	}
	return "--- " + d.label + " output (" + d.out + ") ---\n" + string(p)
}
