// Command confd-load is a bounded closed-loop load generator for confd
// servers: W workers, each with its own UDP socket and a window of
// outstanding requests, send one request type for a fixed time and print
// the reply rate and latency percentiles. It only talks to the address it
// is given; use it on loopback or in a test network namespace.
//
//	confd-load --key-file examples/hmac.key -s 127.0.0.1:18140 -d 5s -w 4 -window 16 cluster-master
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/internal/version"
	"github.com/goconfd/goconfd/protocol"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("confd-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("s", "127.0.0.1:1814", "server `address:port`")
	keyFile := fs.String("key-file", "", "HMAC key `file`")
	duration := fs.Duration("d", 5*time.Second, "how long to run (at most 60s: requests are signed for ±300 s)")
	workers := fs.Int("w", 2, "workers, each with its own socket")
	window := fs.Int("window", 16, "outstanding requests per worker")
	verify := fs.Bool("verify", false, "verify every reply's HMAC and salt")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "confd-load (goconfd) version %s\n", version.String())
		return 0
	}
	if fs.NArg() < 1 || fs.NArg() > 2 || *keyFile == "" {
		fmt.Fprintln(stderr, "usage: confd-load --key-file FILE [-s ADDR:PORT] [-d DUR] [-w N] [-window N] TYPE [QUERY]")
		return 2
	}
	if *duration <= 0 || *duration > time.Minute || *workers < 1 || *window < 1 {
		fmt.Fprintln(stderr, "confd-load: -d must be in (0, 60s], -w and -window at least 1")
		return 2
	}
	typ, ok := protocol.TypeByName(fs.Arg(0))
	if n, err := strconv.Atoi(fs.Arg(0)); err == nil && n >= 0 && n < protocol.NumTypes {
		typ, ok = protocol.Type(n), true
	}
	if !ok {
		fmt.Fprintf(stderr, "confd-load: unknown type %q\n", fs.Arg(0))
		return 2
	}
	var query []byte
	if fs.NArg() == 2 {
		query = []byte(fs.Arg(1))
		if _, err := tjson.Parse(query, tjson.Options{}); err != nil {
			query = tjson.AppendString(nil, fs.Arg(1))
		}
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "confd-load: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	results := make([]result, *workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = work(ctx, *server, key, typ, query, i, *window, *verify)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total result
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(stderr, "confd-load: %v\n", r.err)
			return 1
		}
		total.replies += r.replies
		total.timeouts += r.timeouts
		total.bad += r.bad
		total.lat = append(total.lat, r.lat...)
	}
	slices.Sort(total.lat)
	pct := func(p float64) time.Duration {
		if len(total.lat) == 0 {
			return 0
		}
		return total.lat[min(len(total.lat)-1, int(p*float64(len(total.lat))))]
	}
	fmt.Fprintf(stdout, "%s: %d replies in %.2fs = %.0f/s; p50 %v p99 %v max %v; %d timeouts, %d bad replies (workers %d, window %d)\n",
		typ, total.replies, elapsed.Seconds(), float64(total.replies)/elapsed.Seconds(),
		pct(0.50), pct(0.99), pct(1), total.timeouts, total.bad, *workers, *window)
	return 0
}

type result struct {
	replies, timeouts, bad int
	lat                    []time.Duration
	err                    error
}

// work runs one worker: it keeps window requests outstanding, each with a
// unique rsalt, and resends a slot whose reply is late.
func work(ctx context.Context, server string, key []byte, typ protocol.Type, query []byte, id, window int, verify bool) result {
	var res result
	conn, err := net.Dial("udp", server)
	if err != nil {
		res.err = err
		return res
	}
	defer conn.Close()
	sent := make(map[string]time.Time, window)
	seq := 0
	send := func() {
		rsalt := strconv.Itoa(id) + "-" + strconv.Itoa(seq)
		seq++
		if _, err := conn.Write(protocol.AppendRequest(nil, key, time.Now(), typ, query, rsalt)); err == nil {
			sent[rsalt] = time.Now()
		}
	}
	for range window {
		send()
	}
	buf := make([]byte, 65536)
	lastSweep := time.Now()
	for ctx.Err() == nil {
		// Every 100 ms, give up on requests older than 200 ms and refill
		// their slots, so that lost datagrams do not shrink the window.
		if now := time.Now(); now.Sub(lastSweep) > 100*time.Millisecond {
			lastSweep = now
			for rsalt, t0 := range sent {
				if now.Sub(t0) > 200*time.Millisecond {
					delete(sent, rsalt)
					res.timeouts++
					send()
				}
			}
		}
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		if err != nil {
			// Late or lost: forget the outstanding ones and refill.
			res.timeouts += len(sent)
			clear(sent)
			for range window {
				send()
			}
			continue
		}
		rsalt, ok := replySalt(buf[:n])
		t0, known := sent[rsalt]
		if !ok || !known {
			res.bad++
			continue
		}
		if verify {
			if _, err := protocol.ParseReply(buf[:n], key, rsalt); err != nil {
				res.bad++
			}
		}
		delete(sent, rsalt)
		res.lat = append(res.lat, time.Since(t0))
		res.replies++
		send()
	}
	return res
}

// replySalt finds the salt member of a goconfd or Ganeti reply, which is
// the last member in both.
func replySalt(reply []byte) (string, bool) {
	i := bytes.LastIndex(reply, []byte(`"salt":"`))
	if i < 0 || len(reply) < i+10 {
		return "", false
	}
	s := reply[i+8 : len(reply)-2]
	return string(s), true
}
