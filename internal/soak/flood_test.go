package soak

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// floodEnv, when set, makes the test binary the flood process of
// TestHostileTrafficUnderLoad instead of running tests (TestMain): the
// variable holds a floodSpec in JSON. The process opens its sockets,
// writes "ready", floods while the last line read from its standard
// input is "on", and when its input closes writes a floodResult in JSON
// to its standard output.
//
// The flood runs in a process of its own, at the lowest CPU priority
// (nice 19), because an attacker is on other hosts: in the test's own
// process the flood's goroutines (generating 5,000 datagrams a second,
// some of 60 KB, and reading what comes back) doubled the CPU the
// process used and competed with the legitimate clients for the Go
// scheduler, so that the clients' p99 measured the test as much as the
// daemon (docs/reliability.md, Hostile traffic).
const floodEnv = "GOCONFD_SOAK_FLOOD"

// floodNice is the niceness of the flood process.
const floodNice = 19

// floodSpec is what the flood process is told.
type floodSpec struct {
	Addr     netip.AddrPort
	Key      []byte
	Captured []byte // the signed request to replay
	Rate     int    // datagrams a second
}

// floodResult is what the flood process did: per kind of floodKinds,
// the datagrams sent and the bytes that came back.
type floodResult struct {
	Sent, Received []int64
}

// floodProcess is the flood process's main: it returns the exit code.
func floodProcess(specJSON string, stdin io.Reader, stdout io.Writer) int {
	var spec floodSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintf(os.Stderr, "flood: %s: %v\n", floodEnv, err)
		return 2
	}
	ctl := make(chan bool)
	go func() {
		defer close(ctl)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			ctl <- sc.Text() == "on"
		}
	}()
	res, err := floodAll(spec, ctl, func() { fmt.Fprintln(stdout, "ready") })
	if err != nil {
		fmt.Fprintf(os.Stderr, "flood: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "flood: %v\n", err)
		return 1
	}
	return 0
}

// maxBurstDiv bounds the datagrams sent at once to catch up after the
// flood process was not scheduled: 1/maxBurstDiv s (100 ms) of the rate.
const maxBurstDiv = 10

// floodAll sends spec.Rate datagrams a second while the last value from
// ctl is true, until ctl closes: the kinds in turn, each kind from its
// own socket, in bursts every 10 ms. A late burst catches up on the
// datagrams due since the flood was switched on, up to 100 ms of them,
// so that the rate holds when the process is scheduled late. It counts
// what each kind sent and the bytes that came back to it. ready is
// called once the sockets are open.
func floodAll(spec floodSpec, ctl <-chan bool, ready func()) (floodResult, error) {
	conns := make([]*net.UDPConn, len(floodKinds))
	received := make([]atomic.Int64, len(floodKinds))
	sent := make([]int64, len(floodKinds))
	var readers sync.WaitGroup
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		readers.Wait()
	}()
	for i := range floodKinds {
		c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(spec.Addr))
		if err != nil {
			return floodResult{}, fmt.Errorf("flood socket: %w", err)
		}
		conns[i] = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 65536)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					received[i].Add(int64(n))
				}
				if err != nil && !isConnRefused(err) {
					return
				}
			}
		}()
	}
	ready()
	rng := rand.New(rand.NewPCG(42, 42))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var on bool
	var since time.Time
	var due, done int // datagrams due and sent since since
	k := 0
loop:
	for {
		select {
		case v, ok := <-ctl:
			if !ok {
				break loop
			}
			if v && !on {
				since, due, done = time.Now(), 0, 0
			}
			on = v
			continue
		case <-tick.C:
		}
		if !on {
			continue
		}
		due = int(float64(spec.Rate) * time.Since(since).Seconds())
		done = max(done, due-spec.Rate/maxBurstDiv)
		for ; done < due; done++ {
			k = (k + 1) % len(floodKinds)
			if _, err := conns[k].Write(floodKinds[k].make(rng, spec.Key, spec.Captured)); err == nil {
				sent[k]++
			}
		}
	}
	// Late replies (there must be none but the replays') have a moment.
	time.Sleep(200 * time.Millisecond)
	for i, c := range conns {
		c.Close()
		conns[i] = nil
	}
	readers.Wait()
	res := floodResult{Sent: sent, Received: make([]int64, len(floodKinds))}
	for i := range received {
		res.Received[i] = received[i].Load()
	}
	return res, nil
}

// flood is a running flood process.
type flood struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	niced  bool
	// stopped is set by stop, after which the test's cleanup has nothing
	// to end.
	stopped bool
}

// startFlood starts the flood process (this test binary, see floodEnv)
// at nice 19 and waits until its sockets are open.
func startFlood(t *testing.T, spec floodSpec) *flood {
	t.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("the test binary: %v", err)
	}
	f := &flood{}
	if nice, err := exec.LookPath("nice"); err == nil {
		f.cmd = exec.Command(nice, "-n", fmt.Sprint(floodNice), self)
		f.niced = true
	} else {
		f.cmd = exec.Command(self)
	}
	f.cmd.Env = append(os.Environ(), floodEnv+"="+string(js))
	f.cmd.Stderr = &f.stderr
	if f.stdin, err = f.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	f.stdout = bufio.NewReader(out)
	if err := testdaemon.StartChild(f.cmd); err != nil {
		t.Fatal(err)
	}
	// A test that fails before stop must not leave the flood running
	// beside the next tests of this binary: closing its input ends it.
	t.Cleanup(func() {
		if !f.stopped {
			f.stopped = true
			f.stdin.Close()
			_ = f.cmd.Wait()
		}
	})
	line, err := f.stdout.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		f.stopped = true
		f.stdin.Close()
		_ = f.cmd.Wait() // and its standard error is all read
		t.Fatalf("the flood process did not start: %q, %v\n%s", line, err, f.stderr.String())
	}
	return f
}

// set switches the flood on or off.
func (f *flood) set(on bool) error {
	line := "off\n"
	if on {
		line = "on\n"
	}
	if _, err := io.WriteString(f.stdin, line); err != nil {
		return fmt.Errorf("switching the flood: %w\n%s", err, f.stderr.String())
	}
	return nil
}

// stop ends the flood and returns what it did and the CPU time it used.
func (f *flood) stop() (floodResult, time.Duration, error) {
	f.stopped = true
	f.stdin.Close()
	var res floodResult
	derr := json.NewDecoder(f.stdout).Decode(&res)
	werr := f.cmd.Wait()
	if err := errors.Join(derr, werr); err != nil {
		return res, 0, fmt.Errorf("the flood process: %w\n%s", err, f.stderr.String())
	}
	if len(res.Sent) != len(floodKinds) || len(res.Received) != len(floodKinds) {
		return res, 0, fmt.Errorf("the flood process reported %d and %d kinds, want %d", len(res.Sent), len(res.Received), len(floodKinds))
	}
	cpu := f.cmd.ProcessState.UserTime() + f.cmd.ProcessState.SystemTime()
	return res, cpu, nil
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
