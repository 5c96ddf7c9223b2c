package client

// Watching real daemons on loopback: goconfd's (with the change
// notification) and Ganeti 3.0.2's (without: polled).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/protocol"
)

// testWatchOptions are short, so that the tests take seconds.
var testWatchOptions = WatchOptions{Wait: 3 * time.Second, Probe: 300 * time.Millisecond, PollInterval: 500 * time.Millisecond}

// richWithSerial is rich.json with its top-level serial_no set.
func richWithSerial(t testing.TB, serial int64) []byte {
	t.Helper()
	data, err := os.ReadFile(richConfig)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	doc["serial_no"] = json.Number(fmt.Sprint(serial))
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// restartConfd starts bin again for c's root on c's port, once c has
// stopped, and stops it at the end of the test.
func restartConfd(t testing.TB, bin string, c *testdaemon.Confd) *testdaemon.Daemon {
	t.Helper()
	addr := c.Addr
	probe := testdaemon.PingProbe(c.Key)
	var d *testdaemon.Daemon
	var err error
	for range 20 { // the port may be busy for a moment
		d, err = testdaemon.Start(testdaemon.Config{
			Bin: bin, Args: func(uint16) []string { return testdaemon.ConfdArgs(addr.Port()) },
			Dir: t.TempDir(), Env: testdaemon.ConfdEnv(c.Root),
			Ready:    func(ctx context.Context, _ netip.AddrPort) error { return probe(ctx, addr) },
			Attempts: 1,
		})
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restarting on %v: %v", addr, err)
	}
	t.Cleanup(d.Stop)
	return d
}

// changes runs Watch in the background and returns its yields.
func changes(t testing.TB, c *Client, serial int64) (<-chan Change, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Change, 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for ch, err := range c.Watch(ctx, serial, testWatchOptions) {
			if err != nil {
				return
			}
			out <- ch
		}
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return out, stop
}

// expect waits for the next change and checks it.
func expect(t testing.TB, ch <-chan Change, serial int64, from Peer, mode ServerMode, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("watch ended")
		}
		if c.Serial != serial || c.Peer != from || c.Mode != mode {
			t.Fatalf("change %+v, want serial %d from %v by %v", c, serial, from, mode)
		}
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("no change to serial %d within %v", serial, within)
	}
	return 0
}

// TestWatchMixedCluster watches three servers: two goconfd daemons and
// Ganeti's real one, which does not know the watch request and must be
// polled. One goconfd daemon is stopped and restarted mid-watch.
func TestWatchMixedCluster(t *testing.T) {
	ref := referenceBin(t)
	bin := goconfdBin(t)
	key, err := os.ReadFile(refKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	a := testdaemon.StartConfdData(t, bin, richWithSerial(t, 100), key)
	b := testdaemon.StartConfdData(t, bin, richWithSerial(t, 100), key)
	r := testdaemon.StartConfdData(t, ref, richWithSerial(t, 100), key)
	peer := func(c *testdaemon.Confd) Peer { return Peer{Host: c.Addr.Addr().String(), Port: c.Addr.Port()} }
	c, err := New(Options{Peers: []Peer{peer(a), peer(b), peer(r)}, Key: key, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := changes(t, c, 99)
	first := <-ch
	if first.Serial != 100 {
		t.Fatalf("first change %+v, want serial 100", first)
	}
	// Let every server be probed (Ganeti's costs a probe timeout).
	time.Sleep(2 * testWatchOptions.Probe)

	// Only Ganeti's server has the next config: learnt by polling it.
	r.WriteConfig(t, richWithSerial(t, 101))
	d := expect(t, ch, 101, peer(r), ModePoll, 5*time.Second)
	t.Logf("serial 101 from Ganeti's server, polled, after %v", d)

	// Only goconfd's a: learnt by watching, at once.
	a.WriteConfig(t, richWithSerial(t, 102))
	d = expect(t, ch, 102, peer(a), ModeWatch, 2*time.Second)
	t.Logf("serial 102 from goconfd, watched, after %v", d)

	// b stops, gets a new config while down, and comes back on its port.
	b.Stop()
	b.WriteConfig(t, richWithSerial(t, 103))
	time.Sleep(500 * time.Millisecond) // a's and r's watchers keep going meanwhile
	restartConfd(t, bin, b)
	d = expect(t, ch, 103, peer(b), ModeWatch, 5*time.Second)
	t.Logf("serial 103 from the restarted goconfd after %v", d)

	// All three move on: the first to serve it wins, once.
	for _, s := range []*testdaemon.Confd{a, b, r} {
		s.WriteConfig(t, richWithSerial(t, 104))
	}
	select {
	case got := <-ch:
		if got.Serial != 104 {
			t.Fatalf("change %+v, want 104", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change to 104")
	}
	select {
	case got := <-ch:
		t.Fatalf("extra change %+v", got)
	case <-time.After(time.Second):
	}
}

// TestWatchStorm changes the config of two goconfd daemons many times in
// quick succession under several watchers: each sees serials only move
// forward and ends on the last one.
func TestWatchStorm(t *testing.T) {
	bin := goconfdBin(t)
	key, err := os.ReadFile(refKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	const base, changesN, watchers = 1000, 60, 4
	daemons := []*testdaemon.Confd{
		testdaemon.StartConfdData(t, bin, richWithSerial(t, base), key),
		testdaemon.StartConfdData(t, bin, richWithSerial(t, base), key),
	}
	var peers []Peer
	for _, d := range daemons {
		peers = append(peers, Peer{Host: d.Addr.Addr().String(), Port: d.Addr.Port()})
	}
	c, err := New(Options{Peers: peers, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	configs := make([][]byte, changesN+1)
	for i := range configs {
		configs[i] = richWithSerial(t, base+int64(i))
	}
	chans := make([]<-chan Change, watchers)
	for i := range chans {
		chans[i], _ = changes(t, c, 0)
		if got := <-chans[i]; got.Serial != base {
			t.Fatalf("watcher %d starts at %+v", i, got)
		}
	}
	for i := 1; i <= changesN; i++ {
		for _, d := range daemons {
			d.WriteConfig(t, configs[i])
		}
		time.Sleep(time.Duration(i%4) * 10 * time.Millisecond)
	}
	last := int64(base + changesN)
	var wg sync.WaitGroup
	for i, ch := range chans {
		wg.Go(func() {
			prev, seen := int64(base), 0
			timeout := time.After(10 * time.Second)
			for prev != last {
				select {
				case got := <-ch:
					if got.Serial <= prev {
						t.Errorf("watcher %d: serial %d after %d", i, got.Serial, prev)
					}
					prev = got.Serial
					seen++
				case <-timeout:
					t.Errorf("watcher %d stuck at %d, want %d", i, prev, last)
					return
				}
			}
			t.Logf("watcher %d saw %d serials, ending on %d", i, seen, prev)
		})
	}
	wg.Wait()
}

// rawWatcher sends watch requests from its own socket and reads the
// replies.
type rawWatcher struct {
	t   *testing.T
	c   *net.UDPConn
	key []byte
}

func newRawWatcher(t *testing.T, key []byte) *rawWatcher {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawWatcher{t: t, c: c, key: key}
}

// request returns a signed watch request.
func (w *rawWatcher) request(serial int64, rsalt string) []byte {
	return protocol.AppendRequest(nil, w.key, time.Now(), protocol.TypeWatch, watchQuery(serial, 30), rsalt)
}

func (w *rawWatcher) send(to netip.AddrPort, dgram []byte) {
	if _, err := w.c.WriteToUDPAddrPort(dgram, to); err != nil {
		w.t.Fatal(err)
	}
}

// replies returns the serials of the valid replies that come within d.
func (w *rawWatcher) replies(rsalt string, d time.Duration) []int64 {
	var got []int64
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		if err := w.c.SetReadDeadline(deadline); err != nil {
			w.t.Fatal(err)
		}
		n, _, err := w.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return got
		}
		r, err := protocol.ParseReply(buf[:n], w.key, rsalt)
		if err != nil {
			w.t.Fatalf("reply: %v", err)
		}
		got = append(got, r.Serial)
	}
}

// TestWatchDaemonTable checks the daemon's parked table from outside: a
// full table answers its oldest request, replays do not grow it, and
// --watch-capacity 0 turns the request off.
func TestWatchDaemonTable(t *testing.T) {
	key, err := os.ReadFile(refKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	d := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{Bin: goconfdBin(t), Config: richWithSerial(t, 200), Key: key, Args: []string{"--watch-capacity", "2"}})

	// A request replayed 20 times parks once.
	replayed := newRawWatcher(t, key)
	dgram := replayed.request(200, "replayed")
	for range 20 {
		replayed.send(d.Addr, dgram)
	}
	if got := replayed.replies("replayed", 300*time.Millisecond); len(got) != 0 {
		t.Fatalf("replayed request answered early: %v", got)
	}
	// A second request fits: the replays took one place only.
	second := newRawWatcher(t, key)
	second.send(d.Addr, second.request(200, "second"))
	if got := replayed.replies("replayed", 300*time.Millisecond); len(got) != 0 {
		t.Fatalf("replays grew the table: the oldest was answered (%v)", got)
	}
	// A third is one too many: the oldest, the replayed one, is answered
	// at once, once, with the serial served.
	third := newRawWatcher(t, key)
	third.send(d.Addr, third.request(200, "third"))
	if got := replayed.replies("replayed", time.Second); !slices.Equal(got, []int64{200}) {
		t.Fatalf("evicted request: replies %v, want [200]", got)
	}
	// A new config answers the two still parked.
	d.WriteConfig(t, richWithSerial(t, 201))
	for _, w := range []struct {
		w     *rawWatcher
		rsalt string
	}{{second, "second"}, {third, "third"}} {
		if got := w.w.replies(w.rsalt, 2*time.Second); !slices.Equal(got, []int64{201}) {
			t.Fatalf("%s: replies %v, want [201]", w.rsalt, got)
		}
	}

	// Off: dropped like any unknown type, while pings are answered.
	off := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{Bin: goconfdBin(t), Config: richWithSerial(t, 200), Key: key, Args: []string{"--watch-capacity", "0"}})
	w := newRawWatcher(t, key)
	w.send(off.Addr, protocol.AppendRequest(nil, key, time.Now(), protocol.TypeWatch, watchQuery(1, 0), "off"))
	if got := w.replies("off", 500*time.Millisecond); len(got) != 0 {
		t.Fatalf("--watch-capacity 0: replies %v", got)
	}
	if _, err := testdaemon.Ping(context.Background(), off.Addr, key); err != nil {
		t.Fatal(err)
	}
}
