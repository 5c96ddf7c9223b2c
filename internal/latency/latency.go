// Package latency is the one definition of latency percentiles shared by
// goconfd's tools: confd-load's merged histograms and confd-client -r's
// timing summary both record into a Histogram and read the same
// percentiles from it, so a p99 means the same thing in both.
//
// A Histogram is an HDR histogram (github.com/HdrHistogram/hdrhistogram-go)
// of durations in nanoseconds from 1 ns to 1000 s with three significant
// digits: any recorded value is reported within 0.1 % of itself, whatever
// its magnitude, in constant memory, and histograms recorded apart (one
// per socket) merge exactly.
//
// The percentile p of n recorded values is the value of rank
// ⌊p/100·n + ½⌋ (at least 1, at most n) in ascending order, the nearest
// rank, reported as the highest value equivalent to it at the
// histogram's precision; p 0 is the minimum and p 100 the maximum.
package latency

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Highest is the longest duration a Histogram records as itself; longer
// ones are recorded as Highest.
const Highest = 1000 * time.Second

// Percentiles are the percentiles a Summary reports.
var Percentiles = []float64{50, 90, 99, 99.9}

// Histogram records durations. The zero value is not usable: call New.
// A Histogram is not safe for concurrent use; record into one per
// goroutine and Merge them.
type Histogram struct {
	h *hdrhistogram.Histogram
}

// New returns an empty Histogram.
func New() *Histogram {
	return &Histogram{h: hdrhistogram.New(1, int64(Highest), 3)}
}

// Record adds one duration; a negative one counts as 0.
func (h *Histogram) Record(d time.Duration) {
	h.h.RecordValue(int64(min(max(d, 0), Highest))) //nolint:errcheck // clamped into range
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	h.h.Merge(o.h)
}

// Reset empties h.
func (h *Histogram) Reset() { h.h.Reset() }

// Count is the number of recorded durations.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) as the package
// comment defines it, or 0 when nothing was recorded.
func (h *Histogram) Percentile(p float64) time.Duration {
	return time.Duration(h.h.ValueAtPercentile(p))
}

// Min returns the shortest recorded duration (at the histogram's
// precision), or 0.
func (h *Histogram) Min() time.Duration { return h.Percentile(0) }

// Max returns the longest recorded duration (at the histogram's
// precision), or 0.
func (h *Histogram) Max() time.Duration { return h.Percentile(100) }

// Mean returns the mean recorded duration, or 0.
func (h *Histogram) Mean() time.Duration { return time.Duration(h.h.Mean()) }

// Summary is the usual reading of a Histogram.
type Summary struct {
	Count                    int64
	Min, P50, P90, P99, P999 time.Duration
	Max, Mean                time.Duration
}

// Summarize reads h's Summary.
func (h *Histogram) Summarize() Summary {
	return Summary{
		Count: h.Count(),
		Min:   h.Min(), P50: h.Percentile(50), P90: h.Percentile(90),
		P99: h.Percentile(99), P999: h.Percentile(99.9),
		Max: h.Max(), Mean: h.Mean(),
	}
}

// Micros returns d in microseconds, rounded to 0.1 µs, for reports.
func Micros(d time.Duration) float64 {
	return float64(d.Round(100*time.Nanosecond)) / 1e3
}

// String prints the summary's percentiles in microseconds.
func (s Summary) String() string {
	return fmt.Sprintf("p50 %.1fµs p90 %.1fµs p99 %.1fµs p99.9 %.1fµs max %.1fµs",
		Micros(s.P50), Micros(s.P90), Micros(s.P99), Micros(s.P999), Micros(s.Max))
}
