package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/layout"
	"github.com/goconfd/goconfd/internal/sdnotify"
	"github.com/goconfd/goconfd/internal/service"
	goversion "github.com/goconfd/goconfd/internal/version"
	"github.com/goconfd/goconfd/server"
)

// version is goconfd's version, as every binary and the package report it
// (internal/version).
var version = goversion.String()

// run is the whole daemon, in Ganeti's order (docs/protocol.md §7): options,
// user checks, bind address and port, detaching, logs and pid file,
// socket, config, key, serving. It returns the process's exit status.
// Ganeti's node-name check is left out: confd does not use the name
// (docs/compatibility.md).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := daemon.Parse(args)
	if err != nil {
		var ue *daemon.UsageError
		errors.As(err, &ue)
		fmt.Fprint(stderr, ue.Text)
		if ue.WithUsage {
			fmt.Fprint(stderr, daemon.Usage(version))
		}
		return ue.Code
	}
	switch {
	case opts.Help:
		fmt.Fprint(stdout, daemon.Usage(version))
		return 0
	case opts.Version:
		fmt.Fprint(stdout, daemon.VersionText(version))
		return 0
	case opts.Completion:
		fmt.Fprint(stdout, daemon.Completion())
		return 0
	case opts.CheckConfig:
		return checkConfig(opts, getenv, stdout, stderr)
	}
	if !opts.NoUserChecks {
		if err := daemon.CheckUser(daemon.SystemAccounts{}, os.Geteuid()); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	paths, err := daemon.PathsFor(opts, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", daemon.Program, err)
		return 1
	}
	port := opts.Port
	if !opts.HasPort {
		port = layout.ServicePort(layout.ServicesFile, daemon.DefaultPort)
	}
	addr, err := daemon.BindAddr(opts.Bind, opts.HasBind, paths.PrimaryIPFamily, port)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if !opts.Foreground && !daemon.IsDetachedChild() {
		return daemon.Detach(args, stderr)
	}

	d, err := daemon.Start(ctx, daemon.Config{
		LogFile: paths.LogFile, PidFile: paths.PidFile, Debug: opts.Debug,
		Syslog: opts.SyslogUsage(), Foreground: opts.Foreground, Stderr: stderr,
	})
	if err != nil {
		return d.Fail(err)
	}
	ctx = d.Context()
	// The version in the log is the one dpkg and -V report, so a log shows
	// which build served.
	d.Log.Info(daemon.Program+" (goconfd) version "+version+" starting", "pid", os.Getpid())
	// Sockets passed by systemd (a ganeti-confd.socket unit) are served
	// instead of binding -b and -p.
	conns, err := daemon.PassedSockets()
	if err != nil {
		return d.Fail(err)
	}
	if len(conns) > 0 {
		d.Log.Info(fmt.Sprintf("using %d socket(s) passed by systemd", len(conns)))
	}
	svc, err := service.Listen(service.Config{
		Addr: addr, Port: port, Conns: conns, ConfigPath: paths.Config, KeyPath: paths.Key,
		Logger: d.Log, Debug: opts.Debug, Ready: d.Ready,
		Metrics: opts.MetricsAddress != "",
		Watch:   server.WatchConfig{Capacity: opts.WatchCapacity},
		NoWatch: opts.HasWatchCapacity && opts.WatchCapacity == 0,
	})
	if err != nil {
		return d.Fail(daemon.BindError(err))
	}
	if err := svc.Load(); err != nil {
		_ = svc.Close()
		var pe *fs.PathError // the error os.ReadFile gave, for ReadError's text
		if errors.As(err, &pe) {
			err = pe
		}
		return d.Stop(daemon.ReadError(paths.Key, err))
	}
	stopMetrics := func() {}
	if opts.MetricsAddress != "" {
		if stopMetrics, err = startMetrics(ctx, opts.MetricsAddress, svc, d.Log); err != nil {
			_ = svc.Close()
			return d.Fail(err)
		}
	}
	// systemd (Type=notify) hears STATUS= after every load and, with
	// WatchdogSec, WATCHDOG=1 while the socket loops make progress.
	live := svc.Liveness()
	notifyCtx, stopNotify := context.WithCancel(ctx)
	notified := make(chan struct{})
	go func() {
		defer close(notified)
		sdnotify.Run(notifyCtx, sdnotify.Config{Status: svc.Status, Stalled: live.Check, Logger: d.Log})
	}()
	err = svc.Serve(ctx)
	stopNotify()
	<-notified
	stopMetrics()
	return d.Stop(err)
}
