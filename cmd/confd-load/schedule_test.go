package main

import (
	"math"
	"testing"
	"time"
)

// due is how many requests of s are due by now (requests 0..due-1):
// the test's view of the schedule, from the same fields at uses.
func (s schedule) due(now time.Time) int64 {
	d := float64(now.Sub(s.start)) - s.offset
	if d < 0 {
		return 0
	}
	return int64(math.Floor(d/s.interval)) + 1
}

func TestSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, tc := range []struct {
		name             string
		rate             float64
		sockets, id      int
		at               []time.Duration // of requests 0, 1, 2
		dueAt            time.Duration
		due              int64
		inSecond         int64 // requests due in the first second
		inSecondAllSocks int64
	}{
		{"one socket 1000/s", 1000, 1, 0, []time.Duration{0, ms, 2 * ms}, 2500 * time.Microsecond, 3, 1000, 1000},
		{"two sockets, first", 1000, 2, 0, []time.Duration{0, 2 * ms, 4 * ms}, 2 * ms, 2, 500, 1000},
		{"two sockets, second", 1000, 2, 1, []time.Duration{ms, 3 * ms, 5 * ms}, 2 * ms, 1, 500, 1000},
		{"before start", 10, 1, 0, []time.Duration{0, 100 * ms, 200 * ms}, -ms, 0, 10, 10},
		{"fractional rate", 3, 1, 0, []time.Duration{0, 333333333, 666666666}, 999 * ms, 3, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSchedule(start, tc.rate, tc.sockets, tc.id)
			for i, want := range tc.at {
				if got := s.at(int64(i)).Sub(start); got != want {
					t.Errorf("at(%d) = start+%v, want +%v", i, got, want)
				}
			}
			if got := s.due(start.Add(tc.dueAt)); got != tc.due {
				t.Errorf("due(+%v) = %d, want %d", tc.dueAt, got, tc.due)
			}
			if got := s.due(start.Add(time.Second - 1)); got != tc.inSecond {
				t.Errorf("due in the first second: %d, want %d", got, tc.inSecond)
			}
			var all int64
			for id := range tc.sockets {
				all += newSchedule(start, tc.rate, tc.sockets, id).due(start.Add(time.Second - 1))
			}
			if all != tc.inSecondAllSocks {
				t.Errorf("all sockets: %d due in the first second, want %d", all, tc.inSecondAllSocks)
			}
		})
	}
}

func TestRampRates(t *testing.T) {
	for _, tc := range []struct {
		start, step, max float64
		want             []float64
		err              bool
	}{
		{1000, 1000, 3000, []float64{1000, 2000, 3000}, false},
		{1000, 1000, 3500, []float64{1000, 2000, 3000}, false},
		{500, 250, 500, []float64{500}, false},
		{0.1, 0.1, 0.3, []float64{0.1, 0.2, 0.30000000000000004}, false},
		{0, 1, 10, nil, true},
		{10, 0, 10, nil, true},
		{10, 1, 5, nil, true},
		{1, 1, 5000, nil, true},
	} {
		got, err := rampRates(tc.start, tc.step, tc.max)
		if (err != nil) != tc.err {
			t.Errorf("rampRates(%g, %g, %g) error %v, want error %v", tc.start, tc.step, tc.max, err, tc.err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("rampRates(%g, %g, %g) = %v, want %v", tc.start, tc.step, tc.max, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("rampRates(%g, %g, %g) = %v, want %v", tc.start, tc.step, tc.max, got, tc.want)
				break
			}
		}
	}
}
