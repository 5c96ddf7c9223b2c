package reload

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
)

// richWithSerial returns rich.json with its cluster serial replaced; the
// replacement keeps the file's size, so that a rewrite is not noticed
// by its size alone.
func richWithSerial(t *testing.T, serial string) []byte {
	t.Helper()
	data, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(serial) != 4 {
		t.Fatal("serial must have 4 digits")
	}
	out := bytes.Replace(data, []byte(`"serial_no": 3190`), []byte(`"serial_no": `+serial), 1)
	if bytes.Equal(out, data) && serial != "3190" {
		t.Fatal("cluster serial not found in rich.json")
	}
	return out
}

type recorder struct{ last atomic.Pointer[config.State] }

func (r *recorder) publish(st *config.State) { r.last.Store(st) }

func (r *recorder) serial(t *testing.T) int64 {
	t.Helper()
	st := r.last.Load()
	if st == nil || st.Snapshot == nil {
		t.Fatalf("no snapshot published (state %+v)", st)
	}
	return st.Snapshot.ClusterSerial()
}

func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	var rec recorder
	l := New(Config{Path: path, Publish: rec.publish, Logger: slog.New(slog.DiscardHandler)})

	// Missing at start: every request answers the I/O error.
	l.LoadNow()
	if st := rec.last.Load(); st.Snapshot != nil || !strings.HasPrefix(st.Unavailable, "Failure during configuration update: "+path) {
		t.Fatalf("missing file: state %+v", st)
	}

	steps := []struct {
		name  string
		do    func()
		check func()
	}{
		{"created", func() { writeAtomic(t, path, richWithSerial(t, "1000")) },
			func() { want(t, rec.serial(t), 1000) }},
		{"renamed over", func() { writeAtomic(t, path, richWithSerial(t, "1001")) },
			func() { want(t, rec.serial(t), 1001) }},
		{"rewritten in place, same size, same second", func() {
			if err := os.WriteFile(path, richWithSerial(t, "1002"), 0o640); err != nil {
				t.Fatal(err)
			}
		}, func() { want(t, rec.serial(t), 1002) }},
		{"broken config keeps the last good one", func() { writeAtomic(t, path, []byte(`{"version": 3000000`)) },
			func() { want(t, rec.serial(t), 1002) }},
		{"fixed again", func() { writeAtomic(t, path, richWithSerial(t, "1003")) },
			func() { want(t, rec.serial(t), 1003) }},
		{"deleted stops the answers", func() {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, func() {
			if st := rec.last.Load(); st.Snapshot != nil || !strings.Contains(st.Unavailable, "does not exist") {
				t.Fatalf("state %+v", st)
			}
		}},
		{"re-created", func() { writeAtomic(t, path, richWithSerial(t, "1004")) },
			func() { want(t, rec.serial(t), 1004) }},
		{"copied over", func() {
			if err := os.WriteFile(path+".new", richWithSerial(t, "1005"), 0o640); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path + ".new")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(data)
			f.Close()
		}, func() { want(t, rec.serial(t), 1005) }},
	}
	for _, s := range steps {
		s.do()
		l.LoadNow()
		t.Run(s.name, func(t *testing.T) { s.check() })
	}
}

func TestBrokenAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	writeAtomic(t, path, []byte(`{"version": 1}`))
	var rec recorder
	New(Config{Path: path, Publish: rec.publish, Logger: slog.New(slog.DiscardHandler)}).LoadNow()
	if st := rec.last.Load(); st.Snapshot != nil || !strings.HasPrefix(st.Unavailable, "Cannot load configuration from "+path+": parsing configuration: ") {
		t.Fatalf("state %+v", st)
	}
}

func TestRunPicksUpChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	writeAtomic(t, path, richWithSerial(t, "2000"))
	var rec recorder
	l := New(Config{Path: path, Publish: rec.publish, Logger: slog.New(slog.DiscardHandler)})
	l.LoadNow()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	writeAtomic(t, path, richWithSerial(t, "2001"))
	deadline := time.Now().Add(5 * time.Second)
	for rec.serial(t) != 2001 {
		if time.Now().After(deadline) {
			t.Fatal("change not picked up within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func want(t *testing.T, got, want int64) {
	t.Helper()
	if got != want {
		t.Fatalf("serial = %d, want %d", got, want)
	}
}
