// Command confd-report measures goconfd against Ganeti 3.0.2's
// ganeti-confd and a minimal verify-and-sign server (cmd/confd-minimal)
// in one run and writes docs/performance.md: the Go micro-benchmarks,
// then for each server, pinned with taskset to one CPU while confd-load
// runs on another, the server CPU per request (utime+stime from
// /proc/PID/stat over the run, divided by the requests answered) on
// ping and on a twelve-type mix, the saturated throughput, the median
// round trip with one request in flight, the p99 in open loop at half
// Ganeti's saturated rate, and goconfd against cluster size
// (internal/clustergen). It is bounded: about five minutes.
//
//	go run ./cmd/confd-report                 # from the module root
//	go run ./cmd/confd-report -o /tmp/perf.md -d 2s -sizes 100,1000
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed mix-rich.json
var richMix []byte

// The CPUs the server and the load generator are pinned to.
const (
	serverCPU = 0
	loadCPU   = 1
	// ticksPerSecond is Linux's USER_HZ, the unit of /proc/PID/stat.
	ticksPerSecond = 100
)

// defaultRounds is how many rounds of the server comparison run unless
// -rounds says otherwise.
const defaultRounds = 3

type options struct {
	out      string
	duration time.Duration
	bench    bool
	refDir   string
	servers  bool
	rounds   int
	sizes    []int
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "confd-report: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, log io.Writer) error {
	fs := flag.NewFlagSet("confd-report", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.out, "o", "docs/performance.md", "the report `file` to write")
	fs.DurationVar(&o.duration, "d", 2*time.Second, "length of each loaded run")
	fs.IntVar(&o.rounds, "rounds", defaultRounds, "rounds of the server comparison (medians are reported)")
	fs.BoolVar(&o.bench, "bench", true, "run the Go micro-benchmarks first")
	fs.BoolVar(&o.servers, "servers", true, "compare the servers (goconfd, minimal, Ganeti)")
	fs.StringVar(&o.refDir, "ref", "conformance/reference", "the reference scripts' `directory` (Ganeti 3.0.2, installed by setup.sh)")
	sizes := fs.String("sizes", "100,1000,10000,50000", "cluster sizes (instances) of the curve, comma-separated; empty for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rounds < 1 || o.duration <= 0 {
		return fmt.Errorf("-rounds must be at least 1 and -d positive")
	}
	for _, f := range strings.Split(*sizes, ",") {
		if f = strings.TrimSpace(f); f != "" {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				return fmt.Errorf("-sizes: %q is not a number of instances", f)
			}
			o.sizes = append(o.sizes, n)
		}
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("taskset (util-linux) is needed to pin the processes: %w", err)
	}
	dir, err := os.MkdirTemp("", "confd-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r := &report{opts: o, dir: dir, log: log, started: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := r.measure(ctx); err != nil {
		return err
	}
	text := r.render()
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s\n", o.out)
	return nil
}

// build compiles the three programs into dir.
func build(dir string) (map[string]string, error) {
	bins := map[string]string{}
	for _, name := range []string{"ganeti-confd", "confd-load", "confd-minimal"} {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s: %w", name, err)
		}
		bins[name] = out
	}
	return bins, nil
}
