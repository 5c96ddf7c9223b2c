package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// find returns the run of server on workload.
func (r *report) find(server, workload string) *measurement {
	for i := range r.runs {
		if r.runs[i].server == server && r.runs[i].workload == workload {
			return &r.runs[i]
		}
	}
	return nil
}

func machine() string {
	var model string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-srm").Output()
	return fmt.Sprintf("%s, %d CPUs (%s), %s, %s", strings.TrimSpace(string(kernel)), runtime.NumCPU(), model, runtime.Version(), hostLoad())
}

func hostLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	f := strings.Fields(string(b))
	return "load average at the end " + strings.Join(f[:3], " ")
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

func (r *report) render() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Performance\n\n")
	p("Written by `go run ./cmd/confd-report` (%s, %.0f s). Rerun it to\n", r.started.UTC().Format("2006-01-02 15:04 UTC"), time.Since(r.started).Seconds())
	p("measure your own machine; it writes this file. It needs `taskset`\n")
	p("and, for Ganeti's numbers, the reference server installed by\n")
	p("`conformance/reference/setup.sh`.\n\n")
	p("Machine: %s.\n\n", machine())
	p("**Noise.** The numbers below come from one run on a shared 2-CPU\n")
	p("virtual machine on which other jobs were running: absolute values move\n")
	p("by 10–30 %% from one run to the next. Compare servers through the\n")
	p("ratios, which come from the same run, one server right after the other.\n")
	p("Tail latencies (p99, max) under load on a shared machine are dominated\n")
	p("by other processes' time slices (milliseconds), not by the servers;\n")
	p("the medians and the CPU per request are the steadier numbers.\n\n")
	p("## How it is measured\n\n")
	p("Each server runs pinned to CPU %d (`taskset -c %d`); the load generator,\n", serverCPU, serverCPU)
	p("`confd-load`, pinned to CPU %d, verifies every reply (HMAC, rsalt,\n", loadCPU)
	p("magic). Server CPU per request is the server process's utime+stime\n")
	p("(`/proc/PID/stat`, 10 ms ticks) over a run divided by the requests\n")
	p("answered in it. The config is `config/testdata/rich.json` and the key\n")
	p("`examples/hmac.key`. The servers:\n\n")
	p("- **goconfd**: `ganeti-confd -f -b 127.0.0.1 -p PORT --no-user-checks`\n")
	p("  with `GOMAXPROCS=1` (one socket, the number it picks when pinned to\n")
	p("  one CPU) and `GOMAXPROCS=2` (two sockets, its default on this 2-CPU\n")
	p("  machine);\n")
	p("- **minimal**: `confd-minimal --sockets N` (`internal/minimal`): the\n")
	p("  same batched socket I/O, requests verified and replies signed by the\n")
	p("  same `protocol` code as goconfd, one fixed answer, nothing else;\n")
	p("- **Ganeti 3.0.2**: the real `ganeti-confd` from Debian's packages,\n")
	p("  started by `conformance/reference/start-ref.sh`.\n\n")
	p("Workloads (`confd-load --key-file KEY -s 127.0.0.1:PORT …`):\n\n")
	p("| name | confd-load arguments |\n|---|---|\n")
	seen := map[string]bool{}
	for _, m := range r.runs {
		if !seen[m.workload] {
			seen[m.workload] = true
			p("| %s | `%s` |\n", m.workload, strings.Join(m.args, " "))
		}
	}
	p("\nMIX is `cmd/confd-report/mix-rich.json`: the twelve request types,\n")
	p("one each, with queries that find something in the rich config.\n")
	if r.ganetiError != "" {
		p("\nGaneti 3.0.2 was **not measured**: %s\n", r.ganetiError)
	}
	p("\n## Results\n\n")
	p("| server | CPU/request, ping | CPU/request, mix | saturated, ping | saturated, mix | median RTT, one in flight | p99, open loop %.0f/s (mix) | loss, open loop |\n", r.openRate)
	p("|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.servers {
		ping, mix, rtt, open := r.find(s, "ping"), r.find(s, "mix"), r.find(s, "rtt"), r.find(s, "open")
		p("| %s | %.2f µs | %.2f µs | %.0f/s | %.0f/s | %.1f µs | %.1f µs | %.3f %% |\n", s,
			ping.cpuUS, mix.cpuUS, ping.res.Rate, mix.res.Rate, rtt.res.LatencyUS.P50, open.res.LatencyUS.P99, 100*open.res.Loss)
	}
	p("\nThe open loop's rate is half Ganeti's saturated rate on the mix\n")
	p("(rounded down to 100/s). Saturated rates are the load generator's as\n")
	p("much as the server's when the server is fast: with the server pinned\n")
	p("to one CPU and the load generator to the other, both are busy.\n")

	p("\n## Ratios and targets\n\n")
	p("| comparison | ping | mix | target | |\n|---|---|---|---|---|\n")
	cpu := func(s, w string) float64 {
		if m := r.find(s, w); m != nil {
			return m.cpuUS
		}
		return 0
	}
	for _, n := range []string{"1 socket", "2 sockets"} {
		g, m := "goconfd ("+n+")", "minimal ("+n+")"
		rp, rm := cpu(g, "ping")/cpu(m, "ping"), cpu(g, "mix")/cpu(m, "mix")
		p("| goconfd / minimal, CPU per request, %s | %s | %s | ≤ 1.1× ping, ≤ 1.2× mix | %s ping, %s mix |\n", n,
			ratio(cpu(g, "ping"), cpu(m, "ping")), ratio(cpu(g, "mix"), cpu(m, "mix")), verdict(rp <= 1.1), verdict(rm <= 1.2))
	}
	if r.ganetiError == "" {
		for _, n := range []string{"1 socket", "2 sockets"} {
			g := "goconfd (" + n + ")"
			rm := cpu("Ganeti 3.0.2", "mix") / cpu(g, "mix")
			p("| Ganeti / goconfd (%s), CPU per request | %s | %s | ≥ 8× on the mix | %s |\n", n,
				ratio(cpu("Ganeti 3.0.2", "ping"), cpu(g, "ping")), ratio(cpu("Ganeti 3.0.2", "mix"), cpu(g, "mix")), verdict(rm >= 8))
		}
	}
	for _, n := range []string{"1 socket", "2 sockets"} {
		g, m := r.find("goconfd ("+n+")", "rtt"), r.find("minimal ("+n+")", "rtt")
		if g == nil || m == nil {
			continue
		}
		rr := g.res.LatencyUS.P50 / m.res.LatencyUS.P50
		p("| goconfd / minimal, median RTT one in flight, %s | %s | | ≤ 1.1× | %s |\n", n, ratio(g.res.LatencyUS.P50, m.res.LatencyUS.P50), verdict(rr <= 1.1))
	}

	if len(r.sizes) > 0 {
		p("\n## Against cluster size\n\n")
		p("goconfd with two sockets on configs from `internal/clustergen`\n")
		p("(`clustergen.Default()` with the given instances and one node per 20\n")
		p("instances, at least 8). *Load* is the config load time goconfd logs\n")
		p("(\"Loaded new config … duration=\"), *ready* the time from starting the\n")
		p("daemon to its first answered ping; *RSS* the daemon's\n")
		p("resident memory after the runs. Each cell: server CPU per request, the\n")
		p("reply's size, and the loss. *No answer* means the answer no longer fits\n")
		p("a UDP datagram (65507 bytes): goconfd drops and counts it, as Ganeti's\n")
		p("server fails to send it.\n\n")
		p("| instances | nodes | config.data | load | ready | RSS |")
		for _, w := range curveWorkloads {
			p(" %s |", w.name)
		}
		p("\n|---|---|---|---|---|---|")
		for range curveWorkloads {
			p("---|")
		}
		p("\n")
		for _, s := range r.sizes {
			p("| %d | %d | %.1f MB | %.0f ms | %.2f s | %.0f MB |", s.instances, s.nodes, float64(s.configBytes)/1e6, float64(s.load)/1e6, s.ready.Seconds(), float64(s.rssKB)/1024)
			for _, m := range s.runs {
				if m.res.Answered == 0 {
					p(" no answer |")
					continue
				}
				p(" %.2f µs, %.0f B, %.1f %% |", m.cpuUS, m.res.ReplyBytes, 100*m.res.Loss)
			}
			p("\n")
		}
	}
	if r.bench != "" {
		p("\n## Go micro-benchmarks\n\n")
		p("    %s\n\n", r.benchCmd)
		p("```\n%s```\n", r.bench)
	}
	return b.String()
}
