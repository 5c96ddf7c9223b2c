// Package reload keeps what the daemon answers from current: it loads
// config.data and hmac.key, publishes a snapshot (or the reason there is
// none) and the key, and watches both files for changes.
//
// Ganeti 3.0 (docs/protocol.md §6) watches config.data's inode with inotify,
// falls back to polling, and compares (whole-second mtime, inode, size) to
// decide whether to reload; a bad file replaces the good config, and the
// key is read once. goconfd differs on purpose:
//
//   - It watches the directories that hold the files (fsnotify), so a
//     rename-over, an in-place rewrite, a copy, a delete and a re-creation
//     are all seen at once, and the new config is usually served a few
//     milliseconds after the write.
//   - It also stats both files every PollInterval and compares the
//     content of config.data with what it last loaded every
//     SafetyInterval, whatever inotify says: a write that no event reports
//     (through a hard link in another directory, over NFS, a lost event)
//     is picked up within about a second. The content check hashes the
//     file through a fixed buffer, off the query path: about 12 ms of one
//     core for 50 MB, no allocation. Without inotify (too few watches,
//     say) it polls only, and says so once in the log.
//   - Change is decided by content (a 64-bit hash), not by time stamps: a
//     rewrite with the same size in the same second is still a change, and
//     a touch or a copy of the same bytes is not.
//   - Loads are rate-limited: after a load, the next one waits at least
//     MinInterval and at least as long as the load took, so a write storm
//     costs at most half a core and the last write is still served soon
//     after the storm.
//   - A config that fails to read, parse or validate never replaces a good
//     snapshot; the failure is logged once and shown in Status. A deleted
//     config stops the answers, as in Ganeti.
//   - hmac.key is watched too; a new key takes effect without a restart. A
//     key that later becomes unreadable or empty keeps the last good one.
//   - A large config.data is mapped rather than copied into the heap, and
//     hashed again after the load: a content rewritten in place while it
//     was read (or truncated under the mapping) is not published but read
//     again. The parts of the config that did not change since the last
//     good load are reused, not read again (config.Loader).
//
// Everything heavy (reading, hashing, parsing) happens on the Loader's own
// goroutine (parsing fans out to one worker per CPU when much is new);
// readers only ever see a finished snapshot, published by one pointer
// store. docs/snapshot.md has the measured costs.
package reload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/mapfile"
)

// Defaults of the Config durations.
const (
	// DefaultPollInterval is how often both files are stat'ed; Ganeti's own
	// poll interval is the same 250 ms.
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultSafetyInterval is how often config.data's content is compared
	// with what was loaded even though nothing seemed to change (Ganeti
	// stats every 17 s).
	DefaultSafetyInterval = time.Second
	// DefaultMinInterval is the least time between two loads (Ganeti
	// switches to polling when two changes come within 250 ms).
	DefaultMinInterval = 100 * time.Millisecond
	// DefaultSettle is how long a content that fails to load must stay the
	// same before the failure is reported: a file being rewritten in place
	// fails to parse until the writer is done.
	DefaultSettle = 50 * time.Millisecond
)

// gcAfterLoad is the size of config.data from which a load is followed by
// a garbage collection (a 50 MB file makes a snapshot of about 300 MB).
const gcAfterLoad = 8 << 20

// inotifyRetry is how often polling mode tries to set up inotify again.
var inotifyRetry = 10 * time.Second

// Config says what to load, where to publish it and how to watch.
type Config struct {
	// Path is config.data.
	Path string
	// Publish receives every new state: a snapshot, or the text to answer
	// every request with while there is none. It must not block.
	Publish func(*config.State)

	// KeyPath is hmac.key; empty means that the key is not handled here.
	KeyPath string
	// PublishKey receives the raw bytes of hmac.key (trailing newline
	// included) at start-up and on every change. It must not block.
	PublishKey func([]byte)

	// Logger receives the operator's log lines: load outcomes, mode
	// changes. Nil means slog.Default().
	Logger *slog.Logger

	// Polling disables inotify: changes are found by polling only, within
	// about SafetyInterval. For file systems without inotify and for tests.
	Polling bool
	// PollInterval is how often both files are stat'ed (and hmac.key
	// read); zero means DefaultPollInterval.
	PollInterval time.Duration
	// SafetyInterval is how often config.data's content is hashed and
	// compared with what was loaded, changed or not; zero means
	// DefaultSafetyInterval.
	SafetyInterval time.Duration
	// MinInterval is the least time between the end of one load and the
	// start of the next (which also waits as long as the last load took);
	// zero means DefaultMinInterval.
	MinInterval time.Duration
	// Settle is how long a new content that fails to load must stay the
	// same before the failure is logged and counted; zero means
	// DefaultSettle, negative means report at once.
	Settle time.Duration
}

// Mode says how the Loader learns about changes.
type Mode string

// The modes of a Loader.
const (
	// Idle is the mode before Run and after it returns.
	Idle Mode = "idle"
	// Inotify means that directory events trigger a check at once; polling
	// and the safety timer still run behind it.
	Inotify Mode = "inotify"
	// Polling means that inotify is not available: changes are found by
	// the poll and the safety timer only.
	Polling Mode = "polling"
)

// Status is what an operator or a metrics collector wants to know about
// the Loader.
type Status struct {
	// Mode is how changes are found.
	Mode Mode
	// Serving is true while a snapshot is published; false while every
	// request is answered with an error (no config yet, a bad first one,
	// or a deleted file).
	Serving bool
	// Unavailable is the answer text while Serving is false.
	Unavailable string

	// Loads counts the snapshots loaded and published.
	Loads uint64
	// Failures counts the contents that failed to read, parse or validate
	// (each distinct failure once).
	Failures uint64
	// LastError is the most recent failure, with the file and, for a
	// schema error, where in the document; empty if there was none.
	LastError string
	// LastErrorTime is when LastError happened.
	LastErrorTime time.Time
	// FailingNow is true when the file's current content is the one that
	// failed: goconfd then answers from an older one (or not at all).
	FailingNow bool

	// LastGoodSerial and LastGoodClusterSerial are the top-level and the
	// cluster serial_no of the last snapshot loaded, LastGoodTime when it
	// was loaded (its age is time.Since(LastGoodTime)); zero if none.
	LastGoodSerial        int64
	LastGoodClusterSerial int64
	LastGoodTime          time.Time
	// LastLoadDuration is how long reading, parsing and indexing the last
	// new content took; LastLoadBytes is its size.
	LastLoadDuration time.Duration
	LastLoadBytes    int64

	// Checks counts the times config.data's content was read and hashed.
	Checks uint64
	// ReadRaces counts the reads of config.data that another process
	// rewrote in place meanwhile; each is read again.
	ReadRaces uint64

	// KeyChanges counts the hmac.key contents published after the first.
	KeyChanges uint64
	// KeyFailures counts the times hmac.key became unreadable or empty.
	KeyFailures uint64
	// KeyError is why the last good key is kept, or empty.
	KeyError string
}

// Loader loads and watches config.data and hmac.key.
type Loader struct {
	cfg  Config
	log  *slog.Logger
	seed maphash.Seed
	// path and keyPath are the cleaned paths, as watch events name them.
	path, keyPath string

	// newWatcher starts watching dirs, and identify tells versions of a
	// file apart by their stat; tests replace them.
	newWatcher func(dirs []string) (watcher, error)
	identify   func(os.FileInfo) fileID
	// afterRead, when set, runs between reading a new content and
	// parsing it (tests rewrite the file there).
	afterRead func()

	// mu is held for a check, so that LoadNow and Run never interleave.
	mu   sync.Mutex
	conf fileState
	key  keyState
	buf  []byte // for hashing
	// loader parses config.data, reusing the unchanged parts of the last
	// good load. Guarded by mu.
	loader config.Loader

	statusMu sync.Mutex
	status   Status
}

// fileState is what the Loader knows about config.data. Guarded by mu.
type fileState struct {
	// id is the file's identity when it was last read (or found missing);
	// a poll that finds the same identity does not read the file.
	id     fileID
	haveID bool
	// sum is the hash of the content last examined, loaded or not.
	sum     uint64
	haveSum bool

	// good is the last snapshot loaded and goodSum its content's hash, so
	// that the same content coming back after a bad one is served again
	// without parsing it. A deleted file drops it.
	good    *config.Snapshot
	goodSum uint64
	// published is the unavailable text last published, or "" while good
	// is published; publishedAny is false before the first publication.
	published    string
	publishedAny bool

	// A content that failed to load waits for Settle before the failure
	// is reported, in case it is a file being written.
	confirming bool
	confirmAt  time.Time
	confirmErr error
	// reported is the failure last logged, so that each is logged once.
	reported string
	// missing is true while the file does not exist (logged once).
	missing bool
}

// keyState is what the Loader knows about hmac.key. Guarded by mu.
type keyState struct {
	cur  []byte
	have bool
	// bad is why the current file is not used (logged once), or "".
	bad string
}

// New returns a Loader; nothing is loaded until LoadNow or Run.
func New(cfg Config) *Loader {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.SafetyInterval <= 0 {
		cfg.SafetyInterval = DefaultSafetyInterval
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.Settle == 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Publish == nil {
		cfg.Publish = func(*config.State) {}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	l := &Loader{
		cfg:        cfg,
		log:        log,
		seed:       maphash.MakeSeed(),
		path:       filepath.Clean(cfg.Path),
		newWatcher: newFSWatcher,
		identify:   identify,
		buf:        make([]byte, 64<<10),
	}
	if cfg.KeyPath != "" {
		l.keyPath = filepath.Clean(cfg.KeyPath)
	}
	l.status.Mode = Idle
	return l
}

// LoadNow reads hmac.key, when KeyPath is set, and publishes it, then
// loads config.data and publishes a snapshot or the reason there is none.
// It returns an error only when the key cannot be read, and then loads
// nothing: a daemon without a key cannot verify any request, so that is a
// start-up error (Ganeti 3.0 exits too, docs/protocol.md §6.6). Problems with
// config.data are published and logged, never returned: the daemon answers
// them.
//
// LoadNow is meant for start-up, before Run; later calls look at both
// files at once.
func (l *Loader) LoadNow() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keyPath != "" {
		if l.key.have {
			l.checkKey()
		} else {
			key, err := os.ReadFile(l.keyPath)
			if err != nil {
				return fmt.Errorf("reading HMAC key: %w", err)
			}
			l.publishKey(key, false)
		}
	}
	l.checkConfig(time.Now(), true, false)
	return nil
}

// Status returns the Loader's counters and state.
func (l *Loader) Status() Status {
	l.statusMu.Lock()
	defer l.statusMu.Unlock()
	return l.status
}

func (l *Loader) setStatus(f func(*Status)) {
	l.statusMu.Lock()
	f(&l.status)
	l.statusMu.Unlock()
}

// Run watches both files until ctx ends; call LoadNow first.
func (l *Loader) Run(ctx context.Context) {
	var r runner
	r.l = l
	r.run(ctx)
}

// runner is the state of one Run: the watcher, the timers, and what is
// due.
type runner struct {
	l *Loader
	w watcher
	// confStat and confRead are set when config.data must be stat'ed or
	// read (hashed); keyDue when hmac.key must be read.
	confStat, confRead, keyDue bool
	// nextLoad is the earliest start of the next read of config.data.
	nextLoad time.Time
	// retryAt is when polling mode tries inotify again.
	retryAt time.Time
}

func (r *runner) run(ctx context.Context) {
	l := r.l
	r.startWatcher(time.Now(), true)
	defer func() {
		if r.w != nil {
			r.w.Close()
		}
		l.setStatus(func(s *Status) { s.Mode = Idle })
	}()
	poll := time.NewTicker(l.cfg.PollInterval)
	defer poll.Stop()
	safety := time.NewTicker(l.cfg.SafetyInterval)
	defer safety.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()

	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if r.w != nil {
			events, errs = r.w.Events(), r.w.Errors()
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				r.lost(time.Now(), "inotify watcher stopped")
				break
			}
			r.onEvent(time.Now(), ev)
		case err, ok := <-errs:
			if !ok {
				r.lost(time.Now(), "inotify watcher stopped")
				break
			}
			// An overflow means lost events: look at everything.
			l.log.Debug("inotify error; checking both files", "err", err)
			r.confRead, r.keyDue = true, true
		case <-poll.C:
			r.confStat, r.keyDue = true, true
		case <-safety.C:
			r.confRead, r.keyDue = true, true
		case <-wake.C:
		}
		now := time.Now()
		if r.w == nil && !l.cfg.Polling && !now.Before(r.retryAt) {
			r.startWatcher(now, false)
		}
		next := r.step(now)
		if r.w == nil && !l.cfg.Polling && (next.IsZero() || r.retryAt.Before(next)) {
			next = r.retryAt
		}
		wake.Stop()
		if !next.IsZero() {
			wake.Reset(max(time.Until(next), 0))
		}
	}
}

// onEvent notes what a directory event means for the two files.
func (r *runner) onEvent(now time.Time, ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	switch {
	case name == r.l.path:
		r.confRead = true
	case r.l.keyPath != "" && name == r.l.keyPath:
		r.keyDue = true
	case ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && r.isWatchedDir(name):
		// The directory itself went away: its watch is gone.
		r.lost(now, "watched directory "+name+" was removed or renamed")
	}
}

func (r *runner) isWatchedDir(name string) bool {
	return name == filepath.Dir(r.l.path) || (r.l.keyPath != "" && name == filepath.Dir(r.l.keyPath))
}

// step does the checks that are due and returns when the next deferred
// one is (zero if none).
func (r *runner) step(now time.Time) time.Time {
	l := r.l
	var next time.Time
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.keyDue {
		r.keyDue = false
		l.checkKey()
	}
	if l.conf.confirming && !now.Before(l.conf.confirmAt) {
		r.confRead = true
	}
	if r.confStat || r.confRead {
		if now.Before(r.nextLoad) {
			next = r.nextLoad
		} else {
			did := l.checkConfig(now, r.confRead, true)
			r.confStat, r.confRead = false, false
			// Rate limit: after a look at the content, wait at least as
			// long as it took; after a load, at least MinInterval too. A
			// regular content check that finds nothing new does not delay
			// the next write's load by MinInterval.
			end := time.Now()
			switch did {
			case parsed:
				r.nextLoad = end.Add(max(l.cfg.MinInterval, end.Sub(now)))
			case hashed:
				r.nextLoad = end.Add(end.Sub(now))
			}
		}
	}
	if l.conf.confirming && l.conf.confirmAt.After(now) && (next.IsZero() || l.conf.confirmAt.Before(next)) {
		next = l.conf.confirmAt
	}
	return next
}

// startWatcher sets up inotify on the files' directories, or polling.
func (r *runner) startWatcher(now time.Time, first bool) {
	l := r.l
	if l.cfg.Polling {
		l.setStatus(func(s *Status) { s.Mode = Polling })
		if first {
			l.log.Info("watching the config by polling", "path", l.path, "poll", l.cfg.PollInterval)
		}
		return
	}
	dirs := []string{filepath.Dir(l.path)}
	if l.keyPath != "" && filepath.Dir(l.keyPath) != dirs[0] {
		dirs = append(dirs, filepath.Dir(l.keyPath))
	}
	w, err := l.newWatcher(dirs)
	if err != nil {
		r.retryAt = now.Add(inotifyRetry)
		if first {
			// Logged once; retries are silent until one succeeds.
			l.log.Warn("inotify unavailable; polling instead", "err", err, "poll", l.cfg.PollInterval, "retry", inotifyRetry)
			l.setStatus(func(s *Status) { s.Mode = Polling })
		}
		return
	}
	r.w = w
	l.setStatus(func(s *Status) { s.Mode = Inotify })
	if first {
		l.log.Info("watching the config with inotify", "path", l.path)
	} else {
		l.log.Info("inotify available again; leaving polling mode", "path", l.path)
	}
	// Anything may have happened while we were not watching.
	r.confRead, r.keyDue = true, true
}

// lost gives up a watcher that stopped working and polls until a new one
// can be set up.
func (r *runner) lost(now time.Time, why string) {
	if r.w == nil {
		return
	}
	r.w.Close()
	r.w = nil
	r.retryAt = now.Add(inotifyRetry)
	r.confRead, r.keyDue = true, true
	r.l.setStatus(func(s *Status) { s.Mode = Polling })
	r.l.log.Warn("inotify lost; polling instead", "why", why, "poll", r.l.cfg.PollInterval)
}

// work says how far a check of config.data went.
type work int

const (
	statted work = iota // stat only: unchanged, or missing
	hashed              // content read and hashed, nothing new
	parsed              // a new content was parsed
)

// checkConfig looks at config.data and loads it if its content changed.
// read forces reading and hashing the file even when its identity (stat)
// is unchanged. settle lets a failure wait for Settle before it is
// reported. It returns how far it went.
//
// A file whose identity changed is read once, hashed, and parsed if the
// hash is new. A file whose identity did not change (an event or the
// safety timer asked) is first hashed without being kept, so that the
// regular content check costs no allocation, and read again only if its
// content changed.
func (l *Loader) checkConfig(now time.Time, read, settle bool) work {
	st := &l.conf
	fi, err := os.Stat(l.cfg.Path)
	if err != nil {
		l.readFailed(err)
		return statted
	}
	id := l.identify(fi)
	same := st.haveID && id == st.id
	if !read && same {
		return statted
	}
	st.id, st.haveID = id, true
	l.setStatus(func(s *Status) { s.Checks++ })

	start := time.Now()
	// The content is mapped, not copied, when it is large (see
	// internal/mapfile); file is nil until it is read.
	var file *mapfile.File
	defer func() { file.Close() }()
	var sum uint64
	if same {
		sum, err = l.hashFile()
	} else {
		file, sum, err = l.readFile()
	}
	if errors.Is(err, mapfile.ErrTruncated) {
		l.readRace()
		return hashed
	}
	if err != nil {
		l.readFailed(err)
		return hashed
	}
	l.found()
	if st.haveSum && sum == st.sum {
		if st.confirming {
			st.confirming = false
			l.loadFailed(st.confirmErr)
		}
		return hashed
	}
	if st.good != nil && sum == st.goodSum {
		// Back to the content last loaded (after a bad write, or after a
		// deletion): publish it again without parsing it.
		st.sum, st.haveSum, st.confirming = sum, true, false
		l.publishGood(false, 0, 0)
		return hashed
	}
	if file == nil {
		// The file may have changed since it was hashed: what counts is
		// what is read.
		file, sum, err = l.readFile()
		if errors.Is(err, mapfile.ErrTruncated) {
			l.readRace()
			return hashed
		}
		if err != nil {
			l.readFailed(err)
			return hashed
		}
		if st.good != nil && sum == st.goodSum {
			st.sum, st.haveSum, st.confirming = sum, true, false
			l.publishGood(false, 0, 0)
			return hashed
		}
	}
	st.sum, st.haveSum, st.confirming = sum, true, false
	size := int64(len(file.Data))
	if l.afterRead != nil {
		l.afterRead()
	}
	snap, err := l.loader.Parse(file.Data)
	if !errors.Is(err, mapfile.ErrTruncated) {
		// A mapping shows a rewrite in place at once: the content must
		// be the same after the load as before, or the snapshot may mix
		// two versions.
		if after, gerr := l.hashData(file.Data); gerr != nil || after != sum {
			err = mapfile.ErrTruncated
		}
	}
	file.Close()
	dur := time.Since(start)
	if errors.Is(err, mapfile.ErrTruncated) {
		l.readRace()
		return parsed
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", l.cfg.Path, err)
		if settle && l.cfg.Settle > 0 {
			st.confirming, st.confirmAt, st.confirmErr = true, now.Add(l.cfg.Settle), err
			return parsed
		}
		l.loadFailed(err)
		return parsed
	}
	st.good, st.goodSum = snap, sum
	l.publishGood(true, dur, size)
	if size >= gcAfterLoad {
		// The old snapshot is garbage now. Collecting it at once, here
		// and not on the query path, resets the collector's goal to
		// twice one snapshot: otherwise the goal, set while both
		// snapshots were live, lets the heap grow to four snapshots
		// before the next collection.
		runtime.GC()
	}
	return parsed
}

// readFile reads config.data (mapping it when it is large) and hashes
// it. A mapped file truncated meanwhile is mapfile.ErrTruncated.
func (l *Loader) readFile() (*mapfile.File, uint64, error) {
	file, err := mapfile.Open(l.cfg.Path)
	if err != nil {
		return nil, 0, err
	}
	sum, err := l.hashData(file.Data)
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, sum, nil
}

// hashData hashes content that may be a mapping (a truncated file is
// mapfile.ErrTruncated).
func (l *Loader) hashData(data []byte) (sum uint64, err error) {
	err = mapfile.Guard(data, func() error {
		sum = maphash.Bytes(l.seed, data)
		return nil
	})
	return sum, err
}

// readRace notes that config.data changed while it was read (rewritten
// in place): nothing is published, and the next check reads it again
// (the writer's events, or the safety check within a second).
func (l *Loader) readRace() {
	l.conf.haveSum, l.conf.confirming = false, false
	l.setStatus(func(s *Status) { s.ReadRaces++ })
	l.log.Info("config file changed while being read; reading it again", "path", l.cfg.Path)
}

// hashFile hashes config.data's content without keeping it.
func (l *Loader) hashFile() (uint64, error) {
	f, err := os.Open(l.cfg.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h maphash.Hash
	h.SetSeed(l.seed)
	for {
		n, err := f.Read(l.buf)
		h.Write(l.buf[:n])
		if err == io.EOF {
			return h.Sum64(), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// publishGood publishes the good snapshot: a new one when fresh is true
// (it took dur to load size bytes), else the last one again, if it is not
// served already.
func (l *Loader) publishGood(fresh bool, dur time.Duration, size int64) {
	st := &l.conf
	snap := st.good
	serving := st.publishedAny && st.published == ""
	switch {
	case fresh:
		l.cfg.Publish(&config.State{Snapshot: snap})
		ls := l.loader.Stats()
		l.log.Info("Loaded new config", "path", l.cfg.Path, "serial", snap.Serial(), "cluster_serial", snap.ClusterSerial(),
			"bytes", size, "duration", dur.Round(time.Microsecond), "parts", ls.Leaves, "parts_read", ls.Made)
	case !serving:
		l.cfg.Publish(&config.State{Snapshot: snap})
		l.log.Info("config content is the last one loaded; serving it again", "path", l.cfg.Path, "cluster_serial", snap.ClusterSerial())
	case st.reported != "":
		l.log.Info("config content is back to the one being served", "path", l.cfg.Path, "cluster_serial", snap.ClusterSerial())
	}
	st.published, st.publishedAny = "", true
	st.reported = ""
	now := time.Now()
	l.setStatus(func(s *Status) {
		s.Serving, s.Unavailable, s.FailingNow = true, "", false
		if fresh {
			s.Loads++
			s.LastGoodSerial, s.LastGoodClusterSerial, s.LastGoodTime = snap.Serial(), snap.ClusterSerial(), now
			s.LastLoadDuration, s.LastLoadBytes = dur, size
		}
	})
}

// publishUnavailable makes every request answer text, unless it already
// does.
func (l *Loader) publishUnavailable(text string) {
	st := &l.conf
	if st.publishedAny && st.published == text {
		return
	}
	l.cfg.Publish(&config.State{Unavailable: text})
	st.published, st.publishedAny = text, true
	l.setStatus(func(s *Status) { s.Serving, s.Unavailable = false, text })
}

// found notes that config.data exists (again).
func (l *Loader) found() {
	if l.conf.missing {
		l.conf.missing = false
		l.log.Info("config file is back", "path", l.cfg.Path)
	}
}

// readFailed handles a config.data that cannot be stat'ed or read. A
// missing file stops the answers, as in Ganeti; any other error keeps the
// last good snapshot.
func (l *Loader) readFailed(err error) {
	st := &l.conf
	text := config.UnavailableText(l.cfg.Path, err)
	st.haveID, st.haveSum, st.confirming = false, false, false
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// The node no longer has a config (it was demoted): stop
		// answering, and let the snapshot go.
		st.good, st.reported = nil, ""
		l.setStatus(func(s *Status) { s.FailingNow = false })
		if !st.missing {
			st.missing = true
			if st.publishedAny {
				l.log.Warn("config file is gone; answering every request with an error until it returns", "path", l.cfg.Path, "err", err)
			} else {
				l.log.Warn("config file does not exist; answering every request with an error until it appears", "path", l.cfg.Path)
			}
		}
		l.publishUnavailable(text)
		return
	}
	l.found()
	l.report(err.Error())
	if !st.publishedAny || st.published != "" {
		l.publishUnavailable(text)
	}
}

// loadFailed handles a content that does not parse or validate: the last
// good snapshot stays, if one is served.
func (l *Loader) loadFailed(err error) {
	st := &l.conf
	l.report(err.Error())
	if !st.publishedAny || st.published != "" {
		l.publishUnavailable(config.UnavailableText(l.cfg.Path, err))
	}
}

// report logs and counts a failure, once per distinct failure.
func (l *Loader) report(msg string) {
	st := &l.conf
	serving := st.publishedAny && st.published == ""
	if msg != st.reported {
		st.reported = msg
		if serving {
			l.log.Error("config failed to load; still serving the last good one", "path", l.cfg.Path, "err", msg,
				"serving_cluster_serial", st.good.ClusterSerial())
		} else {
			l.log.Error("config failed to load", "path", l.cfg.Path, "err", msg)
		}
	}
	l.setStatus(func(s *Status) {
		if s.LastError != msg || !s.FailingNow {
			s.Failures++
		}
		s.LastError, s.LastErrorTime, s.FailingNow = msg, time.Now(), true
	})
}

// checkKey reads hmac.key and publishes it if it changed. A key that
// cannot be read, or is empty (a file being rewritten in place), keeps
// the last good one.
func (l *Loader) checkKey() {
	if l.keyPath == "" {
		return
	}
	key, err := os.ReadFile(l.keyPath)
	if err == nil && len(key) == 0 {
		err = errors.New("file is empty")
	}
	ks := &l.key
	if err != nil {
		msg := err.Error()
		if ks.bad != msg {
			ks.bad = msg
			l.log.Warn("cannot use hmac.key; keeping the last good key", "path", l.keyPath, "err", msg)
			l.setStatus(func(s *Status) { s.KeyFailures++; s.KeyError = msg })
		}
		return
	}
	if ks.bad != "" {
		ks.bad = ""
		l.setStatus(func(s *Status) { s.KeyError = "" })
		if bytes.Equal(key, ks.cur) {
			l.log.Info("hmac.key is readable again, unchanged", "path", l.keyPath)
		}
	}
	if ks.have && bytes.Equal(key, ks.cur) {
		return
	}
	l.publishKey(key, ks.have)
}

func (l *Loader) publishKey(key []byte, changed bool) {
	l.key.cur, l.key.have = key, true
	if l.cfg.PublishKey != nil {
		l.cfg.PublishKey(key)
	}
	if changed {
		l.log.Info("HMAC key changed; using the new one", "path", l.keyPath)
		l.setStatus(func(s *Status) { s.KeyChanges++ })
	}
}
