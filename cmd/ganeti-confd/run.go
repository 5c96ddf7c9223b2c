package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/droplog"
	goversion "github.com/goconfd/goconfd/internal/version"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// version is goconfd's version, as every binary and the package report it
// (internal/version).
var version = goversion.String()

// servicesFile is the services database searched for the default port.
const servicesFile = "/etc/services"

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
		port = daemon.ServicePort(servicesFile, daemon.DefaultPort)
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
	pipe := server.NewPipeline()
	// Refusals are logged in Ganeti's words within a budget, and with
	// -d the requests and replies too (docs/compatibility.md).
	drops := droplog.New(droplog.Config{Logger: d.Log})
	defer drops.Close()
	scfg := server.Config{Addr: addr, Port: port, Handler: pipe, Logger: d.Log, Ready: d.Ready, Drops: drops}
	if opts.Debug {
		scfg.Answers = drops
	}
	srv, err := server.New(scfg)
	if err == nil {
		err = srv.Listen()
	}
	if err != nil {
		return d.Fail(daemon.BindError(err))
	}
	// The watcher publishes the config and the key and keeps both
	// current. Unlike Ganeti 3.0, the key is read before the daemon
	// reports that it is ready: a missing key makes the starting command
	// fail.
	watcher := reload.New(reload.Config{
		Path: paths.Config, Publish: pipe.SetState,
		KeyPath: paths.Key, PublishKey: pipe.SetKey,
		Logger: d.Log,
	})
	if err := watcher.LoadNow(); err != nil {
		srv.Close()
		var pe *fs.PathError // the error os.ReadFile gave, for ReadError's text
		if errors.As(err, &pe) {
			err = pe
		}
		return d.Stop(daemon.ReadError(paths.Key, err))
	}
	watcherCtx, stopWatcher := context.WithCancel(ctx)
	watcherDone := make(chan struct{})
	go func() {
		watcher.Run(watcherCtx)
		close(watcherDone)
	}()

	err = srv.Serve(ctx)
	drops.Close() // its last summaries, before the log closes
	stopWatcher()
	<-watcherDone
	d.Log.Info("served", "stats", fmt.Sprintf("%+v", srv.Stats()), "reload", fmt.Sprintf("%+v", watcher.Status()))
	if errors.Is(err, context.Canceled) || errors.Is(err, server.ErrClosed) {
		err = nil
	}
	return d.Stop(err)
}
