package reload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/clustergen"
)

func TestNextLoad(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cfg := Config{MinInterval: 5 * time.Millisecond, LoadShare: 0.5}
	ms := time.Millisecond
	tests := []struct {
		name   string
		wall   time.Duration // start to end
		cost   time.Duration
		loaded bool
		want   time.Duration // after t0
	}{
		{"cheap load: MinInterval after its end", 500 * time.Microsecond, 500 * time.Microsecond, true, 5500 * time.Microsecond},
		{"cheap check: twice its cost", 200 * time.Microsecond, 200 * time.Microsecond, false, 400 * time.Microsecond},
		{"costly load: cost/share after its start", 40 * ms, 40 * ms, true, 80 * ms},
		{"parallel load: CPU time counts", 1000 * ms, 3000 * ms, true, 6000 * ms},
		{"costly check", 30 * ms, 30 * ms, false, 60 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextLoad(t0, t0.Add(tt.wall), tt.cost, tt.loaded, &cfg)
			if got.Sub(t0) != tt.want {
				t.Errorf("next load %v after the start, want %v", got.Sub(t0), tt.want)
			}
		})
	}
	// Whatever the costs, a storm of loads spaced by nextLoad keeps the
	// share: the sum of the costs over the time they span.
	share := Config{MinInterval: 0, LoadShare: 0.25}
	now, spent := t0, time.Duration(0)
	for i := range 1000 {
		cost := time.Duration(i%37+1) * ms
		spent += cost
		now = nextLoad(now, now.Add(cost), cost, true, &share)
	}
	if got := float64(spent) / float64(now.Sub(t0)); got > 0.25+1e-9 {
		t.Errorf("loads used %.3f of a CPU, want at most 0.25", got)
	}
}

// stormRun renames a new version of config.data over the old one (as
// Ganeti writes it: a temporary file, then rename) every interval for
// dur, with inotify, and returns when each serial was written and when
// each was published.
type stormRun struct {
	written, published map[int64]time.Time
	elapsed            time.Duration
	status             Status
}

func storm(t *testing.T, versions func(i int) ([]byte, int64), interval, dur time.Duration) stormRun {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	data, _ := versions(0)
	writeAtomic(t, path, data)
	var mu sync.Mutex
	published := make(map[int64]time.Time)
	w := New(Config{Path: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Publish: func(st *config.State) {
		if st.Snapshot == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, ok := published[st.Snapshot.ClusterSerial()]; !ok {
			published[st.Snapshot.ClusterSerial()] = time.Now()
		}
	}})
	if err := w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for w.Status().Mode == Idle {
		time.Sleep(time.Millisecond)
	}
	written := make(map[int64]time.Time)
	start := time.Now()
	for i := 1; time.Since(start) < dur; i++ {
		data, serial := versions(i)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o640); err != nil {
			t.Fatal(err)
		}
		written[serial] = time.Now()
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
	}
	elapsed := time.Since(start)
	// Let the last write be loaded.
	last := slices.Max(mapKeys(written))
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		_, ok := published[last]
		mu.Unlock()
		if ok {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return stormRun{written: written, published: maps(published), elapsed: elapsed, status: w.Status()}
}

func mapKeys(m map[int64]time.Time) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func maps(m map[int64]time.Time) map[int64]time.Time {
	out := make(map[int64]time.Time, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestRenameStormServesEveryVersion writes a small config (rich.json,
// 30 KB) every 100 ms for 2 s: every version is published, each before
// the next is written (Ganeti's server does the same; a fixed 100 ms
// spacing skipped some). The delays are printed, not asserted.
//
// The guarantee needs the watcher to run within 100 ms of each write: on
// a 2-core machine shared at load 12 a run once missed a version (its
// watcher off the CPU until the next write). A storm that misses one is
// run again, up to three in all; a watcher that skips versions by itself
// misses them in every run and fails.
func TestRenameStormServesEveryVersion(t *testing.T) {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		missed := renameStormOnce(t)
		if len(missed) == 0 {
			return
		}
		if attempt == attempts {
			t.Fatalf("serials %v written but never served, in each of %d storms", missed, attempts)
		}
		fmt.Printf("rename storm: serials %v written but never served; running the storm again (a busy machine can keep the watcher off the CPU)\n", missed)
	}
}

// renameStormOnce runs TestRenameStormServesEveryVersion's storm once,
// prints its delays and returns the serials it never served.
func renameStormOnce(t *testing.T) []int64 {
	r := storm(t, func(i int) ([]byte, int64) {
		return richWithSerial(t, 1000+i), int64(1000 + i)
	}, 100*time.Millisecond, 2*time.Second)
	var delays []time.Duration
	var missed []int64
	for serial, w := range r.written {
		p, ok := r.published[serial]
		if !ok {
			missed = append(missed, serial)
			continue
		}
		delays = append(delays, p.Sub(w))
	}
	slices.Sort(delays)
	slices.Sort(missed)
	if len(delays) == 0 {
		t.Fatal("nothing written")
	}
	fmt.Printf("rename storm, 30 KB config every 100 ms: %d/%d versions served, delay from write to publication: median %v, max %v\n",
		len(delays), len(r.written), delays[len(delays)/2].Round(10*time.Microsecond), delays[len(delays)-1].Round(10*time.Microsecond))
	return missed
}

// TestRenameStormLargeConfigBoundedCPU writes a large config every 100 ms
// for 3 s (10 MB; 50 MB with GOCONFD_SOAK): loads are spaced by their
// cost, so loading never takes more than LoadShare of one CPU over the
// storm, whatever the load costs; versions in between are skipped.
func TestRenameStormLargeConfigBoundedCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("large configs")
	}
	size, dur := 10<<20, 3*time.Second
	if os.Getenv("GOCONFD_SOAK") != "" {
		size, dur = 50<<20, 10*time.Second
	}
	o := clustergen.Default()
	o.Nodes = 0
	o.TargetSize = size
	o.ClusterSerial = 1000000
	base, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`"serial_no":1000000`)
	if !bytes.Contains(base, old) {
		t.Fatal("cluster serial not found in the generated config")
	}
	r := storm(t, func(i int) ([]byte, int64) {
		s := int64(1000000 + i)
		return bytes.Replace(base, old, fmt.Appendf(nil, `"serial_no":%d`, s), 1), s
	}, 100*time.Millisecond, dur)
	st := r.status
	// The last load may have started just before the storm's end, and
	// every look waits for the one before: allow the last cost on top.
	span := r.elapsed + st.LastLoadDuration
	share := float64(st.LoadCost) / float64(span)
	fmt.Printf("rename storm, %d MB config every 100 ms for %v: %d of %d versions loaded, last load %v, loading cost %v = %.2f of one CPU (limit %.2f)\n",
		len(base)>>20, r.elapsed.Round(time.Millisecond), len(r.published)-1, len(r.written), st.LastLoadDuration.Round(time.Millisecond),
		st.LoadCost.Round(time.Millisecond), share, DefaultLoadShare)
	// The first load of the storm follows a quiet spell; each later one
	// waits for cost/share after the start of the one before.
	if limit := DefaultLoadShare + float64(st.LastLoadDuration*time.Duration(2))/float64(span) + 0.05; share > limit {
		t.Errorf("loading took %.2f of a CPU, want at most %.2f", share, limit)
	}
	if _, ok := r.published[slices.Max(mapKeys(r.written))]; !ok {
		t.Errorf("the last version was never served")
	}
}
