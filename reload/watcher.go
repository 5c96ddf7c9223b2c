package reload

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/goconfd/goconfd/config"
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
	// DefaultMinInterval is the least time between the end of one load
	// and the start of the next, so that the events of one write fold into
	// one load. Loads are otherwise spaced by what they cost (LoadShare):
	// a small config is served within milliseconds of every write (Ganeti
	// switches to polling when two changes come within 250 ms).
	DefaultMinInterval = 5 * time.Millisecond
	// DefaultLoadShare is the share of one CPU that loading may take
	// during a write storm: a load that cost c of CPU time is followed by
	// the next no sooner than c/DefaultLoadShare after its start.
	DefaultLoadShare = 0.5
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
	// start of the next; zero means DefaultMinInterval.
	MinInterval time.Duration
	// LoadShare is the share of one CPU that loads may use: after a load
	// (or a content check) that cost c, the next one starts no sooner
	// than c/LoadShare after the start of the last. The cost is the
	// larger of the load's wall time and the CPU time the whole process
	// used meanwhile (the parse workers run on every core; what the query
	// path used in the same time is counted too, so a busy daemon loads
	// less often, never more). Zero means DefaultLoadShare; at most 1.
	LoadShare float64
	// Settle is how long a new content that fails to load must stay the
	// same before the failure is logged and counted; zero means
	// DefaultSettle, negative means report at once.
	Settle time.Duration
}

// Mode says how the Watcher learns about changes.
type Mode string

// The modes of a Watcher.
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
// the Watcher.
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
	// FailingSince is when FailingNow last became true (the start of the
	// current run of failures, which may have had several errors).
	FailingSince time.Time

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
	// LoadCost is the cost of every load and content check so far, as
	// the pacing counts it (see Config.LoadShare): its rate of increase
	// is the share of a CPU spent loading.
	LoadCost time.Duration
	// LastLoadCost is the cost of the last load of a new content (loaded
	// or failed), as the pacing counts it: the next load starts no
	// sooner than LastLoadCost/LoadShare after its start. Zero until
	// Run's first load (LoadNow's are not paced).
	LastLoadCost time.Duration
	// LastGoodSHA256 is the SHA-256 of the last snapshot's content, in
	// hex, as sha256sum prints it; empty if none was loaded.
	LastGoodSHA256 string

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
	// KeyTime is when the key in use was read (its age is
	// time.Since(KeyTime)); zero before the first key.
	KeyTime time.Time
}

// Watcher loads and watches config.data and hmac.key.
type Watcher struct {
	cfg  Config
	log  *slog.Logger
	seed maphash.Seed
	// path and keyPath are the cleaned paths, as watch events name them.
	path, keyPath string

	// newEvents starts an event source on dirs (fsnotify), and identify
	// tells versions of a file apart by their stat; tests replace them.
	newEvents func(dirs []string) (eventSource, error)
	// permsChecked is set once the files' permissions were looked at.
	permsChecked bool
	// cpuTime is the process's CPU time so far (processCPU); the tests in
	// fake time replace it.
	cpuTime  func() time.Duration
	identify func(os.FileInfo) fileID
	// afterRead, when set, runs between reading a new content and
	// parsing it (tests rewrite the file there).
	afterRead func()

	// mu is held for a check, so that LoadNow and Run never interleave.
	mu   sync.Mutex
	conf configFile
	key  keyFile
	buf  []byte // for hashing
	// loader parses config.data, reusing the unchanged parts of the last
	// good load. Guarded by mu.
	loader config.Loader

	statusMu sync.Mutex
	status   Status
}

// New returns a Watcher; nothing is loaded until LoadNow or Run.
func New(cfg Config) *Watcher {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.SafetyInterval <= 0 {
		cfg.SafetyInterval = DefaultSafetyInterval
	}
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.LoadShare <= 0 || cfg.LoadShare > 1 {
		cfg.LoadShare = DefaultLoadShare
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
	w := &Watcher{
		cfg:       cfg,
		log:       log,
		seed:      maphash.MakeSeed(),
		path:      filepath.Clean(cfg.Path),
		newEvents: newFSWatcher,
		cpuTime:   processCPU,
		identify:  identify,
		buf:       make([]byte, 64<<10),
	}
	if cfg.KeyPath != "" {
		w.keyPath = filepath.Clean(cfg.KeyPath)
	}
	w.status.Mode = Idle
	return w
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
func (w *Watcher) LoadNow() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.permsChecked {
		w.permsChecked = true
		w.checkPerms()
	}
	if w.keyPath != "" {
		if w.key.state != keyNone {
			w.checkKey()
		} else {
			key, err := os.ReadFile(w.keyPath)
			if err != nil {
				return fmt.Errorf("reading HMAC key: %w", err)
			}
			w.keyTransition(keyStart, key, "")
		}
	}
	w.checkConfig(time.Now(), true, false)
	return nil
}

// Status returns the Watcher's counters and state.
func (w *Watcher) Status() Status {
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	return w.status
}

func (w *Watcher) setStatus(f func(*Status)) {
	w.statusMu.Lock()
	f(&w.status)
	w.statusMu.Unlock()
}

// Run watches both files until ctx ends; call LoadNow first.
func (w *Watcher) Run(ctx context.Context) {
	var r runner
	r.w = w
	r.run(ctx)
}
