package soak

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/protocol"
)

// floodKind is one kind of hostile datagram.
type floodKind struct {
	name string
	// replied says that the kind is answered (a replay of a signed
	// request); every other kind must get nothing.
	replied bool
	make    func(rng *rand.Rand, key []byte, captured []byte) []byte
}

var floodKinds = []floodKind{
	{"random bytes", false, func(rng *rand.Rand, _, _ []byte) []byte { return randBytes(rng, 1+rng.IntN(1500)) }},
	{"plj0 + garbage", false, func(rng *rand.Rand, _, _ []byte) []byte {
		return append([]byte("plj0"), randBytes(rng, rng.IntN(1500))...)
	}},
	{"wrong key", false, func(rng *rand.Rand, _, _ []byte) []byte {
		return protocol.AppendRequest(nil, []byte("not the key"), time.Now(), protocol.TypeConfigQuery, []byte(`"/cluster"`), strconv.Itoa(rng.Int()))
	}},
	{"expired", false, func(rng *rand.Rand, key, _ []byte) []byte {
		return protocol.AppendRequest(nil, key, time.Now().Add(-400*time.Second), protocol.TypeClusterMaster, nil, strconv.Itoa(rng.Int()))
	}},
	{"future", false, func(rng *rand.Rand, key, _ []byte) []byte {
		return protocol.AppendRequest(nil, key, time.Now().Add(400*time.Second), protocol.TypeClusterMaster, nil, strconv.Itoa(rng.Int()))
	}},
	{"oversized", false, func(rng *rand.Rand, _, _ []byte) []byte {
		return append([]byte(`plj0{"msg": "`), randBytes(rng, 5000+rng.IntN(55000))...)
	}},
	{"truncated", false, func(rng *rand.Rand, key, _ []byte) []byte {
		d := protocol.AppendRequest(nil, key, time.Now(), protocol.TypeNodePipList, nil, strconv.Itoa(rng.Int()))
		return d[:rng.IntN(len(d)-1)]
	}},
	{"deep JSON", false, func(rng *rand.Rand, _, _ []byte) []byte {
		n := 1 + rng.IntN(2000)
		return []byte(`plj0{"msg": ` + strings.Repeat(`[{"a":`, n) + strings.Repeat(`}]`, n) + `, "salt": "1", "hmac": "00"}`)
	}},
	{"huge JSON", false, func(rng *rand.Rand, _, _ []byte) []byte {
		var b strings.Builder
		b.WriteString(`plj0{"msg": "{}", "salt": "1", "hmac": "00"`)
		for i := 0; b.Len() < 4000; i++ {
			fmt.Fprintf(&b, `, "k%d": [1e999999, -0.0e-99999, "\ud800", 12345678901234567890123]`, i)
		}
		b.WriteString("}")
		return []byte(b.String())
	}},
	{"invalid UTF-8 / Latin-1", false, func(rng *rand.Rand, key, _ []byte) []byte {
		d := protocol.AppendRequest(nil, []byte("not the key"), time.Now(), protocol.TypeNodeRoleByName, []byte("\"n\xe9\xff\xfe\xc3\""), "r")
		return append(d, "\xff\xc0\xaf"...)
	}},
	{"replay", true, func(_ *rand.Rand, _, captured []byte) []byte { return captured }},
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n]
}

// The two phases of TestHostileTrafficUnderLoad.
const (
	quietPhase = iota
	floodPhase
	numPhases
)

// Quiet and flood alternate in slices, so that whatever else the machine
// does in the meantime weighs on both alike. A request sent within
// switchGuard of a switch counts for the flood (it may meet the flood's
// start or its queue draining) but its latency counts for neither.
const (
	phaseSlice  = 500 * time.Millisecond
	switchGuard = 50 * time.Millisecond
)

// phase is what the legitimate clients saw in one phase.
type phase struct {
	sent, answered, wrong int64
	lat                   []time.Duration // send to reply read
	// atSocket are the times from the send to the reply's arrival in the
	// client's socket (kernel timestamps; Linux): without the client's
	// own wake-up.
	atSocket []time.Duration
}

func (p *phase) add(o *phase) {
	p.sent += o.sent
	p.answered += o.answered
	p.wrong += o.wrong
	p.lat = append(p.lat, o.lat...)
	p.atSocket = append(p.atSocket, o.atSocket...)
}

func (p *phase) share() float64 { return 100 * float64(p.answered) / float64(max(p.sent, 1)) }

// percentile returns the latency below which pct percent of lat are.
func percentile(lat []time.Duration, pct int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[min(len(lat)-1, len(lat)*pct/100)]
}

// phaseClock says which phase a request sent now belongs to, and whether
// it is within switchGuard of a switch.
type phaseClock struct {
	cur        atomic.Int32
	guardUntil atomic.Int64 // Unix nanoseconds
}

func (c *phaseClock) set(ph int) {
	c.guardUntil.Store(time.Now().Add(switchGuard).UnixNano())
	c.cur.Store(int32(ph))
}

func (c *phaseClock) now() (ph int, guard bool) {
	if time.Now().UnixNano() < c.guardUntil.Load() {
		return floodPhase, true
	}
	return int(c.cur.Load()), false
}

// p99Target is the target for the legitimate clients' p99 during
// the flood, as a multiple of the quiet one.
const p99Target = 2

// TestHostileTrafficUnderLoad runs a real daemon answering legitimate
// clients at a steady rate (4 × 250 requests/s, every reply checked),
// quietly and under a flood at five times that rate of eleven kinds of
// hostile datagram, each kind from its own socket: random bytes, plj0 and
// garbage, a wrong key, expired and future timestamps, oversized,
// truncated, deeply nested and huge JSON, invalid UTF-8, and replays of a
// captured signed request. The flood comes from a process of its own at
// the lowest CPU priority (floodEnv), as an attacker is on other hosts;
// quiet and flood alternate every half second. It prints the legitimate
// share answered and p99 latency quiet and flooded, the CPU of the daemon,
// of the clients and of the flood, the daemon's RSS, drops by reason, log
// lines, and the bytes sent to each kind. It fails on a wrong answer, on
// any byte sent to an unauthenticated datagram, on less than 99.9 % of
// the legitimate requests answered during the flood, or on more than 50
// log lines. The p99 target (flood no more than twice quiet) is printed
// as met or not, not asserted: on a shared machine the neighbours weigh
// on it (docs/reliability.md). It is printed twice: at the client (send
// to reply read, as the issue has it) and at the client's socket (send to
// the reply's arrival by the kernel's timestamp, Linux), which leaves out
// the client process's own wake-up. Each phase lasts 3 s in all; 10 s with
// GOCONFD_SOAK or -soak of a minute or more.
func TestHostileTrafficUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("flood")
	}
	dur := 3 * time.Second
	if soakDuration() >= time.Minute {
		dur = 10 * time.Second
	}
	const legitClients, legitRate = 4, 250
	bin := testdaemon.Goconfd(t)
	key := []byte("hostile-test-key-0123456789abcdef")
	data, f := version(t, 0)
	chk := &checker{facts: make(map[int64]*clustergen.Facts)}
	chk.add(f)
	chk.pool = f.InstanceIPs(f.DefaultLink)

	d := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{Bin: bin, Config: data, Key: key, Metrics: true})
	spec := floodSpec{
		Addr: d.Addr, Key: key, Rate: 5 * legitClients * legitRate,
		Captured: protocol.AppendRequest(nil, key, time.Now(), protocol.TypeConfigQuery, []byte(`"/cluster"`), "captured"),
	}
	fl := startFlood(t, spec)
	m0, rss0, lines0 := scrape(t, d.MetricsAddr), procRSS(t, d.Pid()), strings.Count(d.Output(), "\n")

	var clock phaseClock
	stop := make(chan struct{})
	var mu sync.Mutex
	var ph [numPhases]phase
	var wg sync.WaitGroup
	for i := range legitClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := legitClient(t, uint64(100+i), d.Addr, key, chk, legitRate, &clock, stop)
			mu.Lock()
			defer mu.Unlock()
			for p := range ph {
				ph[p].add(&got[p])
			}
		}()
	}
	var daemonCPU [numPhases]float64
	var selfTime [numPhases]time.Duration
	for i := range 2 * int(dur/phaseSlice) {
		p := i % numPhases
		cpu0, self0 := procCPU(t, d.Pid()), selfCPU()
		clock.set(p)
		if err := fl.set(p == floodPhase); err != nil {
			t.Fatal(err)
		}
		time.Sleep(phaseSlice)
		daemonCPU[p] += procCPU(t, d.Pid()).Sub(cpu0)
		selfTime[p] += selfCPU() - self0
	}
	if err := fl.set(false); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	res, floodCPU, err := fl.stop()
	if err != nil {
		t.Fatal(err)
	}
	m1, rss1, hwm := scrape(t, d.MetricsAddr), procRSS(t, d.Pid()), procHWM(t, d.Pid())
	lines := strings.Count(d.Output(), "\n") - lines0
	quiet, flooded := &ph[quietPhase], &ph[floodPhase]

	pct := func(cpu float64) float64 { return 100 * cpu / dur.Seconds() }
	us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	fmt.Printf("hostile: legit %d req/s; quiet %v: %d/%d answered (%.2f %%), p50 %v, p99 %v; flood %v at %d datagrams/s: %d/%d answered (%.2f %%), p50 %v, p99 %v\n",
		legitClients*legitRate, dur, quiet.answered, quiet.sent, quiet.share(), us(percentile(quiet.lat, 50)), us(percentile(quiet.lat, 99)),
		dur, spec.Rate, flooded.answered, flooded.sent, flooded.share(), us(percentile(flooded.lat, 50)), us(percentile(flooded.lat, 99)))
	verdict := func(quiet, flood []time.Duration) string {
		ratio := float64(percentile(flood, 99)) / float64(max(percentile(quiet, 99), 1))
		met := "met"
		if ratio > p99Target {
			met = "not met"
		}
		return fmt.Sprintf("%.2f (%v / %v): %s", ratio, us(percentile(flood, 99)), us(percentile(quiet, 99)), met)
	}
	fmt.Printf("hostile: p99 flood / quiet (target at most %d; quiet and flood alternate every %v): at the client %s\n", p99Target, phaseSlice, verdict(quiet.lat, flooded.lat))
	if len(quiet.atSocket) > 0 && len(flooded.atSocket) > 0 {
		fmt.Printf("hostile: p99 flood / quiet at the client's socket (kernel timestamps: without the client's own wake-up): %s\n", verdict(quiet.atSocket, flooded.atSocket))
	}
	fmt.Printf("hostile: CPU of one core, quiet / flood: daemon %.0f %% / %.0f %%, the legitimate clients' process %.0f %% / %.0f %%; the flood's process (nice %d) %.0f %%\n",
		pct(daemonCPU[quietPhase]), pct(daemonCPU[floodPhase]), pct(selfTime[quietPhase].Seconds()), pct(selfTime[floodPhase].Seconds()), floodNice, pct(floodCPU.Seconds()))
	fmt.Printf("hostile: daemon RSS %.1f MB before, %.1f MB after, peak %.1f MB; log lines %d\n", rss0, rss1, hwm, lines)
	var drops []string
	for k, v := range m1 {
		if strings.HasPrefix(k, "goconfd_datagrams_dropped_total{") || k == "goconfd_kernel_dropped_datagrams_total" || k == "goconfd_datagrams_truncated_total" {
			if n := v - m0[k]; n > 0 || k == "goconfd_kernel_dropped_datagrams_total" {
				drops = append(drops, fmt.Sprintf("%s %.0f", strings.TrimPrefix(k, "goconfd_"), n))
			}
		}
	}
	slices.Sort(drops)
	fmt.Printf("hostile: during the flood: %s\n", strings.Join(drops, ", "))
	fmt.Printf("hostile: socket buffers as granted: receive %.0f, send %.0f bytes\n",
		m1["goconfd_socket_receive_buffer_bytes"], m1["goconfd_socket_send_buffer_bytes"])
	var unauth, total int64
	for i := range floodKinds {
		total += res.Sent[i]
	}
	fmt.Printf("hostile: flood datagrams sent %d, %.0f a second of flood\n", total, float64(total)/dur.Seconds())
	for i, k := range floodKinds {
		fmt.Printf("hostile:   %-24s sent %6d, bytes sent back %d\n", k.name, res.Sent[i], res.Received[i])
		if !k.replied {
			unauth += res.Received[i]
		}
	}

	if quiet.wrong+flooded.wrong != 0 {
		t.Errorf("%d wrong answers", quiet.wrong+flooded.wrong)
	}
	if unauth != 0 {
		t.Errorf("%d bytes sent in reply to unauthenticated datagrams", unauth)
	}
	if s := flooded.share(); s < 99.9 {
		t.Errorf("%.2f %% of the legitimate requests answered during the flood, want at least 99.9 %%", s)
	}
	if lines > 50 {
		t.Errorf("%d log lines during the flood", lines)
	}
	if !d.Alive() {
		t.Fatalf("the daemon died:\n%s", d.Tail(30))
	}
}

// legitClient asks at rate requests/s, one at a time, until stop, and
// counts per phase (clock, at the time of sending) what it sent, the
// right and the wrong answers, and the latency of each answer sent
// outside the switch guards.
func legitClient(t *testing.T, seed uint64, to netip.AddrPort, key []byte, chk *checker, rate int, clock *phaseClock, stop <-chan struct{}) (res [numPhases]phase) {
	l, err := newLegit(to, key, chk, seed, 9)
	if err != nil {
		t.Error(err)
		return
	}
	defer l.c.Close()
	paced(rate, stop, func() bool {
		ph, guard := clock.now()
		a, err := l.ask()
		if err != nil {
			t.Error(err)
			return false
		}
		p := &res[ph]
		p.sent++
		if !a.answered {
			return true
		}
		if !guard {
			p.lat = append(p.lat, a.took)
			if a.atSocket > 0 {
				p.atSocket = append(p.atSocket, a.atSocket)
			}
		}
		if a.wrong != "" {
			p.wrong++
			t.Log(a.wrong)
		} else {
			p.answered++
		}
		return true
	})
	return res
}

func isConnRefused(err error) bool { return strings.Contains(err.Error(), "connection refused") }

// cpuTime is a process's CPU time in seconds.
type cpuTime float64

func (c cpuTime) Sub(o cpuTime) float64 { return float64(c - o) }

func procCPU(t *testing.T, pid int) cpuTime {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th of the line, in clock ticks (100 a second).
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return cpuTime((ut + st) / 100)
}

// procRSS is the process's resident set in MB.
func procRSS(t *testing.T, pid int) float64 {
	t.Helper()
	return float64(procStatus(t, pid, "VmRSS")) / 1024
}

// procHWM is the process's peak resident set in MB.
func procHWM(t *testing.T, pid int) float64 {
	t.Helper()
	return float64(procStatus(t, pid, "VmHWM")) / 1024
}

// procStatus is the number that starts field's value in the process's
// /proc status (VmRSS in kB, Threads).
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	v, err := testdaemon.ProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(v) // "15404 kB", "65534\t65534\t65534\t65534"
	if len(f) == 0 {
		t.Fatalf("/proc/%d/status: %s is empty", pid, field)
	}
	i, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatalf("/proc/%d/status: %s %q: %v", pid, field, v, err)
	}
	return i
}

// scrape reads the daemon's metrics: full name with labels → value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scraping the daemon's metrics: %v", err)
	}
	defer resp.Body.Close()
	m := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}
