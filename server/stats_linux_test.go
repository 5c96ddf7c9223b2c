package server

import (
	"log/slog"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goconfd/goconfd/protocol"
)

// BenchmarkLoopLatencySample measures (as wall time and as the
// thread's CPU time) the loop's cost per datagram with
// the real Pipeline (a signed cluster-master request) and latency
// sampling off (as without --metrics-address), one datagram in
// DefaultLatencySample timed (as with it), and every datagram timed.
func BenchmarkLoopLatencySample(b *testing.B) {
	now := time.Now()
	p := newTestPipeline(b, now)
	req := protocol.AppendRequest(nil, testKey, now, protocol.TypeClusterMaster, nil, "9aa0e7f6-f5f4-4e9b-a0a8-5c2e6d2a2b13")
	for _, tt := range []struct {
		name   string
		sample int
	}{{"off", 0}, {"sampled", DefaultLatencySample}, {"every", 1}} {
		b.Run(tt.name, func(b *testing.B) {
			// Thread CPU time, unlike the wall clock, does not count the
			// time the benchmark waits for a core on a busy machine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			env := &loopEnv{handler: p, log: slog.New(slog.DiscardHandler), done: make(chan struct{}), sample: tt.sample}
			ctr := new(sockCounters)
			l := newSockLoop(&benchConn{req: req}, env, ctr, sockOpts{}, DefaultBatchSize)
			b.ReportAllocs()
			var before, after unix.Rusage
			if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := l.serveBatch(); err != nil {
					b.Fatal(err)
				}
			}
			if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
				b.Fatal(err)
			}
			var st Stats
			ctr.addTo(&st)
			if st.Outcomes[Answered] != st.Received {
				b.Fatalf("%d of %d datagrams answered", st.Outcomes[Answered], st.Received)
			}
			n := float64(b.N * DefaultBatchSize)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/datagram")
			b.ReportMetric(float64(cpuTime(&after)-cpuTime(&before))/n, "cpu-ns/datagram")
		})
	}
}

// cpuTime is the user and system time of ru in nanoseconds.
func cpuTime(ru *unix.Rusage) int64 {
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkClock is the cost of the two clock reads that time one
// sampled datagram.
func BenchmarkClock(b *testing.B) {
	var d time.Duration
	for b.Loop() {
		start := time.Now()
		d += time.Since(start)
	}
	if d < 0 {
		b.Fatal(d)
	}
}
