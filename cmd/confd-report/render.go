package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// find returns the first run of server on workload.
func (r *report) find(server, workload string) *measurement {
	for i := range r.runs {
		if r.runs[i].server == server && r.runs[i].workload == workload {
			return &r.runs[i]
		}
	}
	return nil
}

// agg is the median (and the range of the CPU cost) of a server's runs
// on one workload.
type agg struct {
	n                    int
	cpu, cpuMin, cpuMax  float64
	rate, p50, p99, loss float64
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// stat aggregates server's runs on workload.
func (r *report) stat(server, workload string) agg {
	var cpu, rate, p50, p99, loss []float64
	for _, m := range r.runs {
		if m.server == server && m.workload == workload {
			cpu = append(cpu, m.cpuUS)
			rate = append(rate, m.res.Rate)
			p50 = append(p50, m.res.LatencyUS.P50)
			p99 = append(p99, m.res.LatencyUS.P99)
			loss = append(loss, m.res.Loss)
		}
	}
	a := agg{n: len(cpu), cpu: median(cpu), rate: median(rate), p50: median(p50), p99: median(p99), loss: median(loss)}
	if len(cpu) > 0 {
		a.cpuMin, a.cpuMax = slices.Min(cpu), slices.Max(cpu)
	}
	return a
}

// roundRatio is the median over rounds of f(a's run) / f(b's run) on
// workload, both from the same round; 0 when there is none.
func (r *report) roundRatio(a, b, workload string, f func(*measurement) float64) float64 {
	var ratios []float64
	for i := range r.runs {
		ma := &r.runs[i]
		if ma.server != a || ma.workload != workload {
			continue
		}
		for j := range r.runs {
			mb := &r.runs[j]
			if mb.server == b && mb.workload == workload && mb.round == ma.round && f(mb) > 0 && f(ma) > 0 {
				ratios = append(ratios, f(ma)/f(mb))
			}
		}
	}
	return median(ratios)
}

func cpuOf(m *measurement) float64 { return m.cpuUS }
func p50Of(m *measurement) float64 { return m.res.LatencyUS.P50 }

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
	cmd := "go run ./cmd/confd-report"
	if r.opts.rounds != defaultRounds {
		cmd += fmt.Sprintf(" -rounds %d", r.opts.rounds)
	}
	p("Written by `%s` (%s, %.0f s). Rerun it to\n", cmd, r.started.UTC().Format("2006-01-02 15:04 UTC"), time.Since(r.started).Seconds())
	p("measure your own machine; it writes this file. It needs `taskset`\n")
	p("and, for Ganeti's numbers, the reference server installed by\n")
	p("`conformance/reference/setup.sh`.\n\n")
	p("Machine: %s.\n\n", machine())
	p("**Noise.** The numbers below come from one run on a 2-CPU virtual\n")
	p("machine (the load average above says whether other jobs shared it):\n")
	p("absolute values move by 10–30 %% from one run to the next, more on a\n")
	p("shared machine. Compare servers through the\n")
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
	p("All five run at once, pinned to the same CPU; an idle one costs\n")
	p("nothing. They are measured in %d rounds; in each round every workload\n", r.opts.rounds)
	p("runs on each server in turn, one right after the other, starting one\n")
	p("server further on than the round before, so that the runs a ratio\n")
	p("compares are seconds apart and changes in the machine's background\n")
	p("load fall on all of them alike.\n\n")
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
	p("one each, with queries that find something in the rich config.\n\n")
	p("**Batches.** In a closed loop `confd-load` reads the replies that\n")
	p("have arrived in one call and sends the requests that replace them in\n")
	p("one call, so requests reach the server several at a time, as they\n")
	p("queue up at a busy server with many clients: goconfd and the minimal\n")
	p("server then read several per `recvmmsg` and answer them in one\n")
	p("`sendmmsg`, while Ganeti's server reads one datagram per call either\n")
	p("way. *mix-single* (`--no-batch`) sends one request per call instead:\n")
	p("requests arrive one at a time, each pays a server's per-call costs\n")
	p("alone (its system calls, parking and waking its socket loop), which\n")
	p("on this kind of virtual machine cost more than the work per request.\n")
	p("That is the server's cost when it is far from busy; the targets are\n")
	p("read on the batched mix, the cost per request at saturation, and both\n")
	p("are shown.\n")
	if r.ganetiError != "" {
		p("\nGaneti 3.0.2 was **not measured**: %s\n", r.ganetiError)
	}
	p("\n## Results\n\n")
	p("| server | CPU/request, ping | CPU/request, mix | CPU/request, mix-single | saturated, ping | saturated, mix | median RTT, one in flight | p99, open loop %.0f/s (mix) | of which send lag, p99 | loss, open loop |\n", r.openRate)
	p("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.servers {
		ping, mix, single, rtt := r.stat(s, "ping"), r.stat(s, "mix"), r.stat(s, "mix-single"), r.stat(s, "rtt")
		var p99, lag, loss float64
		if open := r.find(s, "open"); open != nil {
			p99, loss = open.res.LatencyUS.P99, open.res.Loss
			if open.res.SendLagUS != nil {
				lag = open.res.SendLagUS.P99
			}
		}
		p("| %s | %.2f µs (%.2f–%.2f) | %.2f µs (%.2f–%.2f) | %.2f µs (%.2f–%.2f) | %.0f/s | %.0f/s | %.1f µs | %.1f µs | %.1f µs | %.3f %% |\n", s,
			ping.cpu, ping.cpuMin, ping.cpuMax, mix.cpu, mix.cpuMin, mix.cpuMax, single.cpu, single.cpuMin, single.cpuMax, ping.rate, mix.rate, rtt.p50, p99, lag, 100*loss)
	}
	p("\nCPU per request: the median of %d rounds, with the lowest and the\n", r.opts.rounds)
	p("highest in parentheses; rates and the median RTT are medians too. The\n")
	p("open loop's rate is half Ganeti's median saturated rate on the mix\n")
	p("(rounded down to 100/s). Saturated rates are the load generator's as\n")
	p("much as the server's when the server is fast: with the server pinned\n")
	p("to one CPU and the load generator to the other, both are busy.\n")
	p("An open loop's latency counts from when a request was due, so it\n")
	p("includes the load generator's own lateness in sending it (its send\n")
	p("lag, given beside it): where that lag's p99 is close to the latency's,\n")
	p("the tail is the load generator's wake-ups on this machine, not the\n")
	p("server's.\n")

	p("\n## Ratios and targets\n\n")
	p("| comparison | ping | mix | mix-single | target | |\n|---|---|---|---|---|---|\n")
	for _, n := range []string{"1 socket", "2 sockets"} {
		g, m := "goconfd ("+n+")", "minimal ("+n+")"
		rp, rm, rs := r.roundRatio(g, m, "ping", cpuOf), r.roundRatio(g, m, "mix", cpuOf), r.roundRatio(g, m, "mix-single", cpuOf)
		p("| goconfd / minimal, CPU per request, %s | %.2f× | %.2f× | %.2f× | ≤ 1.1× ping, ≤ 1.2× mix | %s ping, %s mix |\n", n, rp, rm, rs, verdict(rp <= 1.1), verdict(rm <= 1.2))
	}
	if r.ganetiError == "" {
		for _, n := range []string{"1 socket", "2 sockets"} {
			g := "goconfd (" + n + ")"
			rp, rm, rs := r.roundRatio("Ganeti 3.0.2", g, "ping", cpuOf), r.roundRatio("Ganeti 3.0.2", g, "mix", cpuOf), r.roundRatio("Ganeti 3.0.2", g, "mix-single", cpuOf)
			p("| Ganeti / goconfd (%s), CPU per request | %.2f× | %.2f× | %.2f× | ≥ 8× on the mix | %s |\n", n, rp, rm, rs, verdict(rm >= 8))
		}
		// How far from Ganeti a server that pays only the minimal
		// server's costs (socket I/O, verifying, signing) stands on this
		// machine: goconfd's ratio above can exceed it only by noise.
		fp, fm, fs := r.roundRatio("Ganeti 3.0.2", "minimal (1 socket)", "ping", cpuOf), r.roundRatio("Ganeti 3.0.2", "minimal (1 socket)", "mix", cpuOf), r.roundRatio("Ganeti 3.0.2", "minimal (1 socket)", "mix-single", cpuOf)
		p("| Ganeti / minimal (1 socket), CPU per request: where a server paying only socket I/O, verifying and signing stands | %.2f× | %.2f× | %.2f× | | |\n", fp, fm, fs)
	}
	for _, n := range []string{"1 socket", "2 sockets"} {
		rr := r.roundRatio("goconfd ("+n+")", "minimal ("+n+")", "rtt", p50Of)
		p("| goconfd / minimal, median RTT one in flight, %s | %.2f× | | | ≤ 1.1× | %s |\n", n, rr, verdict(rr <= 1.1))
	}
	p("\nEach ratio is the median over the rounds of the ratio within a round\n")
	p("(the two servers measured one right after the other).\n")
	p("\n### Where the time goes\n\n")
	p("Not measured by this run: a profile of goconfd (1 socket) under the\n")
	p("batched mix, taken on the same kind of machine on 2026-12-02 with\n")
	p("`perf record -g` while `confd-load` ran as above (the daemon's own\n")
	p("CPU, 100 %%):\n\n")
	p("- about 79 %% in the kernel: `sendmmsg` about 72 %% (on loopback it\n")
	p("  also delivers each reply into the client's socket and wakes the\n")
	p("  client), `recvmmsg` about 4 %%. One function, `pvm_irq_enable`, takes\n")
	p("  14 %% of all samples: re-enabling interrupts costs a call into the\n")
	p("  hypervisor on this paravirtualized machine, and the socket code does\n")
	p("  it several times per datagram (waking a reader, freeing a sent\n")
	p("  buffer), whichever server sends it;\n")
	p("- under 1 %% in Go's scheduler (parking the socket loop, `sysmon`):\n")
	p("  the socket calls are raw system calls (`internal/mmsg` says why;\n")
	p("  before, the runtime's monitor thread took the loop's P away during\n")
	p("  long `sendmmsg` calls, about 13 %% of the time, and more when the\n")
	p("  machine was slow);\n")
	p("- about 17 %% in the pipeline: decoding and verifying the request\n")
	p("  (`protocol.Decoder.Decode`, HMAC-SHA1 included) about 12 %%, signing\n")
	p("  the reply about 4 %%, answering under 1 %% (a question asked before\n")
	p("  of the same config is answered from the reply cache, its message\n")
	p("  prepared once).\n\n")
	p("The batches held about 19 datagrams (`perf stat -e\n")
	p("'syscalls:sys_enter_sendmmsg'` on the minimal server, 3 s: 28 597\n")
	p("calls for 545 994 replies); with `--no-batch` they hold 2 (152 687\n")
	p("for 314 226), and each request pays most of a system call each way\n")
	p("and of a park and wake-up alone, which is why mix-single costs more.\n\n")
	p("The minimal server pays the same kernel, scheduler, decoding and\n")
	p("signing costs, which is why goconfd's CPU per request on the mix is\n")
	p("within a few per cent of it: what is left to gain is in the kernel's\n")
	p("and the runtime's share, not in goconfd's code.\n")

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
