package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/goconfd/goconfd/internal/latency"
)

// result is one run's (or one ramp step's) report; its JSON is the
// final line of a run.
type result struct {
	Mode       string  `json:"mode"` // closed, open or ramp-step
	Server     string  `json:"server"`
	Sockets    int     `json:"sockets"`
	Window     int     `json:"window,omitempty"`
	TargetRate float64 `json:"target_rate,omitempty"`
	Verified   bool    `json:"verified"`
	Seconds    float64 `json:"seconds"`
	Sent       int64   `json:"sent"`
	Answered   int64   `json:"answered"`
	Lost       int64   `json:"lost"`
	// Loss is lost / (answered + lost): requests still outstanding when
	// a closed loop stops are neither.
	Loss float64 `json:"loss"`
	// Rate is answered requests per second.
	Rate float64 `json:"rate"`
	// ReplyBytes is the mean size of the answered replies' datagrams.
	ReplyBytes float64          `json:"reply_bytes"`
	LatencyUS  latencyJSON      `json:"latency_us"`
	SendLagUS  *latencyJSON     `json:"send_lag_us,omitempty"`
	Errors     map[string]int64 `json:"errors"`
	Status     map[string]int64 `json:"status,omitempty"`

	lat *latency.Histogram
}

// latencyJSON is a latency.Summary in microseconds.
type latencyJSON struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func toJSON(s latency.Summary) latencyJSON {
	return latencyJSON{
		P50: latency.Micros(s.P50), P90: latency.Micros(s.P90), P99: latency.Micros(s.P99),
		P999: latency.Micros(s.P999), Max: latency.Micros(s.Max), Mean: latency.Micros(s.Mean),
	}
}

// collect merges the workers' histograms and counters into a result.
func collect(mode string, o *options, workers []*worker, rate float64, elapsed time.Duration) *result {
	r := &result{
		Mode: mode, Server: o.server, Sockets: len(workers), TargetRate: rate,
		Verified: !o.noVerify, Seconds: elapsed.Seconds(),
		Errors: map[string]int64{}, lat: latency.New(),
	}
	if mode == "closed" {
		r.Window = o.window
	}
	lag := latency.New()
	status := map[string]int64{}
	var replyBytes int64
	for _, w := range workers {
		replyBytes += w.replyBytes
		r.Sent += w.sent.Load()
		r.Answered += w.answered.Load()
		r.Lost += w.lost.Load()
		r.lat.Merge(w.lat)
		lag.Merge(w.lag)
		for k, n := range w.errs {
			if n > 0 {
				r.Errors[errNames[k]] += n
			}
		}
		if w.sendErrs > 0 {
			r.Errors[errNames[errSend]] += w.sendErrs
		}
		for st, n := range w.status {
			status[strconv.Itoa(int(st))] += n
		}
	}
	if len(status) > 0 {
		r.Status = status
	}
	if done := r.Answered + r.Lost; done > 0 {
		r.Loss = float64(r.Lost) / float64(done)
	}
	if r.Answered > 0 {
		r.ReplyBytes = float64(replyBytes) / float64(r.Answered)
	}
	if r.Seconds > 0 {
		r.Rate = float64(r.Answered) / r.Seconds
	}
	r.LatencyUS = toJSON(r.lat.Summarize())
	if lag.Count() > 0 {
		l := toJSON(lag.Summarize())
		r.SendLagUS = &l
	}
	return r
}

// human is the result's one-line summary.
func (r *result) human() string {
	what := fmt.Sprintf("closed loop, window %d", r.Window)
	if r.Mode != "closed" {
		what = fmt.Sprintf("open loop at %.0f/s", r.TargetRate)
	}
	s := fmt.Sprintf("%s, %d sockets: %d answered in %.2fs = %.0f/s; %s; lost %d (%.3f%%)",
		what, r.Sockets, r.Answered, r.Seconds, r.Rate, r.lat.Summarize(), r.Lost, 100*r.Loss)
	if r.SendLagUS != nil {
		s += fmt.Sprintf("; send lag p99 %.1fµs", r.SendLagUS.P99)
	}
	if len(r.Errors) > 0 {
		s += fmt.Sprintf("; errors %v", r.Errors)
	}
	return s
}

// rampResult is a ramp's report: every step, and the highest rate
// answered with loss under the limit.
type rampResult struct {
	Mode string `json:"mode"` // ramp
	// MaxRate is the highest target rate whose step lost less than
	// LossLimit (0 if even the first did not).
	MaxRate   float64   `json:"max_rate"`
	LossLimit float64   `json:"loss_limit"`
	Steps     []*result `json:"steps"`
}

// writeJSON writes v as one line.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress prints one line a second to w until stop is closed: requests
// sent and answered in the last second, and the loss so far.
func progress(w io.Writer, workers []*worker, start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastSent, lastAns int64
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			var sent, ans, lost int64
			for _, w := range workers {
				sent += w.sent.Load()
				ans += w.answered.Load()
				lost += w.lost.Load()
			}
			loss := 0.0
			if ans+lost > 0 {
				loss = 100 * float64(lost) / float64(ans+lost)
			}
			fmt.Fprintf(w, "%5.0fs  sent %8d/s  answered %8d/s  lost %d (%.3f%%)\n",
				now.Sub(start).Seconds(), sent-lastSent, ans-lastAns, lost, loss)
			lastSent, lastAns = sent, ans
		}
	}
}
