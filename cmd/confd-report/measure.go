package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
)

// loadResult is the part of confd-load's JSON report used here.
type loadResult struct {
	Sent, Answered, Lost int64
	Loss, Rate           float64
	ReplyBytes           float64 `json:"reply_bytes"`
	LatencyUS            struct {
		P50  float64 `json:"p50"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p99.9"`
		Max  float64 `json:"max"`
	} `json:"latency_us"`
	// SendLagUS is how late the open loop's requests left after they
	// were due (nil in a closed loop): part of every latency above.
	SendLagUS *sendLag `json:"send_lag_us"`
	Errors    map[string]int64
}

// sendLag is the part of confd-load's send_lag_us the report prints.
type sendLag struct {
	P99 float64 `json:"p99"`
}

// measurement is one loaded run against one server.
type measurement struct {
	server, workload string
	args             []string
	res              loadResult
	cpuUS            float64 // server CPU per answered request
	round            int
}

// sizePoint is goconfd on one generated cluster.
type sizePoint struct {
	instances, nodes int
	configBytes      int
	ready, load      time.Duration
	rssKB            int64
	runs             []measurement
}

type report struct {
	opts    options
	dir     string
	log     io.Writer
	started time.Time
	bins    map[string]string
	key     string
	config  string
	mix     string

	bench       string
	benchCmd    string
	runs        []measurement
	servers     []string // in measuring order
	openRate    float64
	ganetiError string
	sizes       []sizePoint
}

func (r *report) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (r *report) measure(ctx context.Context) error {
	var err error
	r.logf("building")
	if r.bins, err = build(r.dir); err != nil {
		return err
	}
	r.key = "examples/hmac.key"
	r.config = "config/testdata/rich.json"
	r.mix = filepath.Join(r.dir, "mix.json")
	if err := os.WriteFile(r.mix, richMix, 0o644); err != nil {
		return err
	}
	if r.opts.bench {
		r.logf("micro-benchmarks")
		r.benchCmd = "taskset -c 0 go test -run '^$' -bench '^(BenchmarkDecode|BenchmarkAppendReply|BenchmarkAppendPrepared|BenchmarkAppendReplyLarge|BenchmarkAnswer|BenchmarkPipeline|BenchmarkReplyDecode)$' -benchtime 200ms -benchmem ./protocol ./query ./server"
		out, err := exec.CommandContext(ctx, "bash", "-c", r.benchCmd).CombinedOutput()
		if err != nil {
			return fmt.Errorf("benchmarks: %w\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "cpu:") && !strings.Contains(r.bench, "cpu:") {
				r.bench += line + "\n"
			}
		}
	}
	port := 18150
	next := func() int { port++; return port }

	if r.opts.servers {
		if err := r.compare(ctx, next); err != nil {
			return err
		}
	}
	for _, n := range r.opts.sizes {
		if err := r.size(ctx, n, next()); err != nil {
			return err
		}
	}
	return nil
}

// compare starts Ganeti, the minimal server and goconfd (one socket and
// two) side by side, all pinned to the server CPU (an idle one costs
// nothing), and measures them in rounds: each round runs each
// closed-loop workload once on every server, one server right after the
// other, starting one server later than the last round, so that the
// machine's changing background load falls on all of them alike. The
// report gives medians over the rounds, and ratios as medians of the
// ratios within each round. Then one open loop each, at half Ganeti's
// median saturated rate on the mix.
func (r *report) compare(ctx context.Context, next func() int) error {
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	g, err := startGaneti(r.opts.refDir, r.dir, next(), r.config, r.key)
	if err != nil {
		r.ganetiError = err.Error()
		r.logf("Ganeti not measured: %v", err)
		g = nil
	} else {
		servers = append(servers, g)
	}
	for _, n := range []int{1, 2} {
		m, err := startMinimal(r.bins["confd-minimal"], next(), r.key, n)
		if err != nil {
			return err
		}
		servers = append(servers, m)
		gc, err := startGoconfd(r.bins["ganeti-confd"], r.dir, next(), r.config, r.key, n)
		if err != nil {
			return err
		}
		servers = append(servers, gc)
	}
	for _, s := range servers {
		r.servers = append(r.servers, s.name)
	}
	d := r.opts.duration.String()
	// The saturating workloads: four client sockets, not two. SO_REUSEPORT
	// spreads them over a 2-socket server's sockets by a hash of their
	// ports, and two put both on one of them in about half the runs, which
	// then measured one busy socket and one idle (a loop that never
	// empties its queue, preempted by the runtime: 79 times in 2 s against
	// 2 with four sockets).
	saturating := func(args ...string) []string {
		return append([]string{"-w", "4", "--window", "16", "-d", d}, args...)
	}
	workloads := []struct {
		name string
		args []string
	}{
		{"ping", saturating("ping")},
		{"mix", saturating("--mix", "MIX")},
		{"mix-single", saturating("--no-batch", "--mix", "MIX")},
		{"rtt", []string{"-w", "1", "--window", "1", "-d", d, "ping"}},
	}
	// Workload by workload, so that the runs a ratio compares are a few
	// seconds apart: the background load of this machine and of its host
	// changes over tens of seconds.
	for round := range r.opts.rounds {
		for _, w := range workloads {
			for i := range servers {
				s := servers[(i+round)%len(servers)]
				m, err := r.load(ctx, s, w.name, w.args)
				if err != nil {
					return err
				}
				m.round = round
				r.runs = append(r.runs, m)
			}
		}
	}
	if g != nil {
		r.openRate = float64(int(r.stat(g.name, "mix").rate/2/100) * 100)
	}
	if r.openRate == 0 {
		r.openRate = 2000
	}
	for _, s := range servers {
		if err := r.open(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// open runs the open loop on the mix at r.openRate.
func (r *report) open(ctx context.Context, s *server) error {
	m, err := r.load(ctx, s, "open", []string{"-w", "2", "--rate", strconv.FormatFloat(r.openRate, 'f', 0, 64), "-d", r.opts.duration.String(), "--mix", "MIX"})
	if err != nil {
		return err
	}
	r.runs = append(r.runs, m)
	return nil
}

// load runs confd-load pinned to the load CPU against s and measures
// the server's CPU time over the run.
func (r *report) load(ctx context.Context, s *server, workload string, args []string) (measurement, error) {
	full := []string{"--key-file", r.key, "-s", "127.0.0.1:" + strconv.Itoa(s.port)}
	for _, a := range args {
		if a == "MIX" {
			a = r.mix
		}
		full = append(full, a)
	}
	t0, err := cpuTicks(s.pid)
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w", s.name, err)
	}
	cmd := pin(loadCPU, append([]string{r.bins["confd-load"]}, full...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return measurement{}, fmt.Errorf("confd-load %s against %s: %w: %s", workload, s.name, err, stderr.String())
	}
	t1, err := cpuTicks(s.pid)
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w", s.name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res loadResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return measurement{}, fmt.Errorf("confd-load's report: %w", err)
	}
	m := measurement{server: s.name, workload: workload, args: args, res: res}
	if res.Answered > 0 {
		m.cpuUS = float64(t1-t0) * 1e6 / ticksPerSecond / float64(res.Answered)
	}
	r.logf("%-22s %-6s %9.0f/s  cpu %6.2f µs/req  p50 %8.1f µs  p99 %8.1f µs  loss %.4f", s.name, workload, res.Rate, m.cpuUS, res.LatencyUS.P50, res.LatencyUS.P99, res.Loss)
	return m, ctx.Err()
}

// curveWorkloads are the requests of the cluster-size curve: ping, and
// answers that grow with the cluster.
var curveWorkloads = []struct {
	name string
	args []string
}{
	{"ping", []string{"ping"}},
	{"node-pip-list", []string{"node-pip-list"}},
	{"instances-ips-list", []string{"instances-ips-list"}},
	{"config-query /nodes", []string{"config-query", "/nodes"}},
	{"config-query /instances", []string{"config-query", "/instances"}},
}

// size measures goconfd (two sockets) on a generated cluster of n
// instances.
func (r *report) size(ctx context.Context, n, port int) error {
	o := clustergen.Default()
	o.Instances = n
	o.Nodes = max(8, n/20)
	data, _, err := clustergen.Generate(o)
	if err != nil {
		return fmt.Errorf("clustergen %d instances: %w", n, err)
	}
	file := filepath.Join(r.dir, fmt.Sprintf("cluster-%d.json", n))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	s, err := startGoconfd(r.bins["ganeti-confd"], r.dir, port, file, r.key, 2)
	if err != nil {
		return err
	}
	defer s.stop()
	p := sizePoint{instances: n, nodes: o.Nodes, configBytes: len(data), ready: s.ready, load: loadDuration(s.log), rssKB: rssKB(s.pid)}
	s.name = fmt.Sprintf("goconfd, %d instances", n)
	for _, w := range curveWorkloads {
		args := append([]string{"-w", "2", "--window", "16", "-d", (r.opts.duration / 2).String(), "--timeout", "500ms"}, w.args...)
		m, err := r.load(ctx, s, w.name, args)
		if err != nil {
			return err
		}
		p.runs = append(p.runs, m)
	}
	p.rssKB = max(p.rssKB, rssKB(s.pid))
	r.sizes = append(r.sizes, p)
	return nil
}
