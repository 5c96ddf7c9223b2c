package main

import (
	"fmt"
	"time"
)

// schedule is one socket's share of an open loop: its requests are due
// at start + offset + i·interval, whatever happened to the earlier ones.
// Latency is measured from these times, not from when a request actually
// left, so a server (or a load generator) that falls behind shows as
// latency instead of as fewer requests (no coordinated omission).
type schedule struct {
	start    time.Time
	offset   float64 // ns; spreads the sockets' sends over one interval
	interval float64 // ns between two sends of this socket
}

// newSchedule divides rate (requests per second, all sockets together)
// over sockets and returns socket id's schedule from start.
func newSchedule(start time.Time, rate float64, sockets, id int) schedule {
	interval := 1e9 * float64(sockets) / rate
	return schedule{start: start, interval: interval, offset: interval * float64(id) / float64(sockets)}
}

// at is the time request i is due.
func (s schedule) at(i int64) time.Time {
	return s.start.Add(time.Duration(s.offset + float64(i)*s.interval))
}

// rampRates lists the rates of a ramp: from start up by step, not over
// max; at most 1000 steps.
func rampRates(start, step, max float64) ([]float64, error) {
	switch {
	case start <= 0 || step <= 0:
		return nil, fmt.Errorf("ramp: start rate and step must be positive, not %g and %g", start, step)
	case max < start:
		return nil, fmt.Errorf("ramp: the highest rate %g is below the first %g", max, start)
	case (max-start)/step >= 1000:
		return nil, fmt.Errorf("ramp: %g to %g by %g is over 1000 steps", start, max, step)
	}
	var rates []float64
	for i := 0; ; i++ {
		r := start + float64(i)*step
		if r > max*(1+1e-9) {
			return rates, nil
		}
		rates = append(rates, r)
	}
}
