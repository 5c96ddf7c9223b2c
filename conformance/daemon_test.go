package conformance

// Starting and stopping confd daemons (the real one and goconfd, which
// share a command line) on reserved loopback ports, with
// internal/testdaemon.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

const (
	// startTimeout bounds the wait for a daemon's first good ping reply,
	// plus startPerMB for every MB of configuration: the real server needs
	// about 12 s of a 2-core machine for the 38 MB of gen-1000x20000, more
	// while the other daemons load, and more than 2 min on a machine at
	// load 30 (seen): the bound only matters when a daemon never answers.
	startTimeout = 20 * time.Second
	startPerMB   = 6 * time.Second
	// stopTimeout bounds the wait after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
	// rootDir is the GANETI_ROOTDIR of a daemon, under its directory.
	// Texts that name a file (load errors) hold it; the comparison
	// replaces each daemon's root with rootPlaceholder (classify).
	rootDir = "root"
	// rootPlaceholder stands for a daemon's GANETI_ROOTDIR in compared
	// texts.
	rootPlaceholder = "$GANETI_ROOTDIR"
)

// daemon is one running confd process.
type daemon struct {
	*testdaemon.Daemon
	label string // "reference" or "goconfd"
	dir   string // its working directory, absolute
	root  string // its GANETI_ROOTDIR: dir/rootDir
	lib   string // root/var/lib/ganeti
	addr  netip.AddrPort
	ready time.Duration // from the start to the first good ping reply
}

// startDaemon lays out dir/rootDir, starts bin on a reserved port with
// the common confd command line and waits until it answers a ping with
// status 0, or with refused, with the error of a configuration that
// failed to load.
func (s *suite) startDaemon(label, bin, dir string, config []byte, refused bool) (*daemon, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, rootDir)
	if err := testdaemon.LayoutRoot(root, config, s.key); err != nil {
		return nil, err
	}
	td, err := testdaemon.Start(testdaemon.Config{
		Bin: bin, Args: testdaemon.ConfdArgs, Dir: dir, Env: testdaemon.ConfdEnv(root),
		Ready:        s.readyProbe(refused),
		ReadyTimeout: startTimeout + time.Duration(len(config)>>20)*startPerMB,
		StopTimeout:  stopTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if err := td.CheckSoleOwner(); err != nil {
		td.Stop()
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	d := &daemon{
		Daemon: td, label: label, dir: dir, root: root,
		lib: filepath.Join(root, testdaemon.LibDir), addr: td.Addr, ready: td.Ready,
	}
	s.track(d)
	return d, nil
}

// readyProbe asks a daemon with the suite's own wire code (not
// testdaemon.Ping, so that a refused configuration's reply is read as
// the comparison reads it): ready on status 0 (with refused: on status 1
// and the error of a failed load); the real server's "not yet loaded" and
// a missing or unverified reply mean "ask again". Each ping waits at most
// 100 ms for its reply.
func (s *suite) readyProbe(refused bool) testdaemon.Probe {
	ping := &Spec{Name: "ready"}
	return func(_ context.Context, addr netip.AddrPort) error {
		b, err := ping.build(time.Now(), s.key, newRsalt())
		if err != nil {
			return err
		}
		p, err := roundTrip(addr, b.datagram, 100*time.Millisecond)
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("%w: no ping reply", testdaemon.ErrNotReady)
		}
		r := parseReply(p, s.key, true)
		last := fmt.Sprintf("%q", clip(string(p), 400))
		if !r.hmacOK || r.inErr != "" {
			return fmt.Errorf("%w: last reply %s", testdaemon.ErrNotReady, last)
		}
		ok := jsonEqual(r.member("status"), jsonNumber(0))
		if text, isText := r.member("answer").(string); !ok && isText && text == testdaemon.NotLoaded {
			return fmt.Errorf("%w: still loading", testdaemon.ErrNotReady)
		}
		switch {
		case ok == !refused:
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

// stop ends the process within a bounded time (testdaemon.Daemon.Stop);
// safe to call twice.
func (d *daemon) stop() { d.Stop() }

// alive reports whether the process still runs.
func (d *daemon) alive() bool { return d.Alive() }

// tail returns the end of the daemon's output, for error messages.
func (d *daemon) tail() string { return d.label + " " + d.Tail(2000) }
