//go:build unix

package reload

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/clustergen"
)

// benchSerial is the cluster serial of the generated configs; versions
// differ in it only, written with the same number of digits.
const benchSerial = 1000000

var benchConfigs sync.Map // size → []byte

func benchConfig(b *testing.B, size int) []byte {
	return benchConfigSeed(b, size, 0)
}

// benchConfigSeed is benchConfig with another seed: a cluster of the same
// size that shares nothing with the first.
func benchConfigSeed(b *testing.B, size int, seed uint64) []byte {
	type key struct {
		size int
		seed uint64
	}
	if v, ok := benchConfigs.Load(key{size, seed}); ok {
		return v.([]byte)
	}
	o := clustergen.Default()
	o.Nodes = 0
	o.TargetSize = size
	o.ClusterSerial = benchSerial
	if seed != 0 {
		o.Seed = 1000 + seed
		o.ClusterName = "other.example.org"
		o.Domain = "other.example.org"
	}
	data, _, err := clustergen.Generate(o)
	if err != nil {
		b.Fatal(err)
	}
	benchConfigs.Store(key{size, seed}, data)
	return data
}

// heapBytes is the memory held by heap objects, live or not yet swept:
// what the process holds, read without stopping the world.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// restAfter is a pause after which the next load is not held back by the
// pacing (Config.LoadShare): a load's cost may be its wall time on every
// core, and the check around it (the collection after a large load)
// counts too, so allow twice that.
func restAfter(st Status) time.Duration {
	cost := 2 * time.Duration(runtime.GOMAXPROCS(0)) * st.LastLoadDuration
	return DefaultMinInterval + time.Duration(float64(cost)/DefaultLoadShare) + 20*time.Millisecond
}

// sampleHeap samples heapBytes every interval until the returned function
// is called, which returns the highest sample.
func sampleHeap(interval time.Duration) (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-sampled
		return peak.Load()
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	return heapBytes()
}

// BenchmarkReload measures reloading configs of about 256 kB, 1, 10 and
// 50 MB made by internal/clustergen, with inotify, as the daemon does. For 100
// renames:
//
//	go test ./reload -run '^$' -bench Reload -benchtime 100x
//
// It reports:
//
//   - p50-ms, p99-ms: the latency from the rename(2) of a new version
//     over config.data to the Publish of its snapshot, one rename per
//     iteration, each after the rate limit of the previous load has
//     passed (an isolated write, the common case);
//   - cpu-ms: the CPU time the process spent over that latency (p50),
//     which other load on the machine does not inflate as much;
//   - load-ms: reading, hashing, parsing and indexing (Status's
//     LastLoadDuration), p50;
//   - snap-MB: the live heap of one snapshot;
//   - peak-MB: the most the heap (live or not yet swept) grows above the
//     live state while a new version is loaded with the old one still
//     served; it includes the new snapshot;
//   - peak-x-file: peak-MB / file-MB (the new snapshot shares the parts
//     that did not change with the served one);
//   - max-heap-MB: the most heap (live or not yet swept) the watcher's
//     data took over all the renames, garbage included: what the
//     process's memory grows to under repeated reloads;
//   - cold-load-ms: the first load, with nothing to reuse;
//   - full-load-ms, full-peak-MB, full-peak-x-file: load time and heap
//     growth (as peak-MB) for a version that shares nothing with the
//     served one (another cluster of the same size), the worst case.
func BenchmarkReload(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{
		{"256kB", 256 << 10}, // a cluster of about 130 instances
		{"1MB", 1 << 20},
		{"5MB", 5 << 20}, // "configs reach several megabytes"
		{"10MB", 10 << 20},
		{"50MB", 50 << 20},
	} {
		b.Run(size.name, func(b *testing.B) { benchReload(b, size.bytes) })
	}
}

func benchReload(b *testing.B, size int) {
	base := benchConfig(b, size)
	at := bytes.Index(base, []byte(`"serial_no":`+strconv.Itoa(benchSerial)))
	if at < 0 {
		b.Fatal("cluster serial not found")
	}
	at += len(`"serial_no":`)
	buf := bytes.Clone(base)
	dir := b.TempDir()
	path := filepath.Join(dir, "config.data")
	version := func(n int) {
		copy(buf[at:], strconv.Itoa(benchSerial+n))
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, buf, 0o640); err != nil {
			b.Fatal(err)
		}
	}
	version(0)
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}

	var (
		served    atomic.Pointer[config.State]
		servedAt  atomic.Int64 // UnixNano
		published = make(chan struct{}, 1)
	)
	publish := func(st *config.State) {
		served.Store(st)
		servedAt.Store(time.Now().UnixNano())
		select {
		case published <- struct{}{}:
		default:
		}
	}
	waitFor := func(serial int64) {
		timeout := time.After(2 * time.Minute)
		for {
			if st := served.Load(); st != nil && st.Snapshot != nil && st.Snapshot.ClusterSerial() == serial {
				return
			}
			select {
			case <-published:
			case <-timeout:
				b.Fatalf("serial %d not served", serial)
			}
		}
	}

	h0 := liveHeap()
	w := New(Config{Path: path, Publish: publish, Logger: quiet()})
	if err := w.LoadNow(); err != nil {
		b.Fatal(err)
	}
	waitFor(benchSerial)
	coldLoad := w.Status().LastLoadDuration
	h1 := liveHeap()
	snap := int64(h1) - int64(h0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for w.Status().Mode == Idle {
		time.Sleep(time.Millisecond)
	}

	// Memory: one reload, the old snapshot served meanwhile.
	n := 1
	version(n)
	h1 = liveHeap()
	stopSampling := sampleHeap(500 * time.Microsecond)
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	waitFor(benchSerial + int64(n))
	peakMB := float64(int64(stopSampling())-int64(h1)) / (1 << 20)
	fileMB := float64(len(base)) / (1 << 20)
	snapMB := float64(snap) / (1 << 20)

	// Latency: one isolated rename per iteration, with the heap sampled
	// throughout.
	var lat, load, cpu []time.Duration
	stopSampling = sampleHeap(time.Millisecond)
	for b.Loop() {
		n++
		version(n)
		// Wait out the pacing after the last load: this measures a write
		// after a quiet spell, the common case.
		time.Sleep(restAfter(w.Status()))
		start, cpu0 := time.Now(), processCPU()
		if err := os.Rename(path+".tmp", path); err != nil {
			b.Fatal(err)
		}
		waitFor(benchSerial + int64(n))
		cpu = append(cpu, processCPU()-cpu0)
		lat = append(lat, time.Duration(servedAt.Load()-start.UnixNano()))
		load = append(load, w.Status().LastLoadDuration)
	}
	maxHeapMB := float64(int64(stopSampling())-int64(h0)) / (1 << 20)

	// Memory again, for a version that shares nothing with the served
	// one (another cluster of the same size): nothing is reused.
	other := benchConfigSeed(b, size, 1)
	if err := os.WriteFile(path+".tmp", other, 0o640); err != nil {
		b.Fatal(err)
	}
	time.Sleep(restAfter(w.Status()))
	h1 = liveHeap()
	stopSampling = sampleHeap(500 * time.Microsecond)
	loads := w.Status().Loads
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	for w.Status().Loads == loads {
		time.Sleep(time.Millisecond)
	}
	fullPeakMB := float64(int64(stopSampling())-int64(h1)) / (1 << 20)
	fullLoad := w.Status().LastLoadDuration
	slices.Sort(lat)
	slices.Sort(load)
	slices.Sort(cpu)
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pct(cpu, 0.5).Microseconds())/1000, "cpu-ms")
	b.ReportMetric(float64(pct(load, 0.5).Microseconds())/1000, "load-ms")
	b.ReportMetric(fileMB, "file-MB")
	b.ReportMetric(snapMB, "snap-MB")
	b.ReportMetric(peakMB, "peak-MB")
	b.ReportMetric(peakMB/fileMB, "peak-x-file")
	b.ReportMetric(maxHeapMB, "max-heap-MB")
	b.ReportMetric(float64(coldLoad.Microseconds())/1000, "cold-load-ms")
	b.ReportMetric(float64(fullLoad.Microseconds())/1000, "full-load-ms")
	b.ReportMetric(fullPeakMB, "full-peak-MB")
	b.ReportMetric(fullPeakMB/fileMB, "full-peak-x-file")
	b.Logf("%.1f MB config, %d renames: latency p50 %v p99 %v (CPU p50 %v); load p50 %v; snapshot %.0f MB; heap growth during a reload %.0f MB (%.1f× the file, new snapshot included); heap at most %.0f MB over all renames",
		fileMB, len(lat), pct(lat, 0.5).Round(time.Microsecond), pct(lat, 0.99).Round(time.Microsecond), pct(cpu, 0.5).Round(time.Microsecond),
		pct(load, 0.5).Round(time.Microsecond), snapMB, peakMB, peakMB/fileMB, maxHeapMB)
	b.Logf("%.1f MB config: first load %v; a version sharing nothing with the served one loads in %v, the heap growing by %.0f MB (%.1f× the file, new snapshot included)",
		fileMB, coldLoad.Round(time.Microsecond), fullLoad.Round(time.Microsecond), fullPeakMB, fullPeakMB/fileMB)
}
