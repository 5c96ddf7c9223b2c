package latency

import (
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	// 1..100 µs: nearest rank.
	h := New()
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{
		{0, 1 * time.Microsecond},
		{50, 50 * time.Microsecond},
		{90, 90 * time.Microsecond},
		{99, 99 * time.Microsecond},
		{99.9, 100 * time.Microsecond},
		{100, 100 * time.Microsecond},
	} {
		got := h.Percentile(tc.p)
		// Three significant digits: within 0.1 %.
		if diff := got - tc.want; diff < 0 || diff > tc.want/1000 {
			t.Errorf("p%v = %v, want %v (within 0.1%%)", tc.p, got, tc.want)
		}
	}
	if h.Count() != 100 {
		t.Errorf("Count = %d, want 100", h.Count())
	}
}

func TestMergeAndEdges(t *testing.T) {
	for _, tc := range []struct {
		name       string
		a, b       []time.Duration
		count      int64
		wantMin    time.Duration
		wantMaxMin time.Duration // Max is at least this
	}{
		{"empty", nil, nil, 0, 0, 0},
		{"one side", []time.Duration{5 * time.Millisecond}, nil, 1, 5 * time.Millisecond, 5 * time.Millisecond},
		{"both", []time.Duration{time.Microsecond}, []time.Duration{2 * time.Second}, 2, time.Microsecond, 2 * time.Second},
		{"negative and huge clamp", []time.Duration{-time.Second}, []time.Duration{2 * Highest}, 2, 0, Highest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := New(), New()
			for _, d := range tc.a {
				a.Record(d)
			}
			for _, d := range tc.b {
				b.Record(d)
			}
			a.Merge(b)
			s := a.Summarize()
			if s.Count != tc.count || s.Min != tc.wantMin && s.Min-tc.wantMin > tc.wantMin/1000 || s.Max < tc.wantMaxMin {
				t.Errorf("summary %+v, want count %d min %v max ≥ %v", s, tc.count, tc.wantMin, tc.wantMaxMin)
			}
			a.Reset()
			if a.Count() != 0 || a.Max() != 0 {
				t.Errorf("after Reset: count %d max %v", a.Count(), a.Max())
			}
		})
	}
}
