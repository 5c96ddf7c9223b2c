package reload

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The tests in this file run in synctest bubbles: the Watcher's tickers and
// timers use the bubble's fake clock, so each test checks when things
// happen, to the nanosecond, in no real time. File system calls are real
// (and quick); inotify is replaced by fakeEvents, whose events the test
// sends itself.

// fakeEvents is an eventSource whose events the test sends.
type fakeEvents struct {
	events chan fsnotify.Event
	errs   chan error
	closed chan struct{}
}

func newFakeEvents() *fakeEvents {
	return &fakeEvents{events: make(chan fsnotify.Event), errs: make(chan error), closed: make(chan struct{})}
}

func (f *fakeEvents) Events() <-chan fsnotify.Event { return f.events }
func (f *fakeEvents) Errors() <-chan error          { return f.errs }
func (f *fakeEvents) Close() error {
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	return nil
}

// send delivers an event for name, as inotify would after a write.
func (f *fakeEvents) send(name string, op fsnotify.Op) {
	f.events <- fsnotify.Event{Name: name, Op: op}
}

// bubbleSetup is a config.data in a temporary directory and a Watcher on it,
// loaded, with inotify replaced by a fakeEvents (or failing with
// watchErr), running until the bubble's test ends.
type bubbleSetup struct {
	path string
	rec  *recorder
	w    *Watcher
	src  *fakeEvents
	logs *logRecorder
}

func setupBubble(t *testing.T, cfg Config, watchErrs ...error) *bubbleSetup {
	t.Helper()
	dir := t.TempDir()
	b := &bubbleSetup{path: filepath.Join(dir, "config.data"), rec: &recorder{}, src: newFakeEvents(), logs: &logRecorder{}}
	writeAtomic(t, b.path, richWithSerial(t, 1000))
	cfg.Path = b.path
	cfg.Publish = b.rec.publish
	cfg.Logger = slog.New(b.logs)
	if cfg.KeyPath != "" {
		cfg.KeyPath = filepath.Join(dir, cfg.KeyPath)
		cfg.PublishKey = b.rec.publishKey
		writeAtomic(t, cfg.KeyPath, []byte("key-1\n"))
	}
	b.w = New(cfg)
	// Loads take no fake time; their real CPU time must not pace them.
	b.w.cpuTime = func() time.Duration { return 0 }
	b.w.newEvents = func([]string) (eventSource, error) {
		if len(watchErrs) > 0 {
			err := watchErrs[0]
			watchErrs = watchErrs[1:]
			if err != nil {
				return nil, err
			}
		}
		return b.src, nil
	}
	if err := b.w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	synctest.Wait()
	return b
}

// write changes config.data to serial and, unless silent, sends the event
// inotify would.
func (b *bubbleSetup) write(t *testing.T, serial int, silent bool) {
	t.Helper()
	writeAtomic(t, b.path, richWithSerial(t, serial))
	if !silent {
		b.src.send(b.path, fsnotify.Create)
	}
	synctest.Wait()
}

func wantSerial(t *testing.T, b *bubbleSetup, want int64, when string) {
	t.Helper()
	if got := b.rec.serial(); got != want {
		t.Fatalf("%s: serving serial %d, want %d", when, got, want)
	}
}

func TestEventIsServedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{})
		if b.w.Status().Mode != Inotify {
			t.Fatalf("mode %s", b.w.Status().Mode)
		}
		start := time.Now()
		b.write(t, 1001, false)
		// No time has passed: the event was handled at once.
		if time.Since(start) != 0 {
			t.Fatalf("fake time moved by %v", time.Since(start))
		}
		wantSerial(t, b, 1001, "right after the event")
		// Right after the safety timer's content check (which found
		// nothing new), an event is still handled at once.
		time.Sleep(DefaultSafetyInterval + time.Nanosecond)
		synctest.Wait()
		checks := b.w.Status().Checks
		b.write(t, 1002, false)
		wantSerial(t, b, 1002, "right after a safety check")
		if b.w.Status().Checks != checks+1 {
			t.Fatalf("checks %d, want %d", b.w.Status().Checks, checks+1)
		}
		// An event for another file in the directory is ignored.
		loads := b.w.Status().Loads
		b.src.send(filepath.Join(filepath.Dir(b.path), "ssconf_master_node"), fsnotify.Create)
		synctest.Wait()
		if b.w.Status().Loads != loads || b.w.Status().Checks != checks+1 {
			t.Fatalf("status after an unrelated event %+v", b.w.Status())
		}
	})
}

func TestPollingFindsChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{Polling: true})
		if b.w.Status().Mode != Polling {
			t.Fatalf("mode %s", b.w.Status().Mode)
		}
		b.write(t, 1001, true)
		time.Sleep(DefaultPollInterval - time.Nanosecond)
		synctest.Wait()
		wantSerial(t, b, 1000, "before the first poll")
		time.Sleep(1 * time.Nanosecond)
		synctest.Wait()
		wantSerial(t, b, 1001, "at the first poll")

		// Deleted: status 1 at the next poll; re-created: served at the
		// poll after that.
		remove(t, b.path)
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		if !strings.Contains(b.rec.unavailable(), "does not exist") {
			t.Fatalf("after deletion: serial %d, answer %q", b.rec.serial(), b.rec.unavailable())
		}
		b.write(t, 1002, true)
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		wantSerial(t, b, 1002, "a poll after re-creation")
	})
}

// TestSafetyTimer makes stat blind (every version of the file looks the
// same, as two writes within one clock tick of the same size do): only
// the content check of the safety timer can find the change.
func TestSafetyTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{Polling: true})
		b.w.mu.Lock()
		b.w.identify = func(os.FileInfo) fileID { return fileID{} }
		b.w.conf.seen.id = fileID{}
		b.w.mu.Unlock()
		b.write(t, 1001, true)
		time.Sleep(DefaultSafetyInterval - time.Nanosecond)
		synctest.Wait()
		wantSerial(t, b, 1000, "polls see no change")
		time.Sleep(1 * time.Nanosecond)
		synctest.Wait()
		wantSerial(t, b, 1001, "the safety timer")
	})
}

// TestWriteStorm renames a new config over the old one 100 times a second
// for a second: with loads that cost nothing, every write is served at
// once (TestLoadPacing has costly ones).
func TestWriteStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{})
		loads0 := b.w.Status().Loads
		start := time.Now()
		serial := 1000
		for range 100 {
			serial++
			b.write(t, serial, false)
			time.Sleep(10 * time.Millisecond)
		}
		storm := time.Since(start)
		loads := b.w.Status().Loads - loads0
		// In fake time a load takes no time: MinInterval (5 ms) is
		// shorter than the 10 ms between writes, so every one is loaded.
		if loads != 100 {
			t.Fatalf("%d loads for 100 writes in a %v storm, want 100", loads, storm)
		}
		wantSerial(t, b, int64(serial), "right after the last write")
		t.Logf("%d loads for 100 writes in %v", loads, storm)
	})
}

// TestSettle checks that a content that fails to load is reported only
// once it has stayed the same for Settle: a file being written in place
// is not an error.
func TestSettle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{})
		half := richWithSerial(t, 1001)
		half = half[:len(half)/2]
		writeInPlace(t, b.path, half)
		b.src.send(b.path, fsnotify.Write)
		synctest.Wait()
		time.Sleep(DefaultSettle - time.Nanosecond)
		writeInPlace(t, b.path, richWithSerial(t, 1001))
		b.src.send(b.path, fsnotify.Write)
		synctest.Wait()
		// Rate-limited: the rest of the write is loaded MinInterval after
		// the first look.
		time.Sleep(DefaultMinInterval)
		synctest.Wait()
		wantSerial(t, b, 1001, "after the write completed")
		if st := b.w.Status(); st.Failures != 0 || b.logs.count("failed") != 0 {
			t.Fatalf("a write in progress was reported: %+v, logs %q", st, b.logs.msgs)
		}

		// A bad file that stays is reported, once, Settle after it is
		// first seen (here: at the next allowed look).
		time.Sleep(time.Second)
		writeAtomic(t, b.path, badConfig(t))
		b.src.send(b.path, fsnotify.Create)
		synctest.Wait()
		if st := b.w.Status(); st.Failures != 0 {
			t.Fatalf("reported before Settle: %+v", st)
		}
		time.Sleep(max(DefaultSettle, DefaultMinInterval))
		synctest.Wait()
		if st := b.w.Status(); st.Failures != 1 || !st.FailingNow || b.logs.count("still serving the last good one") != 1 {
			t.Fatalf("after Settle: %+v, logs %q", st, b.logs.msgs)
		}
		wantSerial(t, b, 1001, "with a bad file")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if st := b.w.Status(); st.Failures != 1 || b.logs.count("failed") != 1 {
			t.Fatalf("a bad file was reported again: %+v, logs %q", st, b.logs.msgs)
		}
	})
}

// TestInotifyUnavailable: without inotify the Watcher polls, says so once,
// and tries inotify again every inotifyRetry.
func TestInotifyUnavailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		noSpace := errors.New("watching /var/lib/ganeti: no space left on device")
		b := setupBubble(t, Config{}, noSpace, noSpace)
		if st := b.w.Status(); st.Mode != Polling {
			t.Fatalf("mode %s", st.Mode)
		}
		b.write(t, 1001, true)
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		wantSerial(t, b, 1001, "polling")
		time.Sleep(inotifyRetry) // second attempt fails too
		synctest.Wait()
		if st := b.w.Status(); st.Mode != Polling || b.logs.count("inotify unavailable") != 1 {
			t.Fatalf("after a failed retry: mode %s, logs %q", st.Mode, b.logs.msgs)
		}
		time.Sleep(inotifyRetry) // third attempt succeeds
		synctest.Wait()
		if st := b.w.Status(); st.Mode != Inotify || b.logs.count("inotify available again") != 1 {
			t.Fatalf("after a good retry: mode %s, logs %q", st.Mode, b.logs.msgs)
		}
		b.write(t, 1002, false)
		wantSerial(t, b, 1002, "inotify again")

		// The watcher dies: back to polling, said once.
		close(b.src.events)
		synctest.Wait()
		if st := b.w.Status(); st.Mode != Polling || b.logs.count("inotify lost") != 1 {
			t.Fatalf("after the watcher stopped: mode %s, logs %q", st.Mode, b.logs.msgs)
		}
		b.src = newFakeEvents()
		b.write(t, 1003, true)
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		wantSerial(t, b, 1003, "polling after the watcher stopped")
	})
}

// TestOverflow: an inotify queue overflow means lost events, so both files
// are looked at.
func TestOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{})
		b.w.mu.Lock()
		b.w.identify = func(os.FileInfo) fileID { return fileID{} } // stat sees nothing
		b.w.conf.seen.id = fileID{}
		b.w.mu.Unlock()
		b.write(t, 1001, true)
		b.src.errs <- fsnotify.ErrEventOverflow
		synctest.Wait()
		wantSerial(t, b, 1001, "right after the overflow")
	})
}

func TestKeyChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := setupBubble(t, Config{KeyPath: "hmac.key"})
		keyPath := b.w.keyPath
		if b.rec.keyText() != "key-1\n" {
			t.Fatalf("key %q", b.rec.keyText())
		}
		// With an event: at once.
		writeAtomic(t, keyPath, []byte("key-2\n"))
		b.src.send(keyPath, fsnotify.Create)
		synctest.Wait()
		if b.rec.keyText() != "key-2\n" {
			t.Fatalf("key %q after an event", b.rec.keyText())
		}
		// Without: at the next poll.
		writeInPlace(t, keyPath, []byte("key-3\n"))
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		if b.rec.keyText() != "key-3\n" {
			t.Fatalf("key %q after a poll", b.rec.keyText())
		}
		// Deleted: the last good key stays, said once.
		remove(t, keyPath)
		time.Sleep(10 * DefaultPollInterval)
		synctest.Wait()
		if st := b.w.Status(); b.rec.keyText() != "key-3\n" || st.KeyFailures != 1 || b.logs.count("keeping the last good key") != 1 {
			t.Fatalf("key %q, status %+v, logs %q", b.rec.keyText(), st, b.logs.msgs)
		}
		writeAtomic(t, keyPath, []byte("key-4\n"))
		time.Sleep(DefaultPollInterval)
		synctest.Wait()
		if st := b.w.Status(); b.rec.keyText() != "key-4\n" || st.KeyError != "" || st.KeyChanges != 3 {
			t.Fatalf("key %q, status %+v", b.rec.keyText(), st)
		}
	})
}
