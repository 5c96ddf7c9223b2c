package reload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
)

// richData is rich.json, read once.
var richData = sync.OnceValue(func() []byte {
	data, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		panic(err)
	}
	return data
})

// richWithSerial returns rich.json with its cluster serial replaced by a
// number of four digits, which keeps the file's size, so that a rewrite
// is not noticed by its size alone.
func richWithSerial(t testing.TB, serial int) []byte {
	t.Helper()
	if serial < 1000 || serial > 9999 {
		t.Fatalf("serial %d must have 4 digits", serial)
	}
	data := richData()
	out := bytes.Replace(data, []byte(`"serial_no": 3190`), fmt.Appendf(nil, `"serial_no": %d`, serial), 1)
	if bytes.Equal(out, data) && serial != 3190 {
		t.Fatal("cluster serial not found in rich.json")
	}
	return out
}

// badConfig fails validation, not parsing: a key the model does not know.
func badConfig(t testing.TB) []byte {
	t.Helper()
	return bytes.Replace(richWithSerial(t, 6666), []byte(`"serial_no": 6666`), []byte(`"serial_no": 6666, "bogus": 1`), 1)
}

// recorder is a Publish and PublishKey that keeps what it got.
type recorder struct {
	last  atomic.Pointer[config.State]
	key   atomic.Pointer[[]byte]
	count atomic.Int64 // states published
	keys  atomic.Int64 // keys published
}

func (r *recorder) publish(st *config.State) { r.last.Store(st); r.count.Add(1) }

func (r *recorder) publishKey(k []byte) { r.key.Store(&k); r.keys.Add(1) }

// serial returns the cluster serial served, or -1 when none is.
func (r *recorder) serial() int64 {
	st := r.last.Load()
	if st == nil || st.Snapshot == nil {
		return -1
	}
	return st.Snapshot.ClusterSerial()
}

func (r *recorder) unavailable() string {
	if st := r.last.Load(); st != nil && st.Snapshot == nil {
		return st.Unavailable
	}
	return ""
}

func (r *recorder) keyText() string {
	if k := r.key.Load(); k != nil {
		return string(*k)
	}
	return ""
}

func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// writeInPlace rewrites the file's own inode: truncate, then write.
func writeInPlace(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// copyOver is cp(1) onto an existing file: the same inode, truncated,
// written in small pieces.
func copyOver(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(len(data), 4096)
		if _, err := f.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func remove(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logRecorder is a slog.Handler that keeps the messages.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// count returns how many messages contain s.
func (h *logRecorder) count(s string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// eventually waits, without asserting how long it takes, for cond;
// the bound only keeps a broken test from hanging.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLoadNow checks what a load does with each kind of file, without the
// watcher: LoadNow after each step.
func TestLoadNow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	var rec recorder
	w := New(Config{Path: path, Publish: rec.publish, Logger: quiet()})

	steps := []struct {
		name string
		do   func()
		// want is the cluster serial served, or -1 with wantText a prefix
		// of the answer to every request.
		want     int64
		wantText string
		// wantFailing is Status().FailingNow.
		wantFailing bool
	}{
		{name: "missing at start", do: func() {}, want: -1,
			wantText: "Failure during configuration update: " + path + ": getFileStatus: does not exist"},
		{name: "created", do: func() { writeAtomic(t, path, richWithSerial(t, 1000)) }, want: 1000},
		{name: "renamed over", do: func() { writeAtomic(t, path, richWithSerial(t, 1001)) }, want: 1001},
		{name: "rewritten in place, same size, same second", do: func() { writeInPlace(t, path, richWithSerial(t, 1002)) }, want: 1002},
		{name: "syntax error keeps the last good one", do: func() { writeAtomic(t, path, []byte(`{"version": 3000000`)) },
			want: 1002, wantFailing: true},
		{name: "schema error keeps the last good one", do: func() { writeAtomic(t, path, badConfig(t)) },
			want: 1002, wantFailing: true},
		{name: "fixed again", do: func() { writeAtomic(t, path, richWithSerial(t, 1003)) }, want: 1003},
		{name: "deleted stops the answers", do: func() { remove(t, path) }, want: -1,
			wantText: "Failure during configuration update: " + path + ": getFileStatus: does not exist"},
		{name: "re-created", do: func() { writeAtomic(t, path, richWithSerial(t, 1004)) }, want: 1004},
		{name: "copied over", do: func() { copyOver(t, path, richWithSerial(t, 1005)) }, want: 1005},
		{name: "deleted again", do: func() { remove(t, path) }, want: -1,
			wantText: "Failure during configuration update: " + path + ": getFileStatus: does not exist"},
		{name: "re-created bad", do: func() { writeAtomic(t, path, badConfig(t)) }, want: -1, wantText: "Cannot load configuration from " + path + `: parsing configuration: cluster: unknown key "bogus"`, wantFailing: true},
		{name: "same content as before the deletion", do: func() { writeAtomic(t, path, richWithSerial(t, 1005)) }, want: 1005},
		{name: "bad again", do: func() { writeAtomic(t, path, badConfig(t)) }, want: 1005, wantFailing: true},
		{name: "back to the content served", do: func() { writeAtomic(t, path, richWithSerial(t, 1005)) }, want: 1005},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			if err := w.LoadNow(); err != nil {
				t.Fatal(err)
			}
			if got := rec.serial(); got != s.want {
				t.Fatalf("serial = %d, want %d (unavailable %q)", got, s.want, rec.unavailable())
			}
			if s.want < 0 && !strings.HasPrefix(rec.unavailable(), s.wantText) {
				t.Fatalf("answer = %q, want prefix %q", rec.unavailable(), s.wantText)
			}
			if got := w.Status().FailingNow; got != s.wantFailing {
				t.Fatalf("FailingNow = %v, want %v (status %+v)", got, s.wantFailing, w.Status())
			}
		})
	}
	st := w.Status()
	// Loads: 1000..1005, and 1005 again after the deletion (going back
	// to the content served needs no load); failures: three bad contents,
	// one bad re-creation.
	if st.Loads != 7 || st.Failures != 4 || st.LastGoodClusterSerial != 1005 {
		t.Fatalf("status %+v: want 7 loads, 4 failures, last good 1005", st)
	}
}

func TestBrokenAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	writeAtomic(t, path, []byte(`{"version": 1}`))
	var rec recorder
	w := New(Config{Path: path, Publish: rec.publish, Logger: quiet()})
	if err := w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	if got := rec.unavailable(); !strings.HasPrefix(got, "Cannot load configuration from "+path+": parsing configuration: ") {
		t.Fatalf("answer %q", got)
	}
	if st := w.Status(); st.Serving || st.Failures != 1 || !strings.Contains(st.LastError, path) {
		t.Fatalf("status %+v", st)
	}
}

// TestFailureLoggedOnce checks that a bad config is logged once, however
// often it is looked at, and that the log says which file and where.
func TestFailureLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	writeAtomic(t, path, richWithSerial(t, 1000))
	logs := &logRecorder{}
	var rec recorder
	w := New(Config{Path: path, Publish: rec.publish, Logger: slog.New(logs)})
	if err := w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, path, badConfig(t))
	for range 5 {
		if err := w.LoadNow(); err != nil {
			t.Fatal(err)
		}
	}
	if n := logs.count("still serving the last good one"); n != 1 {
		t.Fatalf("failure logged %d times, want once: %q", n, logs.msgs)
	}
	st := w.Status()
	if !strings.Contains(st.LastError, path) || !strings.Contains(st.LastError, `cluster: unknown key "bogus"`) {
		t.Fatalf("LastError %q does not say which file and where", st.LastError)
	}
	if st.Failures != 1 || st.LastGoodClusterSerial != 1000 || st.LastGoodTime.IsZero() || rec.serial() != 1000 {
		t.Fatalf("status %+v, serving %d", st, rec.serial())
	}
}

func TestKeyAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	keyPath := filepath.Join(dir, "hmac.key")
	writeAtomic(t, path, richWithSerial(t, 1000))
	var rec recorder
	w := New(Config{Path: path, Publish: rec.publish, KeyPath: keyPath, PublishKey: rec.publishKey, Logger: quiet()})
	err := w.LoadNow()
	if err == nil || !strings.HasPrefix(err.Error(), "reading HMAC key: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key: err = %v, want a wrapped not-exist error", err)
	}
	// Nothing is loaded: the daemon is going to exit.
	if rec.count.Load() != 0 || rec.keys.Load() != 0 {
		t.Fatalf("published %d states, %d keys", rec.count.Load(), rec.keys.Load())
	}
	writeAtomic(t, keyPath, []byte("key-1\n"))
	if err := w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	if rec.keyText() != "key-1\n" || rec.serial() != 1000 {
		t.Fatalf("key %q, serial %d", rec.keyText(), rec.serial())
	}
}

// fileChange is one way of changing config.data on disk.
type fileChange struct {
	name string
	do   func(t *testing.T, path string, data []byte)
}

var fileChanges = []fileChange{
	{"rename over", func(t *testing.T, path string, data []byte) { writeAtomic(t, path, data) }},
	{"in-place rewrite", func(t *testing.T, path string, data []byte) { writeInPlace(t, path, data) }},
	{"copy", func(t *testing.T, path string, data []byte) { copyOver(t, path, data) }},
	{"rename over a hard-linked old inode", func(t *testing.T, path string, data []byte) {
		// Keep the old inode alive under another name (a backup): the new
		// file cannot reuse its inode number.
		bak := path + ".bak"
		os.Remove(bak)
		if err := os.Link(path, bak); err != nil {
			t.Fatal(err)
		}
		writeAtomic(t, path, data)
	}},
	{"write through a hard link in another directory", func(t *testing.T, path string, data []byte) {
		// No event reaches config.data's directory: only polling sees it.
		other := filepath.Join(filepath.Dir(filepath.Dir(path)), "other")
		if err := os.MkdirAll(other, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(other, "link")
		os.Remove(link)
		if err := os.Link(path, link); err != nil {
			t.Fatal(err)
		}
		writeInPlace(t, link, data)
	}},
	{"delete and re-create", func(t *testing.T, path string, data []byte) {
		remove(t, path)
		writeInPlace(t, path, data)
	}},
}

// TestRunPicksUpChanges applies every kind of change to a running Watcher,
// with inotify and by polling only, and waits for each new serial.
func TestRunPicksUpChanges(t *testing.T) {
	for _, mode := range []Mode{Inotify, Polling} {
		t.Run(string(mode), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lib")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "config.data")
			writeAtomic(t, path, richWithSerial(t, 2000))
			var rec recorder
			w := New(Config{Path: path, Publish: rec.publish, Logger: quiet(), Polling: mode == Polling,
				PollInterval: 10 * time.Millisecond, SafetyInterval: 50 * time.Millisecond,
				MinInterval: time.Millisecond, Settle: 5 * time.Millisecond})
			if err := w.LoadNow(); err != nil {
				t.Fatal(err)
			}
			stop := runWatcher(t, w)
			defer stop()
			eventually(t, "mode "+string(mode), func() bool { return w.Status().Mode == mode })

			serial := 2000
			for _, c := range fileChanges {
				t.Run(c.name, func(t *testing.T) {
					serial++
					c.do(t, path, richWithSerial(t, serial))
					eventually(t, fmt.Sprintf("serial %d", serial), func() bool { return rec.serial() == int64(serial) })
				})
			}
			t.Run("delete stops the answers", func(t *testing.T) {
				remove(t, path)
				eventually(t, "status 1", func() bool { return strings.Contains(rec.unavailable(), "does not exist") })
			})
			t.Run("re-created", func(t *testing.T) {
				serial++
				writeAtomic(t, path, richWithSerial(t, serial))
				eventually(t, "re-created config", func() bool { return rec.serial() == int64(serial) })
			})
			t.Run("bad config keeps the last good one", func(t *testing.T) {
				before := w.Status().Failures
				writeAtomic(t, path, badConfig(t))
				eventually(t, "failure", func() bool { return w.Status().FailingNow })
				if rec.serial() != int64(serial) || w.Status().Failures != before+1 {
					t.Fatalf("serving %d, status %+v", rec.serial(), w.Status())
				}
			})
			t.Run("fixed", func(t *testing.T) {
				serial++
				writeAtomic(t, path, richWithSerial(t, serial))
				eventually(t, "fixed config", func() bool { return rec.serial() == int64(serial) && !w.Status().FailingNow })
				// The pacing's cost of the load, counted once the load
				// is done: at least its own duration, and in the total.
				eventually(t, "the load's cost", func() bool {
					st := w.Status()
					return st.LastLoadCost >= st.LastLoadDuration && st.LastLoadCost > 0 && st.LoadCost >= st.LastLoadCost
				})
			})
			t.Run("touch is not a change", func(t *testing.T) {
				loads, published := w.Status().Loads, rec.count.Load()
				now := time.Now()
				if err := os.Chtimes(path, now, now); err != nil {
					t.Fatal(err)
				}
				checks := w.Status().Checks
				eventually(t, "a check", func() bool { return w.Status().Checks > checks+1 })
				if w.Status().Loads != loads || rec.count.Load() != published {
					t.Fatalf("a touch reloaded the config: status %+v", w.Status())
				}
			})
		})
	}
}

// runWatcher runs l until the returned function is called.
func runWatcher(t testing.TB, w *Watcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
	}
}

// TestRunKey checks that a running Watcher follows hmac.key: a new key is
// published, a missing or empty one keeps the last good key.
func TestRunKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	keyPath := filepath.Join(dir, "hmac.key")
	writeAtomic(t, path, richWithSerial(t, 3000))
	writeAtomic(t, keyPath, []byte("key-1\n"))
	var rec recorder
	w := New(Config{Path: path, Publish: rec.publish, KeyPath: keyPath, PublishKey: rec.publishKey, Logger: quiet(),
		PollInterval: 10 * time.Millisecond})
	if err := w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	stop := runWatcher(t, w)
	defer stop()
	if rec.keyText() != "key-1\n" {
		t.Fatalf("key %q", rec.keyText())
	}
	writeAtomic(t, keyPath, []byte("key-2\n"))
	eventually(t, "key-2", func() bool { return rec.keyText() == "key-2\n" })
	remove(t, keyPath)
	eventually(t, "key failure", func() bool { return w.Status().KeyFailures == 1 })
	writeInPlace(t, keyPath, nil)
	eventually(t, "empty key failure", func() bool { return w.Status().KeyFailures == 2 })
	if rec.keyText() != "key-2\n" {
		t.Fatalf("key %q, want the last good one", rec.keyText())
	}
	writeInPlace(t, keyPath, []byte("key-3\n"))
	eventually(t, "key-3", func() bool { return rec.keyText() == "key-3\n" })
	if st := w.Status(); st.KeyChanges != 2 || st.KeyError != "" {
		t.Fatalf("status %+v", st)
	}
}
