// Package reload keeps the served config current: it loads config.data,
// publishes a snapshot (or the reason there is none), and watches the file
// for changes.
//
// This first version polls the file's identity (inode, size, modification
// time with nanoseconds, change time) every PollInterval and reloads when
// it changes, which covers rename-over, in-place rewrites, copies and
// re-creation. A config that fails to load never replaces a good snapshot;
// a deleted config stops the answers, as in Ganeti (PROTOCOL.md §6).
package reload

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/config"
)

// PollInterval is how often the file is checked; Ganeti's own poll
// interval is the same 250 ms.
const PollInterval = 250 * time.Millisecond

// Config says what to load and where to publish it.
type Config struct {
	// Path is config.data.
	Path string
	// Publish receives every new state.
	Publish func(*config.State)
	// Logger receives one line per load outcome; nil means slog.Default().
	Logger *slog.Logger
}

// Loader loads and watches one config file.
type Loader struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex
	// seen is the identity of the file last loaded (or tried), so an
	// unchanged file is not parsed again.
	seen     fileID
	haveSeen bool
	// good is true while a snapshot is published.
	good bool
}

// fileID identifies one version of a file without reading it.
type fileID struct {
	ino, dev    uint64
	size        int64
	mtime, ctim int64
}

// New returns a Loader; nothing is loaded until LoadNow or Run.
func New(cfg Config) *Loader {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Loader{cfg: cfg, log: log}
}

// LoadNow checks the file once and reloads it if it changed.
func (l *Loader) LoadNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	fi, err := os.Stat(l.cfg.Path)
	if err != nil {
		l.haveSeen = false
		if errors.Is(err, fs.ErrNotExist) && l.good {
			l.log.Warn("config file removed; answering with errors until it returns", "path", l.cfg.Path)
		}
		l.good = false
		l.cfg.Publish(&config.State{Unavailable: config.UnavailableText(l.cfg.Path, err)})
		return
	}
	id := identify(fi)
	if l.haveSeen && id == l.seen {
		return
	}
	l.seen, l.haveSeen = id, true
	snap, err := config.Load(l.cfg.Path)
	if err != nil {
		if l.good {
			l.log.Error("config failed to load; still serving the last good one", "path", l.cfg.Path, "err", err)
			return
		}
		l.log.Error("config failed to load", "path", l.cfg.Path, "err", err)
		l.cfg.Publish(&config.State{Unavailable: config.UnavailableText(l.cfg.Path, err)})
		return
	}
	l.good = true
	l.cfg.Publish(&config.State{Snapshot: snap})
	l.log.Info("Loaded new config", "serial", snap.Serial(), "cluster_serial", snap.ClusterSerial())
}

func identify(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ino, id.dev = st.Ino, uint64(st.Dev)
		id.ctim = st.Ctim.Nano()
	}
	return id
}

// Run polls the file until ctx ends.
func (l *Loader) Run(ctx context.Context) {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.LoadNow()
		}
	}
}
