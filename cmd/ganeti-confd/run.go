package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// version is goconfd's version, set at link time with
// -ldflags "-X main.version=…".
var version = "devel"

// run is the whole daemon; it returns the process's exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := daemon.Parse(args)
	if err != nil {
		var ue *daemon.UsageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "ganeti-confd: %s\n", ue.Msg)
			if ue.Code == 2 {
				fmt.Fprint(stderr, daemon.Usage)
			}
			return ue.Code
		}
		fmt.Fprintf(stderr, "ganeti-confd: %v\n", err)
		return 1
	}
	switch {
	case opts.Help:
		fmt.Fprint(stdout, daemon.Usage)
		return 0
	case opts.Version:
		fmt.Fprintf(stdout, "ganeti-confd (goconfd) version %s\n", version)
		return 0
	}
	if err := serve(ctx, opts, getenv, stderr); err != nil {
		fmt.Fprintf(stderr, "ganeti-confd: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, opts *daemon.Options, getenv func(string) string, stderr io.Writer) error {
	if !opts.Foreground {
		return errors.New("detaching is not implemented yet; run with -f (and a supervisor such as systemd)")
	}
	if !opts.NoUserChecks {
		return errors.New("user checks are not implemented yet; run with --no-user-checks")
	}
	level := slog.LevelInfo
	if opts.Debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	paths := daemon.NewPaths(getenv("GANETI_ROOTDIR"))
	if opts.Config != "" {
		paths.Config = opts.Config
	}
	if opts.Key != "" {
		paths.Key = opts.Key
	}
	addr, err := daemon.BindAddr(opts.Bind, paths.PrimaryIPFamily)
	if err != nil {
		return err
	}
	port := opts.Port
	if !opts.HasPort {
		port = daemon.ServicePort("/etc/services", protocol.DefaultPort)
	}

	// Unlike Ganeti 3.0, read the key before serving: a missing key is a
	// start-up error, not an exit after the daemon has reported success.
	key, err := os.ReadFile(paths.Key)
	if err != nil {
		return fmt.Errorf("reading HMAC key: %w", err)
	}
	pipe := server.NewPipeline()
	pipe.SetKey(key)

	loader := reload.New(reload.Config{Path: paths.Config, Logger: log, Publish: pipe.SetState})
	loader.LoadNow()

	srv, err := server.New(server.Config{Addr: addr, Port: port, Handler: pipe, Logger: log})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("ganeti-confd serving", "addr", srv.Addr().String(), "config", paths.Config, "version", version)
	go loader.Run(ctx)
	err = srv.Serve(ctx)
	st := srv.Stats()
	log.Info("ganeti-confd daemon shutdown", "stats", fmt.Sprintf("%+v", st))
	if errors.Is(err, context.Canceled) || errors.Is(err, server.ErrClosed) {
		return nil
	}
	return err
}
