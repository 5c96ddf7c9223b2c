package soak

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
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

var soakFor = flag.Duration("soak", 0, "how long TestSoak runs (default 5s, 1m with GOCONFD_SOAK set)")

func soakDuration() time.Duration {
	switch {
	case *soakFor > 0:
		return *soakFor
	case os.Getenv("GOCONFD_SOAK") != "":
		return time.Minute
	}
	return 5 * time.Second
}

// Bounds on the daemon's resources between the first sample (after a
// warm-up) and the last. Memory is bounded by what one more snapshot of
// the small config and the garbage between collections can take.
const (
	maxGoroutineGrowth = 2
	maxFDGrowth        = 0
	maxRSSGrowthMB     = 24
)

const (
	baseSerial = 100000
	layouts    = 16 // distinct clusters, cycled; every version has its own serial
	clients    = 4
	clientRate = 400 // requests a second per client
)

var nodeNames = func() []string {
	var n []string
	for i := range 8 {
		n = append(n, fmt.Sprintf("node%d.soak.example.org", i+1))
	}
	return n
}()

// version makes version v of the config: layout v%layouts (a seed and a
// rotation of the node names, so that the master, the roles, the
// instances' nodes and their IPs change) with cluster serial baseSerial+v.
func version(t *testing.T, v int) ([]byte, *clustergen.Facts) {
	t.Helper()
	o := clustergen.Default()
	o.Seed = uint64(1 + v%layouts)
	rot := v % len(nodeNames)
	o.NodeNames = append(slices.Clone(nodeNames[rot:]), nodeNames[:rot]...)
	o.ClusterSerial = baseSerial + v
	data, f, err := clustergen.Generate(o)
	if err != nil {
		t.Fatalf("generating version %d: %v", v, err)
	}
	return data, f
}

// checker knows the facts behind every serial written.
type checker struct {
	mu    sync.RWMutex
	facts map[int64]*clustergen.Facts
	pool  []string // instance IPs of every layout, for NODE_PIP_BY_INSTANCE_IP
}

func (c *checker) add(f *clustergen.Facts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.facts[int64(f.ClusterSerial)] = f
}

func (c *checker) get(serial int64) *clustergen.Facts {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.facts[serial]
}

// request is one kind of question and how to predict its answer.
type request struct {
	name  string
	typ   protocol.Type
	query func(rng *rand.Rand, c *checker) any // nil: no query
	want  func(f *clustergen.Facts, q any) any
}

var requests = []request{
	{"cluster_master", protocol.TypeClusterMaster,
		func(*rand.Rand, *checker) any { return map[string]any{"3": []int{0, 1, 2}} },
		func(f *clustergen.Facts, _ any) any { return []string{f.MasterName, f.MasterIP, f.MasterPrimaryIP} }},
	{"node_role_byname", protocol.TypeNodeRoleByName,
		func(rng *rand.Rand, _ *checker) any { return nodeNames[rng.IntN(len(nodeNames))] },
		func(f *clustergen.Facts, q any) any {
			n, _ := f.Node(q.(string))
			return int(n.Role)
		}},
	{"node_pip_list", protocol.TypeNodePipList, nil,
		func(f *clustergen.Facts, _ any) any { return f.NodePIPList() }},
	{"mc_pip_list", protocol.TypeMcPipList, nil,
		func(f *clustergen.Facts, _ any) any { return f.MCPIPList() }},
	{"instances_ips_list", protocol.TypeInstancesIPsList, nil,
		func(f *clustergen.Facts, _ any) any { return f.InstanceIPs(f.DefaultLink) }},
	{"node_pip_by_instance_ip", protocol.TypeNodePipByInstanceIP,
		func(rng *rand.Rand, c *checker) any {
			ips := make([]string, 4)
			for i := range ips {
				ips[i] = c.pool[rng.IntN(len(c.pool))]
			}
			return map[string]any{"2": ips}
		},
		func(f *clustergen.Facts, q any) any {
			var rows []any
			for _, ip := range q.(map[string]any)["2"].([]string) {
				if pip, ok := f.NodePIPByInstanceIP(f.DefaultLink, ip); ok {
					rows = append(rows, []any{0, pip, f.ClusterSerial})
				} else {
					rows = append(rows, []any{1, 0, 0})
				}
			}
			return rows
		}},
	{"config_query", protocol.TypeConfigQuery,
		func(*rand.Rand, *checker) any { return "/cluster/master_node" },
		func(f *clustergen.Facts, _ any) any { return f.MasterUUID }},
}

// build makes a query of r's kind: the value and its JSON (nil for none).
func (r *request) build(rng *rand.Rand, chk *checker) (any, []byte) {
	if r.query == nil {
		return nil, nil
	}
	q := r.query(rng, chk)
	qjson, _ := json.Marshal(q)
	return q, qjson
}

// check checks a reply to query q of r's kind against the version its
// serial names, and says what is wrong, or "".
func (r *request) check(chk *checker, q any, qjson []byte, reply protocol.Reply) string {
	f := chk.get(reply.Serial)
	if f == nil {
		return fmt.Sprintf("%s %s: serial %d is no version written (status %d, answer %s)", r.name, qjson, reply.Serial, reply.Status, reply.Answer)
	}
	var got any
	if err := json.Unmarshal(reply.Answer, &got); err != nil {
		return fmt.Sprintf("%s: answer not JSON: %v", r.name, err)
	}
	want := normalize(r.want(f, q))
	if reply.Status != protocol.StatusOK || !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s %s at serial %d: status %d, answer %v, want %v", r.name, qjson, reply.Serial, reply.Status, got, want)
	}
	return ""
}

// normalize returns v as encoding/json decodes it.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

type tally struct {
	sent, ok, wrong, lost, regress atomic.Int64
	byKind                         [16]atomic.Int64
	firstWrong                     atomic.Pointer[string]
}

func (t *tally) fail(msg string) {
	t.wrong.Add(1)
	t.firstWrong.CompareAndSwap(nil, &msg)
}

// TestSoak runs a real daemon under mixed load while its config changes
// every 100 ms (a temporary file renamed over config.data, as Ganeti
// writes it), each version changing the master, the roles, the
// instances' nodes and their IPs. Every reply is checked against the
// version its serial names. Targets: no wrong answer, no crash, no serial
// going backwards for one client, no growth in goroutines, descriptors or
// memory beyond the bounds above; lost replies are counted and must stay
// under 0.1 %. The figures are printed.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	dur := soakDuration()
	bin := testdaemon.Goconfd(t)
	key := []byte("soak-test-key-0123456789abcdef")
	chk := &checker{facts: make(map[int64]*clustergen.Facts)}
	seen := map[string]bool{}
	var first []byte
	for v := range layouts {
		data, f := version(t, v)
		if v == 0 {
			first = data
			chk.add(f)
		}
		for _, ip := range f.InstanceIPs(f.DefaultLink) {
			if !seen[ip] {
				seen[ip] = true
				chk.pool = append(chk.pool, ip)
			}
		}
	}
	chk.pool = append(chk.pool, "192.0.2.254") // never an instance's

	d := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{Bin: bin, Config: first, Key: key, Metrics: true})
	path := filepath.Join(d.Root, testdaemon.ConfigRel)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var tl tally
	// The writer: a new version every 100 ms.
	var written atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for v := 1; ; v++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			data, f := version(t, v)
			chk.add(f) // known before it can be served
			if err := testdaemon.ReplaceFile(path, data, 0o640); err != nil {
				t.Error(err)
				return
			}
			written.Store(int64(v))
		}
	}()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runClient(t, uint64(i), d.Addr, key, chk, &tl, stop)
		}()
	}

	// Resources: a first sample after a warm-up, the last at the end.
	pid := d.Pid()
	warm := min(dur/5, 10*time.Second)
	time.Sleep(warm)
	r0 := sample(t, pid, d.MetricsAddr)
	time.Sleep(dur - warm)
	r1 := sample(t, pid, d.MetricsAddr)
	close(stop)
	wg.Wait()
	alive := d.Alive()
	out := d.Output()

	sent, ok, wrong, lost := tl.sent.Load(), tl.ok.Load(), tl.wrong.Load(), tl.lost.Load()
	var kinds []string
	for i, r := range requests {
		kinds = append(kinds, fmt.Sprintf("%s %d", r.name, tl.byKind[i].Load()))
	}
	fmt.Printf("soak %v: %d versions written (every 100 ms), %d clients: %d requests, %d answered right, %d wrong, %d lost (%.3f %%), %d serial regressions\n",
		dur, written.Load(), clients, sent, ok, wrong, lost, 100*float64(lost)/float64(max(sent, 1)), tl.regress.Load())
	fmt.Printf("soak requests: %s\n", strings.Join(kinds, ", "))
	fmt.Printf("soak daemon after %v -> end: goroutines %d -> %d, fds %d -> %d, threads %d -> %d, RSS %.1f -> %.1f MB, heap in use %.1f -> %.1f MB, loads %d\n",
		warm, r0.goroutines, r1.goroutines, r0.fds, r1.fds, r0.threads, r1.threads, r0.rssMB, r1.rssMB, r0.heapMB, r1.heapMB, r1.loads)

	if !alive || strings.Contains(out, "panic") {
		t.Fatalf("the daemon died or panicked:\n%s", d.Tail(40))
	}
	if wrong != 0 {
		t.Errorf("%d wrong answers; the first: %s", wrong, *tl.firstWrong.Load())
	}
	if tl.regress.Load() != 0 {
		t.Errorf("%d times a client saw an older serial after a newer one", tl.regress.Load())
	}
	if lost*1000 > sent {
		t.Errorf("%d of %d requests without a reply", lost, sent)
	}
	if ok == 0 {
		t.Fatal("nothing answered")
	}
	if g := r1.goroutines - r0.goroutines; g > maxGoroutineGrowth {
		t.Errorf("goroutines grew by %d (bound %d)", g, maxGoroutineGrowth)
	}
	if f := r1.fds - r0.fds; f > maxFDGrowth {
		t.Errorf("descriptors grew by %d (bound %d)", f, maxFDGrowth)
	}
	if m := r1.rssMB - r0.rssMB; m > maxRSSGrowthMB {
		t.Errorf("RSS grew by %.1f MB (bound %d MB)", m, maxRSSGrowthMB)
	}
	if r1.loads < 2 {
		t.Errorf("only %d loads", r1.loads)
	}
}

// runClient asks at clientRate requests/s, one at a time, until stop,
// and counts the outcomes in tl.
func runClient(t *testing.T, seed uint64, to netip.AddrPort, key []byte, chk *checker, tl *tally, stop <-chan struct{}) {
	l, err := newLegit(to, key, chk, seed, 7)
	if err != nil {
		t.Error(err)
		return
	}
	defer l.c.Close()
	var last int64
	paced(clientRate, stop, func() bool {
		a, err := l.ask()
		if err != nil {
			t.Error(err)
			return false
		}
		tl.sent.Add(1)
		tl.byKind[a.kind].Add(1)
		switch {
		case !a.answered:
			tl.lost.Add(1)
		case a.wrong != "":
			tl.fail(a.wrong)
		default:
			if a.reply.Serial < last {
				tl.regress.Add(1)
			}
			last = a.reply.Serial
			tl.ok.Add(1)
		}
		return true
	})
}

// legit is a legitimate client: its own socket, random requests of
// requests, every reply checked against the facts of its serial.
type legit struct {
	c   *net.UDPConn
	rng *rand.Rand
	buf []byte
	oob []byte // for the kernel's receive timestamp, where there is one
	to  netip.AddrPort
	key []byte
	chk *checker
}

// newLegit opens a client's socket, with the kernel's receive timestamps
// where it has them (Linux); seed and stream choose its requests.
func newLegit(to netip.AddrPort, key []byte, chk *checker, seed, stream uint64) (*legit, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("a client's socket: %w", err)
	}
	l := &legit{c: c, rng: rand.New(rand.NewPCG(seed, stream)), buf: make([]byte, 65536), to: to, key: key, chk: chk}
	if enableArrivalTimes(c) {
		l.oob = make([]byte, 128)
	}
	return l, nil
}

// answer is the outcome of one request of a legit client.
type answer struct {
	kind     int // the request's index in requests
	reply    protocol.Reply
	answered bool          // a reply came within a second
	took     time.Duration // from the send to the reply
	// atSocket is the time from the send to the reply's arrival in the
	// client's socket, by the kernel's timestamp: took without the time
	// the client took to wake up and read it; 0 where unknown.
	atSocket time.Duration
	wrong    string // what is wrong with the reply, "" if nothing
}

// ask sends one random request and waits for its reply; an error is a
// failure to send.
func (l *legit) ask() (answer, error) {
	a := answer{kind: l.rng.IntN(len(requests))}
	r := &requests[a.kind]
	q, qjson := r.build(l.rng, l.chk)
	rsalt := strconv.FormatUint(l.rng.Uint64(), 16)
	dgram := protocol.AppendRequest(nil, l.key, time.Now(), r.typ, qjson, rsalt)
	t0 := time.Now()
	if _, err := l.c.WriteToUDPAddrPort(dgram, l.to); err != nil {
		return a, fmt.Errorf("sending: %w", err)
	}
	var arrived time.Time
	a.reply, arrived, a.answered = readReplyAt(l.c, l.buf, l.oob, l.key, rsalt, time.Second)
	if a.answered {
		a.took = time.Since(t0)
		if !arrived.IsZero() {
			a.atSocket = arrived.Sub(t0)
		}
		a.wrong = r.check(l.chk, q, qjson, a.reply)
	}
	return a, nil
}

// paced calls f rate times a second, one call at a time, until stop is
// closed or f returns false.
func paced(rate int, stop <-chan struct{}, f func() bool) {
	start := time.Now()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		time.Sleep(time.Until(start.Add(time.Duration(n) * time.Second / time.Duration(rate))))
		if !f() {
			return
		}
	}
}

// readReply waits up to timeout for the reply to rsalt, skipping late
// replies to earlier requests.
func readReply(c *net.UDPConn, buf, key []byte, rsalt string, timeout time.Duration) (protocol.Reply, bool) {
	r, _, ok := readReplyAt(c, buf, nil, key, rsalt, timeout)
	return r, ok
}

// readReplyAt is readReply that also returns when the reply arrived in
// the socket, by the kernel's timestamp in oob (enableArrivalTimes); zero
// without one.
func readReplyAt(c *net.UDPConn, buf, oob, key []byte, rsalt string, timeout time.Duration) (protocol.Reply, time.Time, bool) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, oobn, _, _, err := c.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return protocol.Reply{}, time.Time{}, false
		}
		r, err := protocol.ParseReply(buf[:n], key, rsalt)
		if err == nil {
			return r, arrivalTime(oob[:oobn]), true
		}
	}
}

// resources is one sample of the daemon's use of the machine.
type resources struct {
	goroutines, fds, threads int
	rssMB, heapMB            float64
	loads                    int
}

// sample reads the daemon's descriptors, threads and RSS from /proc and
// its goroutines, heap and loads from its metrics.
func sample(t *testing.T, pid int, metricsAddr string) resources {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("reading the daemon's descriptors: %v", err)
	}
	m := scrape(t, metricsAddr)
	return resources{
		fds:        len(ents),
		threads:    procStatus(t, pid, "Threads"),
		rssMB:      procRSS(t, pid),
		goroutines: int(m["go_goroutines"]),
		heapMB:     m["go_memstats_heap_inuse_bytes"] / (1 << 20),
		loads:      int(m[`goconfd_config_loads_total{result="success"}`]),
	}
}
