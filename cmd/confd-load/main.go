// Command confd-load is a load generator for confd servers (goconfd or
// Ganeti's own), as dnsperf and resperf are for DNS servers: it sizes a
// server on given hardware and shows where it stops keeping up.
//
// It has three modes. Closed loop (the default) keeps --window requests
// outstanding on each of -w sockets. Open loop (--rate R) sends R
// requests a second on a fixed schedule and measures each latency from
// the time its request was due, so a stalled server shows as latency,
// not as fewer requests (no coordinated omission). Ramp (--ramp) runs
// open loops at rising rates and reports the highest one answered with
// less than 0.1 % loss.
//
// Requests come from one TYPE [QUERY] or a weighted --mix file, are
// signed as they are sent (runs are not limited by the ±300 s window),
// and every reply is verified (HMAC, rsalt, magic) unless --no-verify.
// Latencies go into one HDR histogram per socket, merged at the end
// (internal/latency, the percentiles confd-client -r reports too). The
// last line printed is the run's report as JSON. Only loopback servers
// are loaded unless --allow-remote says otherwise.
//
//	confd-load --key-file examples/hmac.key -s 127.0.0.1:18140 -d 5s -w 2 --window 16 cluster-master
//	confd-load --key-file hmac.key --mix mix.json --rate 20000 -d 10s
//	confd-load --key-file hmac.key --ramp --rate 5000 --ramp-step 5000 -d 3s ping
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runContext runs confd-load with args and returns its exit status: 0
// when the run completed, 1 when it could not run, 2 on a usage error.
// Cancelling ctx ends the run early and reports what was measured.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, fs, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "confd-load: %v\n\n", err)
		fs.Usage()
	}
	if err != nil {
		return 2 // the flag package printed its own errors
	}
	if o.showVersion {
		fmt.Fprintf(stdout, "confd-load (goconfd) version %s\n", version.String())
		return 0
	}
	m, err := loadMix(o)
	if err != nil {
		fmt.Fprintf(stderr, "confd-load: %v\n", err)
		return 2
	}
	addr, err := checkTarget(o.server, o.allowRemote)
	if err != nil {
		fmt.Fprintf(stderr, "confd-load: %v\n", err)
		return 2
	}
	key, err := os.ReadFile(o.keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "confd-load: %v\n", err)
		return 1
	}
	l := &loader{o: o, addr: addr, key: key, mix: m, stderr: stderr, progress: o.progress || isTerminal(stderr)}
	if o.ramp {
		err = l.ramp(ctx, stdout)
	} else {
		var r *result
		if r, err = l.runOnce(ctx, o.rate); err == nil {
			fmt.Fprintln(stdout, r.human())
			err = writeJSON(stdout, r)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "confd-load: %v\n", err)
		return 1
	}
	return 0
}

func loadMix(o *options) (*mix, error) {
	if o.mixFile == "" {
		return singleMix(o.typeArg, o.queryArg)
	}
	data, err := os.ReadFile(o.mixFile)
	if err != nil {
		return nil, err
	}
	m, err := parseMix(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.mixFile, err)
	}
	return m, nil
}

// loader runs the loads of one command line.
type loader struct {
	o        *options
	addr     *net.UDPAddr
	key      []byte
	mix      *mix
	stderr   io.Writer
	progress bool
}

// runOnce runs one closed loop (rate 0) or open loop at rate for the
// run's duration.
func (l *loader) runOnce(ctx context.Context, rate float64) (*result, error) {
	o := l.o
	ring := 4 * o.window
	if rate > 0 {
		ring = int(min(1<<20, rate/float64(o.sockets)*o.timeout.Seconds()*1.5+64))
	}
	workers := make([]*worker, 0, o.sockets)
	defer func() {
		for _, w := range workers {
			w.close()
		}
	}()
	for i := range o.sockets {
		w, err := newWorker(i, l.addr, l.key, l.mix, !o.noVerify, o.timeout, ring)
		if err != nil {
			return nil, err
		}
		workers = append(workers, w)
	}
	start := time.Now()
	end := start.Add(o.duration)
	// The progress line's goroutine writes to stderr: it has ended before
	// this returns, so that nothing writes after the final report.
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	if l.progress {
		go func() {
			defer close(progressDone)
			progress(l.stderr, workers, start, stopProgress)
		}()
	} else {
		close(progressDone)
	}
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		if rate == 0 {
			go func() {
				defer wg.Done()
				errs[i] = w.closedLoop(ctx, end, o.window, batchSize(o))
			}()
			continue
		}
		sched := newSchedule(start, rate, len(workers), i)
		senderDone := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(senderDone)
			w.openSend(ctx, sched, end)
		}()
		go func() {
			defer wg.Done()
			errs[i] = w.openReceive(ctx, end, senderDone)
		}()
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone
	elapsed := min(time.Since(start), o.duration)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	mode := "closed"
	if rate > 0 {
		mode = "open"
	}
	return collect(mode, o, workers, rate, elapsed), nil
}

// ramp runs open loops at rising rates until one loses more than the
// limit, printing each step, then the ramp's report as JSON.
func (l *loader) ramp(ctx context.Context, stdout io.Writer) error {
	rates, err := rampRates(l.o.rate, l.o.rampStep, l.o.rampMax)
	if err != nil {
		return err
	}
	rr := &rampResult{Mode: "ramp", LossLimit: l.o.rampLoss}
	for _, rate := range rates {
		if ctx.Err() != nil {
			break
		}
		r, err := l.runOnce(ctx, rate)
		if err != nil {
			return err
		}
		r.Mode = "ramp-step"
		rr.Steps = append(rr.Steps, r)
		fmt.Fprintln(stdout, r.human())
		if r.Loss >= l.o.rampLoss || r.Answered == 0 {
			break
		}
		rr.MaxRate = rate
	}
	fmt.Fprintf(stdout, "highest rate with loss under %.2f%%: %.0f/s\n", 100*l.o.rampLoss, rr.MaxRate)
	return writeJSON(stdout, rr)
}
