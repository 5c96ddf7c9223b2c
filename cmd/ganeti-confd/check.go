package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/reload"
)

// checkConfig is --check-config, as named-checkconf is to named: it
// loads config.data (file, or the one the layout and --config name) and
// hmac.key (--key or the layout's) the way the daemon does, binds
// nothing, writes nothing but its report, and returns 0 when both
// would serve, else 1 with each error (which names the file, and for a
// config the key at fault) on stderr.
func checkConfig(opts *daemon.Options, getenv func(string) string, stdout, stderr io.Writer) int {
	if opts.CheckFile != "" {
		opts.Config = opts.CheckFile
	}
	paths, err := daemon.PathsFor(opts, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", daemon.Program, err)
		return 1
	}
	var errs []error
	if err := checkKey(paths.Key); err != nil {
		errs = append(errs, err)
	} else {
		fmt.Fprintf(stdout, "%s: HMAC key OK\n", paths.Key)
	}
	// The daemon's own config watcher (reload.Watcher), with its logging
	// discarded, loading once and not watching (no Run): the verdict is
	// its Status after the start-up load.
	var served *config.State
	w := reload.New(reload.Config{
		Path:    paths.Config,
		Publish: func(st *config.State) { served = st },
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err := w.LoadNow(); err != nil {
		errs = append(errs, err)
	}
	switch st := w.Status(); {
	case st.Serving && served != nil && served.Snapshot != nil:
		fmt.Fprintf(stdout, "%s: OK, serial %d, cluster serial %d, %d bytes loaded in %v\n", paths.Config,
			served.Snapshot.Serial(), served.Snapshot.ClusterSerial(), st.LastLoadBytes, st.LastLoadDuration.Round(time.Microsecond))
	case st.FailingNow && st.LastError != "":
		errs = append(errs, errors.New(st.LastError))
	case st.Unavailable != "":
		errs = append(errs, errors.New(st.Unavailable))
	default:
		errs = append(errs, fmt.Errorf("%s: not loaded", paths.Config))
	}
	if len(errs) == 0 {
		return 0
	}
	for _, err := range errs {
		fmt.Fprintf(stderr, "%s: %v\n", daemon.Program, err)
	}
	return 1
}

// checkKey reads the HMAC key as the daemon does at start-up, and also
// refuses an empty one, which the running daemon would not take either.
func checkKey(path string) error {
	key, err := os.ReadFile(path)
	switch {
	case err != nil:
		return fmt.Errorf("reading HMAC key: %w", err)
	case len(key) == 0:
		return fmt.Errorf("reading HMAC key: %s: file is empty", path)
	}
	return nil
}
