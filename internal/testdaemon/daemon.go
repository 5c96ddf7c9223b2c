package testdaemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Default bounds of Config.
const (
	DefaultReadyTimeout = 20 * time.Second
	DefaultStopTimeout  = 5 * time.Second
	DefaultAttempts     = 3
	// probeInterval separates two probes that did not get an answer
	// quickly.
	probeInterval = 20 * time.Millisecond
)

// ErrExited means the daemon ended before it was ready.
var ErrExited = errors.New("exited")

// ErrNotReady means "ask again" when a Probe returns it (wrapped).
var ErrNotReady = errors.New("not ready")

// Probe asks a daemon at addr once whether it is ready, within ctx: nil
// when it is, an error wrapping ErrNotReady to be asked again, any other
// error to give up.
type Probe func(ctx context.Context, addr netip.AddrPort) error

// Config says how to start a daemon.
type Config struct {
	// Bin is the program.
	Bin string
	// Args returns the arguments for the loopback port the daemon is to
	// bind.
	Args func(port uint16) []string
	// Dir is the working directory; the output goes to Dir/daemon.out
	// unless Log says otherwise. It must exist.
	Dir string
	// Log is the file that receives stdout and stderr (default
	// Dir/daemon.out).
	Log string
	// Env is the environment (nil: the test's).
	Env []string
	// Ready tells when the daemon is ready; nil means as soon as it
	// runs (the port's reservation ends then, so a daemon that binds the
	// port needs a probe).
	Ready Probe
	// ReadyTimeout bounds the wait for Ready (default
	// DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// StopTimeout bounds each wait of Stop (default DefaultStopTimeout).
	StopTimeout time.Duration
	// Attempts is how many ports are tried when the daemon exits before
	// it is ready (default DefaultAttempts).
	Attempts int
	// Prepare, if set, adjusts the command just before it starts: to run
	// the daemon as another user, for one, with a Credential in its
	// SysProcAttr, which is set already (add to it, do not replace it).
	Prepare func(*exec.Cmd)
}

// Daemon is a started process.
type Daemon struct {
	// Addr is the loopback address and port it was told to bind.
	Addr netip.AddrPort
	// Log is the file with its stdout and stderr.
	Log string
	// Ready is the time from the start until Ready said yes.
	Ready time.Duration

	cmd         *exec.Cmd
	done        chan struct{}
	err         error
	stopTimeout time.Duration
}

// Start starts the daemon on a reserved loopback port (ReservePort) and
// waits until it is ready, trying another port when it exits before that. On error no
// process is left running; the error holds the end of the daemon's
// output.
func Start(cfg Config) (*Daemon, error) {
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.Log == "" {
		cfg.Log = filepath.Join(cfg.Dir, "daemon.out")
	}
	var lastErr error
	for range cfg.Attempts {
		res, err := ReservePort()
		if err != nil {
			return nil, err
		}
		d, err := startOnce(cfg, res.Port)
		// Ready (or gone): the daemon has bound the port, or will not.
		res.Close()
		if err == nil || !errors.Is(err, ErrExited) {
			return d, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// StartT is Start for one test: it fails the test on error and stops the
// daemon when the test ends.
func StartT(t testing.TB, cfg Config) *Daemon {
	t.Helper()
	d, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d
}

func startOnce(cfg Config, port uint16) (*Daemon, error) {
	f, err := os.Create(cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Bin, err)
	}
	defer f.Close()
	var args []string
	if cfg.Args != nil {
		args = cfg.Args(port)
	}
	cmd := exec.Command(cfg.Bin, args...)
	cmd.Dir = cfg.Dir
	cmd.Env = cfg.Env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childProcAttr()
	if cfg.Prepare != nil {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = new(syscall.SysProcAttr)
		}
		cfg.Prepare(cmd)
	}
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Bin, err)
	}
	d := &Daemon{
		Addr: netip.AddrPortFrom(Loopback, port), Log: cfg.Log,
		cmd: cmd, done: make(chan struct{}), stopTimeout: cfg.StopTimeout,
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	began := time.Now()
	if err := d.WaitReady(cfg.Ready, cfg.ReadyTimeout); err != nil {
		d.Stop()
		return nil, fmt.Errorf("%s on %v: %w\n%s", cfg.Bin, d.Addr, err, d.Tail(2000))
	}
	d.Ready = time.Since(began)
	return d, nil
}

// WaitReady asks probe until it says the daemon is ready, the daemon
// exits (an error wrapping ErrExited), or timeout passes. A nil probe is
// ready at once.
func (d *Daemon) WaitReady(probe Probe, timeout time.Duration) error {
	return WaitReady(probe, d.Addr, d.done, timeout)
}

// WaitReady asks probe about addr until it says yes, exited is closed
// (an error wrapping ErrExited), or timeout passes; for daemons that
// Start did not start. A nil probe is ready at once; exited may be nil.
func WaitReady(probe Probe, addr netip.AddrPort, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		select {
		case <-exited:
			return ErrExited
		default:
		}
		if probe == nil {
			return nil
		}
		err := probe(ctx, addr)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, ErrNotReady):
			return err
		}
		last = err
		select {
		case <-exited:
			return ErrExited
		case <-ctx.Done():
			return fmt.Errorf("not ready within %v: %w", timeout, last)
		case <-time.After(probeInterval):
		}
	}
}

// Done is closed when the process has exited.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Alive reports whether the process still runs.
func (d *Daemon) Alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// Err is the process's exit error, valid once Done is closed.
func (d *Daemon) Err() error { return d.err }

// Pid is the process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Signal sends sig to the process.
func (d *Daemon) Signal(sig os.Signal) error {
	if err := d.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signalling %d: %w", d.Pid(), err)
	}
	return nil
}

// Stop ends the process: SIGTERM, then SIGKILL after the stop timeout.
// It waits a bounded time and is safe to call more than once.
func (d *Daemon) Stop() {
	if !d.Alive() {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return
	case <-time.After(d.stopTimeout):
	}
	_ = d.cmd.Process.Kill()
	select {
	case <-d.done:
	case <-time.After(d.stopTimeout):
	}
}

// Output returns everything the daemon wrote so far.
func (d *Daemon) Output() string {
	p, err := os.ReadFile(d.Log)
	if err != nil {
		return ""
	}
	return string(p)
}

// Tail returns the last n bytes of the daemon's output under a header
// naming the file, for error messages.
func (d *Daemon) Tail(n int) string {
	p := d.Output()
	if len(p) > n {
		p = p[len(p)-n:]
	}
	return "--- output (" + d.Log + ") ---\n" + p
}
