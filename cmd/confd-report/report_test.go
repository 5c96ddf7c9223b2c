package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	// Burn CPU until the count is not 0: on a loaded machine 50 ms of
	// wall time may be less than one 10 ms tick of CPU, so the bound is
	// wide and the loop ends as soon as a tick is counted.
	var ticks int64
	var err error
	for start := time.Now(); time.Since(start) < 10*time.Second; {
		if ticks, err = cpuTicks(pid); err != nil || ticks > 0 {
			break
		}
	}
	if err != nil || ticks <= 0 {
		t.Errorf("cpuTicks(self) = %d, %v", ticks, err)
	}
	if kb := rssKB(pid); kb <= 0 {
		t.Errorf("rssKB(self) = %d", kb)
	}
	if _, err := cpuTicks(-1); err == nil {
		t.Error("cpuTicks(-1) did not fail")
	}
}

func TestLoadDuration(t *testing.T) {
	for _, tc := range []struct {
		log  string
		want time.Duration
	}{
		{"x INFO Loaded new config path=/a serial=1 bytes=5 duration=13.487ms parts=2\n", 13487 * time.Microsecond},
		{"x INFO starting\nx INFO Loaded new config duration=1.5s\nx INFO Loaded new config duration=2s\n", 1500 * time.Millisecond},
		{"nothing\n", 0},
	} {
		p := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(p, []byte(tc.log), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := loadDuration(p); got != tc.want {
			t.Errorf("loadDuration(%q) = %v, want %v", tc.log, got, tc.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	if !strings.Contains(verdict(true), "met") || !strings.Contains(verdict(false), "not met") {
		t.Error("verdicts")
	}
}

func TestRenderNamesTargets(t *testing.T) {
	r := &report{started: time.Now(), openRate: 1000, opts: options{rounds: 3}, servers: []string{"goconfd (1 socket)", "minimal (1 socket)"}}
	// goconfd costs 10, 11, 30 µs in three rounds, minimal 10, 10, 10:
	// the median of the per-round ratios is 1.10.
	for round, costs := range [][2]float64{{10, 10}, {11, 10}, {30, 10}} {
		for i, s := range r.servers {
			for _, w := range []string{"ping", "mix", "mix-single", "rtt"} {
				m := measurement{server: s, workload: w, cpuUS: costs[i], args: []string{w}, round: round}
				m.res.Rate, m.res.LatencyUS.P50 = 1000, 100
				r.runs = append(r.runs, m)
			}
		}
	}
	open := measurement{server: "goconfd (1 socket)", workload: "open", args: []string{"open"}}
	open.res.LatencyUS.P99 = 900
	open.res.SendLagUS = &sendLag{P99: 700}
	r.runs = append(r.runs, open)
	text := r.render()
	for _, want := range []string{"# Performance", "| goconfd / minimal, CPU per request, 1 socket | 1.10× | 1.10× | 1.10× |", "| goconfd (1 socket) | 11.00 µs (10.00–30.00) |", "**met**", "Noise", "3 rounds", "| 900.0 µs | 700.0 µs | 0.000 % |"} {
		if !strings.Contains(text, want) {
			t.Errorf("report does not contain %q:\n%s", want, text)
		}
	}
}
