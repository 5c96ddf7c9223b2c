package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/protocol"
)

// richData is config/testdata/rich.json (top-level serial_no 7628).
func richData(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stateWithSerial returns rich.json's state with the top-level serial_no
// set to serial.
func stateWithSerial(t testing.TB, serial int64) *config.State {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(richData(t)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	doc["serial_no"] = json.Number(fmt.Sprint(serial))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := config.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return &config.State{Snapshot: snap}
}

// watchQuery is a TypeWatch query.
func watchQuery(serial, wait int64) []byte {
	return fmt.Appendf(nil, `{"serial": %d, "wait": %d}`, serial, wait)
}

// watchServer serves a Pipeline with watching on loopback.
func watchServer(t testing.TB, cfg WatchConfig, st *config.State) (*Pipeline, *Server, func()) {
	t.Helper()
	p := NewPipeline()
	p.EnableWatch(cfg)
	p.SetKey(testKey)
	p.SetState(st)
	srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Handler: p, Sockets: 2, Logger: slog.New(slog.DiscardHandler)})
	return p, srv, stop
}

// watchClient sends requests from one socket and reads replies.
type watchClient struct {
	t testing.TB
	c *net.UDPConn
}

func newWatchClient(t testing.TB) *watchClient {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &watchClient{t: t, c: c}
}

func (w *watchClient) send(to netip.AddrPort, dgram []byte) {
	w.t.Helper()
	if _, err := w.c.WriteToUDPAddrPort(dgram, to); err != nil {
		w.t.Fatal(err)
	}
}

// recv returns the next reply, parsed and checked against rsalt, or nil
// after within.
func (w *watchClient) recv(rsalt string, within time.Duration) *protocol.Reply {
	w.t.Helper()
	buf := make([]byte, 65536)
	if err := w.c.SetReadDeadline(time.Now().Add(within)); err != nil {
		w.t.Fatal(err)
	}
	n, _, err := w.c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	r, err := protocol.ParseReply(buf[:n], testKey, rsalt)
	if err != nil {
		w.t.Fatalf("reply %q: %v", buf[:n], err)
	}
	return &r
}

func watchRequest(serial, wait int64, rsalt string) []byte {
	return protocol.AppendRequest(nil, testKey, time.Now(), protocol.TypeWatch, watchQuery(serial, wait), rsalt)
}

func TestWatchAnswersAtOnce(t *testing.T) {
	_, srv, stop := watchServer(t, WatchConfig{}, stateWithSerial(t, 10))
	defer stop()
	to := srv.Addr()
	tests := []struct {
		name   string
		query  string
		status protocol.Status
		answer string
		serial int64
	}{
		{"other serial", `{"serial": 9, "wait": 30}`, 0, "10", 10},
		{"zero wait", `{"serial": 10, "wait": 0}`, 0, "10", 10},
		{"negative wait", `{"serial": 10, "wait": -5}`, 0, "10", 10},
		{"null query", "", 1, "2", 0},
		{"missing wait", `{"serial": 10}`, 1, "2", 0},
		{"extra member", `{"serial": 10, "wait": 1, "x": 1}`, 1, "2", 0},
		{"string serial", `{"serial": "10", "wait": 1}`, 1, "2", 0},
		{"plain query", `"10"`, 1, "2", 0},
	}
	c := newWatchClient(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := fmt.Sprint("r", i)
			var q []byte
			if tt.query != "" {
				q = []byte(tt.query)
			}
			c.send(to, protocol.AppendRequest(nil, testKey, time.Now(), protocol.TypeWatch, q, rs))
			r := c.recv(rs, 2*time.Second)
			if r == nil {
				t.Fatal("no reply")
			}
			if r.Status != tt.status || ans(r) != tt.answer || r.Serial != tt.serial {
				t.Errorf("reply = [%d, %s, %d], want [%d, %s, %d]", r.Status, ans(r), r.Serial, tt.status, tt.answer, tt.serial)
			}
		})
	}
}

func TestWatchQueryBeforeType(t *testing.T) {
	// A request whose query member comes before its type (any JSON
	// writer may do that) is a watch request all the same.
	p := NewPipeline()
	p.EnableWatch(WatchConfig{})
	p.SetKey(testKey)
	p.SetState(stateWithSerial(t, 10))
	for _, tt := range []struct {
		name, msg string
		want      Outcome
		answer    string
	}{
		{"watch", `{"query": {"serial": 9, "wait": 5}, "protocol": 1, "type": 1000, "rsalt": "x"}`, Answered, "10"},
		{"watch, bad query", `{"query": {"serial": 9}, "protocol": 1, "type": 1000, "rsalt": "x"}`, Answered, "2"},
		{"ping with a watch query", `{"query": {"serial": 9, "wait": 5}, "protocol": 1, "type": 0, "rsalt": "x"}`, DropRequest, ""},
		{"bad query, bad type", `{"query": {"serial": 9, "wait": 5}, "protocol": 1, "type": 12, "rsalt": "x"}`, DropRequest, ""},
		{"ping with a plain query", `{"query": "x", "protocol": 1, "type": 0, "rsalt": "x"}`, Answered, "3000000"},
		{"broken query", `{"query": {"serial": 9, "wait": }, "protocol": 1, "type": 1000, "rsalt": "x"}`, DropRequest, ""},
		{"broken query after the type", `{"protocol": 1, "type": 1000, "query": {"serial": 9, "wait": }, "rsalt": "x"}`, DropRequest, ""},
		{"watch query with a string, after the type", `{"protocol": 1, "type": 1000, "query": {"serial": "9", "wait": 1}, "rsalt": "x"}`, Answered, "2"},
		{"watch, type first", `{"protocol": 1, "type": 1000, "query": {"wait": 5, "serial": 9}, "rsalt": "x"}`, Answered, "10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reply, v := p.Handle(signRaw(tt.msg), nil)
			if v.Outcome != tt.want {
				t.Fatalf("outcome %v, want %v", v.Outcome, tt.want)
			}
			if tt.want != Answered {
				return
			}
			r, err := protocol.ParseReply(reply, testKey, "x")
			if err != nil {
				t.Fatal(err)
			}
			if ans(&r) != tt.answer {
				t.Errorf("answer %s, want %s", ans(&r), tt.answer)
			}
		})
	}
}

// signRaw wraps msg, a request object's text, in a signed envelope.
func signRaw(msg string) []byte {
	salt := fmt.Sprint(time.Now().Unix())
	mac := hmac.New(sha1.New, testKey)
	mac.Write([]byte(salt + msg))
	env, err := json.Marshal(map[string]string{"msg": msg, "salt": salt, "hmac": hex.EncodeToString(mac.Sum(nil))})
	if err != nil {
		panic(err)
	}
	return append([]byte(protocol.Magic), env...)
}

func TestWatchNotEnabled(t *testing.T) {
	// Without EnableWatch, the type is unknown, as to Ganeti's server.
	p := newTestPipeline(t, time.Now())
	_, v := p.Handle(watchRequest(1, 5, "x"), nil)
	if v.Outcome != DropType {
		t.Fatalf("outcome %v, want %v", v.Outcome, DropType)
	}
}

func TestWatchParksUntilChange(t *testing.T) {
	p, srv, stop := watchServer(t, WatchConfig{}, stateWithSerial(t, 10))
	defer stop()
	to := srv.Addr()
	clients := make([]*watchClient, 5)
	for i := range clients {
		clients[i] = newWatchClient(t)
		clients[i].send(to, watchRequest(10, 30, fmt.Sprint("w", i)))
	}
	if r := clients[0].recv("w0", 200*time.Millisecond); r != nil {
		t.Fatalf("parked request answered early: %+v", r)
	}
	waitFor(t, func() bool { return p.WatchStats().Parked == len(clients) })
	// A state with the same serial answers nobody.
	p.SetState(stateWithSerial(t, 10))
	if r := clients[1].recv("w1", 200*time.Millisecond); r != nil {
		t.Fatalf("answered on a republished serial: %+v", r)
	}
	start := time.Now()
	p.SetState(stateWithSerial(t, 11))
	for i, c := range clients {
		r := c.recv(fmt.Sprint("w", i), 2*time.Second)
		if r == nil || r.Status != 0 || r.Serial != 11 || ans(r) != "11" {
			t.Fatalf("client %d: reply %+v, want serial 11", i, r)
		}
	}
	t.Logf("answered %d parked requests in %v", len(clients), time.Since(start))
	st := p.WatchStats()
	if st.Parked != 0 || st.Changed != uint64(len(clients)) || st.ParkedTotal != uint64(len(clients)) {
		t.Errorf("stats %+v", st)
	}
	// The server counted each as answered, not as anything else.
	if s := srv.Stats(); s.Outcomes[Answered] != uint64(len(clients)) {
		t.Errorf("answered outcomes %d, want %d", s.Outcomes[Answered], len(clients))
	}
}

func TestWatchNoConfig(t *testing.T) {
	p, srv, stop := watchServer(t, WatchConfig{}, stateWithSerial(t, 10))
	defer stop()
	c := newWatchClient(t)
	c.send(srv.Addr(), watchRequest(10, 30, "a"))
	waitFor(t, func() bool { return p.WatchStats().Parked == 1 })
	p.SetState(&config.State{Unavailable: "gone"})
	r := c.recv("a", 2*time.Second)
	if r == nil || r.Status != 1 || r.Serial != 0 || ans(r) != `"gone"` {
		t.Fatalf("reply %+v, want [1, \"gone\", 0]", r)
	}
	// While there is no config, a watch request is answered at once.
	c.send(srv.Addr(), watchRequest(10, 30, "b"))
	if r := c.recv("b", 2*time.Second); r == nil || r.Status != 1 {
		t.Fatalf("reply %+v, want status 1 at once", r)
	}
}

func TestWatchExpires(t *testing.T) {
	p, srv, stop := watchServer(t, WatchConfig{MaxWait: 300 * time.Millisecond}, stateWithSerial(t, 10))
	defer stop()
	c := newWatchClient(t)
	start := time.Now()
	c.send(srv.Addr(), watchRequest(10, 1, "short")) // 1 s, cut to 300 ms
	r := c.recv("short", 3*time.Second)
	el := time.Since(start)
	if r == nil || r.Serial != 10 || r.Status != 0 {
		t.Fatalf("reply %+v, want serial 10", r)
	}
	if el < 250*time.Millisecond || el > 2*time.Second {
		t.Errorf("answered after %v, want about 300ms", el)
	}
	if st := p.WatchStats(); st.Expired != 1 {
		t.Errorf("stats %+v, want 1 expired", st)
	}
}

func TestWatchFullTable(t *testing.T) {
	const capacity = 4
	p, srv, stop := watchServer(t, WatchConfig{Capacity: capacity}, stateWithSerial(t, 10))
	defer stop()
	to := srv.Addr()
	clients := make([]*watchClient, capacity+3)
	for i := range clients {
		clients[i] = newWatchClient(t)
		clients[i].send(to, watchRequest(10, 30, fmt.Sprint("f", i)))
		waitFor(t, func() bool { return p.WatchStats().ParkedTotal == uint64(i+1) })
	}
	// The three oldest were answered at once, with the serial served.
	for i := range 3 {
		r := clients[i].recv(fmt.Sprint("f", i), 2*time.Second)
		if r == nil || r.Serial != 10 {
			t.Fatalf("evicted client %d: reply %+v", i, r)
		}
	}
	st := p.WatchStats()
	if st.Parked != capacity || st.Evicted != 3 {
		t.Fatalf("stats %+v, want %d parked, 3 evicted", st, capacity)
	}
	for i := 3; i < len(clients); i++ {
		if r := clients[i].recv(fmt.Sprint("f", i), 50*time.Millisecond); r != nil {
			t.Fatalf("client %d answered early: %+v", i, r)
		}
	}
}

func TestWatchReplay(t *testing.T) {
	p, srv, stop := watchServer(t, WatchConfig{Capacity: 8}, stateWithSerial(t, 10))
	defer stop()
	c := newWatchClient(t)
	dgram := watchRequest(10, 30, "replayed")
	for range 50 {
		c.send(srv.Addr(), dgram)
	}
	waitFor(t, func() bool { return p.WatchStats().Replays+p.WatchStats().ParkedTotal == 50 })
	st := p.WatchStats()
	if st.Parked != 1 || st.ParkedTotal != 1 || st.Replays != 49 || st.Evicted != 0 {
		t.Fatalf("stats %+v, want one parked, 49 replays", st)
	}
	// The same datagram from another source is another request.
	c2 := newWatchClient(t)
	c2.send(srv.Addr(), dgram)
	waitFor(t, func() bool { return p.WatchStats().Parked == 2 })
	p.SetState(stateWithSerial(t, 12))
	for _, w := range []*watchClient{c, c2} {
		if r := w.recv("replayed", 2*time.Second); r == nil || r.Serial != 12 {
			t.Fatalf("reply %+v, want serial 12", r)
		}
		// One reply per parked request, not one per replay.
		if r := w.recv("replayed", 100*time.Millisecond); r != nil {
			t.Fatalf("second reply %+v", r)
		}
	}
}

func TestWatchShutdownAnswers(t *testing.T) {
	p, srv, stop := watchServer(t, WatchConfig{}, stateWithSerial(t, 10))
	c := newWatchClient(t)
	c.send(srv.Addr(), watchRequest(10, 30, "s"))
	waitFor(t, func() bool { return p.WatchStats().Parked == 1 })
	stop()
	if r := c.recv("s", 2*time.Second); r == nil || r.Serial != 10 {
		t.Fatalf("reply %+v, want serial 10 at shutdown", r)
	}
	if st := p.WatchStats(); st.Shutdown != 1 || st.Parked != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestWatchTableRace parks, replays, evicts, expires and publishes from
// many goroutines at once (run it with -race).
func TestWatchTableRace(t *testing.T) {
	tbl := newWatchTable(WatchConfig{Capacity: 16, MaxWait: 20 * time.Millisecond})
	states := []*config.State{stateWithSerial(t, 1), stateWithSerial(t, 2)}
	var cur sync.Mutex
	st := states[0]
	current := func() *config.State {
		cur.Lock()
		defer cur.Unlock()
		return st
	}
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	out := newSockOut(plainConn{sink}, sockOpts{})
	stopRun := make(chan struct{})
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		tbl.run(stopRun, current)
	}()
	key := &hmacKey{bytes: testKey, gen: 1}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000 + g}
				src := &Source{addr: addr, out: out}
				s := current().Snapshot.Serial()
				tbl.park(current, fmt.Appendf(nil, "r%d", i%40), src, key, s, 10*time.Millisecond, time.Now())
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			cur.Lock()
			st = states[i%2]
			cur.Unlock()
			tbl.published()
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	close(stopRun)
	<-runDone
	s := tbl.stats()
	if s.Parked != 0 {
		t.Errorf("%d still parked after run ended", s.Parked)
	}
	answered := s.Changed + s.Expired + s.Evicted + s.Shutdown
	if answered != s.ParkedTotal {
		t.Errorf("answered %d of %d parked (%+v)", answered, s.ParkedTotal, s)
	}
	if len(tbl.heap) != 0 || tbl.head != nil || tbl.tail != nil || len(tbl.byKey) != 0 {
		t.Error("table not empty")
	}
}

// waitFor polls cond for up to 2 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 2s")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkPipelineWatchers measures the twelve Ganeti types' path
// without watching (off), and with watching and no or 4096 parked
// watchers: it must not change.
func BenchmarkPipelineWatchers(b *testing.B) {
	for _, parkedN := range []int{-1, 0, 4096} {
		name := fmt.Sprintf("parked=%d", parkedN)
		if parkedN < 0 {
			name = "off"
		}
		b.Run(name, func(b *testing.B) {
			p := NewPipeline()
			if parkedN >= 0 {
				p.EnableWatch(WatchConfig{Capacity: 4096})
			}
			p.SetKey(testKey)
			p.SetState(stateWithSerial(b, 10))
			sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			src := &Source{out: newSockOut(plainConn{sink}, sockOpts{})}
			for i := range parkedN {
				src.addr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1024 + i}
				if _, v := p.handleFrom(watchRequest(10, 60, fmt.Sprint("p", i)), nil, src); !v.Parked {
					b.Fatalf("watch %d not parked: %+v", i, v)
				}
			}
			if got := p.WatchStats().Parked; got != max(parkedN, 0) {
				b.Fatalf("%d parked, want %d", got, parkedN)
			}
			now := time.Now()
			p.now = func() time.Time { return now }
			req := protocol.AppendRequest(nil, testKey, now, protocol.TypeNodePipList, nil, "bench")
			src.addr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
			buf := make([]byte, 0, 8192)
			b.ReportAllocs()
			for b.Loop() {
				if _, v := p.handleFrom(req, buf, src); v.Outcome != Answered {
					b.Fatal(v)
				}
			}
		})
	}
}

// ans is a reply's answer as JSON text.
func ans(r *protocol.Reply) string { return string(r.Answer) }
