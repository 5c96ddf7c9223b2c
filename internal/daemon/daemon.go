package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
)

// ExitInterrupted is the status of a daemon stopped by SIGINT; main
// should then end by RaiseInterrupt, as Ganeti's runtime dies by the
// signal after its orderly shutdown.
const ExitInterrupted = 130

// Config says how a daemon starts.
type Config struct {
	// LogFile and PidFile are Paths.LogFile and Paths.PidFile.
	LogFile string
	PidFile string
	// Debug logs at DEBUG instead of INFO.
	Debug bool
	// Syslog is the --syslog setting.
	Syslog SyslogUsage
	// Foreground is -f. Without it, Start must run in the detached child
	// (see Detach).
	Foreground bool
	// Stderr is the foreground daemon's standard error: its log lines
	// go there as well as to the log file, and so do its start-up
	// errors.
	Stderr io.Writer

	// dialSyslog replaces the connection to the system logger in tests.
	dialSyslog func(tag string) (syslogConn, error)
}

// Daemon is a started daemon: its log, its pid file, its signals and,
// when detached, the parent waiting for its report. The start-up and
// shutdown sequence is Ganeti's (genericMain, fullPrep and innerMain in
// src/Ganeti/Daemon.hs):
//
//	d, err := daemon.Start(ctx, cfg)  // log file, syslog, pid file, "daemon startup"
//	if err != nil {
//		return d.Fail(err)            // "Error when starting the daemon process: ..."
//	}
//	... bind, load ...                 // errors: d.Fail
//	... read the key ...               // errors: d.Stop
//	d.Ready()                          // the parent exits 0; systemd hears READY=1
//	... serve until d.Context() ends   // SIGTERM or SIGINT
//	return d.Stop(err)                 // pid file removed, "daemon shutdown"
type Daemon struct {
	// Log is the daemon's logger: Ganeti's line format, to the log file
	// (and stderr in the foreground), and to syslog if asked.
	Log *slog.Logger

	cfg     Config
	child   *child
	logFile *LogFile
	syslog  syslogConn
	pid     *PidFile

	ctx         context.Context
	cancel      context.CancelFunc
	sigs        chan os.Signal
	sigDone     chan struct{}
	sigWG       sync.WaitGroup
	interrupted atomic.Bool
	closeOnce   sync.Once
}

// Start does what Ganeti's daemons do after their checks: in a detached
// child, finish detaching (umask 077, "/", log file as stdout and
// stderr); open the log file and syslog as --syslog says; create and
// lock the pid file; log "ganeti-confd daemon startup"; and handle
// SIGTERM and SIGINT (the end of Context) and SIGHUP (Reopen).
//
// Start always returns a Daemon, on error too: pass the error to its
// Fail.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.dialSyslog == nil {
		cfg.dialSyslog = dialSyslog
	}
	d := &Daemon{cfg: cfg, child: takeChild()}
	d.ctx, d.cancel = context.WithCancel(ctx)
	if !cfg.Foreground && d.child == nil {
		return d, errors.New("starting in the background without detaching first (see Detach)")
	}
	if d.child != nil {
		if err := becomeDaemon(); err != nil {
			return d, err
		}
	}

	// The outputs of Ganeti's setupLogging: a detached daemon logs to its
	// stderr, which is the log file; one in the foreground logs to the
	// log file (unless --syslog=only) and to stderr.
	var outputs []io.Writer
	var err error
	switch {
	case d.child != nil:
		if d.logFile, err = OpenLogFile(cfg.LogFile, true); err != nil {
			return d, err
		}
		outputs = []io.Writer{d.logFile}
	case cfg.Syslog != SyslogOnly:
		if d.logFile, err = OpenLogFile(cfg.LogFile, false); err != nil {
			return d, err
		}
		outputs = []io.Writer{d.logFile, cfg.Stderr}
	default:
		outputs = []io.Writer{cfg.Stderr}
	}
	hopts := HandlerOptions{Program: Program, Pid: os.Getpid(), Level: slog.LevelInfo, Outputs: outputs}
	if cfg.Debug {
		hopts.Level = slog.LevelDebug
	}
	d.Log = slog.New(NewHandler(hopts)) // for the error, if syslog fails
	if cfg.Syslog == SyslogYes || cfg.Syslog == SyslogOnly {
		if d.syslog, err = cfg.dialSyslog(Program); err != nil {
			return d, err
		}
		hopts.Syslog = d.syslog
		d.Log = slog.New(NewHandler(hopts))
	}

	if d.pid, err = CreatePidFile(cfg.PidFile); err != nil {
		return d, err
	}
	d.Log.Log(ctx, LevelNotice, Program+" daemon startup")

	d.sigs = make(chan os.Signal, 4)
	d.sigDone = make(chan struct{})
	signal.Notify(d.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	d.sigWG.Add(1)
	go d.handleSignals()
	return d, nil
}

// handleSignals runs until close: SIGTERM and SIGINT end Context (as
// Ganeti's handleSigTerm and the runtime's SIGINT), SIGHUP reopens the
// log file (handleSigHup).
func (d *Daemon) handleSignals() {
	defer d.sigWG.Done()
	for {
		select {
		case <-d.sigDone:
			return
		case s := <-d.sigs:
			switch s {
			case syscall.SIGHUP:
				d.Reopen()
			case syscall.SIGINT:
				d.interrupted.Store(true)
				d.cancel()
			default:
				d.cancel()
			}
		}
	}
}

// Context returns a context that ends on SIGTERM or SIGINT, or with the
// one Start was given.
func (d *Daemon) Context() context.Context { return d.ctx }

// Reopen reopens the log file, as SIGHUP asks after logrotate moved it,
// and logs that it did, in the new file. If the file cannot be opened,
// the old one stays in use and the error is logged there.
func (d *Daemon) Reopen() {
	if d.logFile != nil {
		if err := d.logFile.Reopen(); err != nil {
			d.Log.Error("reopening the log file after SIGHUP: " + err.Error())
			return
		}
	}
	d.Log.Info("Reopening log files after receiving SIGHUP")
}

// Ready says that the daemon serves: a waiting parent exits 0, and
// systemd (Type=notify) hears READY=1.
func (d *Daemon) Ready() {
	d.child.report(statusReady, "")
	d.notify(sddaemon.SdNotifyReady)
}

func (d *Daemon) notify(state string) {
	if _, err := sddaemon.SdNotify(false, state); err != nil && d.Log != nil {
		d.Log.Warn("telling systemd " + state + ": " + err.Error())
	}
}

// Fail ends a start-up that failed before the daemon could serve, as
// Ganeti's handlePrepErr: the error goes to the waiting parent, or to
// stderr in the foreground, as "Error when starting the daemon process:
// <err>", and to the log. The pid file, if this daemon created it, is
// removed (Ganeti leaves it behind). Fail returns the exit status, 1.
func (d *Daemon) Fail(err error) int {
	msg := err.Error()
	if d.child != nil {
		d.child.report(statusFailed, msg)
	} else {
		fmt.Fprintf(d.cfg.Stderr, "%s%s\n", startErrPrefix, msg)
	}
	if d.Log != nil {
		d.Log.Error(msg)
	}
	d.close()
	return 1
}

// Stop shuts the daemon down in order and returns the exit status: it
// removes the pid file and logs "ganeti-confd daemon shutdown", as
// Ganeti's innerMain does whatever ended the daemon. A non-nil err is
// why it ended: it is logged, reported to a parent still waiting (so a
// daemon that fails before Ready makes the parent exit 1, where Ganeti's
// would already have exited 0), printed to stderr in the foreground as
// Ganeti's runtime prints an uncaught error ("ganeti-confd: <err>"), and
// the status is 1. A daemon stopped by SIGINT returns ExitInterrupted,
// else 0.
func (d *Daemon) Stop(err error) int {
	d.notify(sddaemon.SdNotifyStopping)
	if err != nil {
		d.child.report(statusFailed, err.Error())
		d.Log.Error(err.Error())
	}
	if rerr := d.pid.Remove(); rerr != nil {
		d.Log.Warn("removing the pid file: " + rerr.Error())
	}
	d.Log.Log(context.Background(), LevelNotice, Program+" daemon shutdown")
	if err != nil && d.child == nil {
		fmt.Fprintf(d.cfg.Stderr, "%s: %s\n", Program, err)
	}
	d.close()
	switch {
	case err != nil:
		return 1
	case d.interrupted.Load():
		return ExitInterrupted
	}
	return 0
}

// close releases what Start acquired; it may run more than once.
func (d *Daemon) close() {
	d.closeOnce.Do(func() {
		if d.sigs != nil {
			signal.Stop(d.sigs)
			close(d.sigDone)
			d.sigWG.Wait()
		}
		d.cancel()
		if err := d.pid.Remove(); err != nil && d.Log != nil {
			d.Log.Warn("removing the pid file: " + err.Error())
		}
		// A parent still waiting learns that the daemon gave up.
		d.child.report(statusFailed, "the daemon stopped before it was ready")
		var errs []error
		if d.syslog != nil {
			errs = append(errs, d.syslog.Close())
		}
		if d.logFile != nil {
			errs = append(errs, d.logFile.Close())
		}
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(d.cfg.Stderr, "%s: closing the logs: %v\n", Program, err)
		}
	})
}
