package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goconfd/goconfd/protocol"
)

// echoHandler is the fake Handler of these tests. By the request's
// prefix it answers "echo:<request>", "len=<length of the request>", a
// reply of the asked length ("big:<n>"), drops with an outcome
// ("drop:<n>", n a number, then any padding) or panics ("panic").
type echoHandler struct{}

func (echoHandler) Handle(req, buf []byte) ([]byte, Verdict) {
	reply, out := echo(req, buf)
	// "type:<t><s>" answers as request type t, status s (digits).
	if bytes.HasPrefix(req, []byte("type:")) && len(req) == 7 {
		return reply, Verdict{Outcome: out, Type: protocol.Type(req[5] - '0'), Status: protocol.Status(req[6] - '0')}
	}
	return reply, Verdict{Outcome: out}
}

// echo is echoHandler's answer and outcome.
func echo(req, buf []byte) ([]byte, Outcome) {
	switch {
	case bytes.HasPrefix(req, []byte("panic")):
		panic("test handler panics on request " + strconv.Quote(string(req)))
	case bytes.HasPrefix(req, []byte("drop:")) && len(req) > 5:
		// The number's digits; anything after them is padding.
		n := 0
		for _, c := range req[5:] {
			if c < '0' || c > '9' {
				break
			}
			n = 10*n + int(c-'0')
		}
		return nil, Outcome(n)
	case bytes.HasPrefix(req, []byte("len")):
		return strconv.AppendInt(append(buf, "len="...), int64(len(req)), 10), Answered
	case bytes.HasPrefix(req, []byte("big:")):
		n, _ := strconv.Atoi(string(req[4:]))
		buf = append(buf, "big:"...)
		for len(buf) < n {
			buf = append(buf, 'x')
		}
		return buf, Answered
	case bytes.HasPrefix(req, []byte("empty")):
		return buf[:0], Answered
	case bytes.HasPrefix(req, []byte("badoutcome")):
		return nil, NumOutcomes + 3
	}
	return append(append(buf, "echo:"...), req...), Answered
}

// testLogger logs to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startServer starts a server for cfg (with echoHandler and the test's
// logger unless cfg has its own), waits for its Ready hook, and returns
// it with a function that stops it and waits for Serve to return. The
// test fails if goroutines are left behind after the stop.
func startServer(t testing.TB, cfg Config) (*Server, func()) {
	t.Helper()
	return startServerAfter(t, cfg, nil)
}

// startServerAfter is startServer with a hook run between Listen and
// Serve.
func startServerAfter(t testing.TB, cfg Config, bound func(*Server)) (*Server, func()) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last
	if cfg.Handler == nil {
		cfg.Handler = echoHandler{}
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if bound != nil {
		if err := srv.Listen(); err != nil {
			t.Fatalf("Listen: %v", err)
		}
		bound(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx) }()
	select {
	case <-ready:
	case err := <-errc:
		cancel()
		t.Fatalf("Serve: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return srv, stop
}

// needIPv6 skips the test if the host has no IPv6 loopback.
func needIPv6(t testing.TB) {
	t.Helper()
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	c.Close()
}

// client is a test client: an unconnected UDP socket on a loopback
// address, so that it sees the source address of every reply.
type client struct {
	t testing.TB
	c *net.UDPConn
}

func newClient(t testing.TB, local string) *client {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(local)))
	if err != nil {
		t.Fatalf("client socket on %s: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t, c}
}

// replyTimeout bounds the wait for a reply; on loopback a reply comes in
// microseconds, so reaching it means the reply was lost.
const replyTimeout = 10 * time.Second

func (c *client) send(to netip.AddrPort, req []byte) {
	c.t.Helper()
	if _, err := c.c.WriteToUDPAddrPort(req, to); err != nil {
		c.t.Fatalf("sending %d bytes to %s: %v", len(req), to, err)
	}
}

func (c *client) recv() ([]byte, netip.AddrPort) {
	c.t.Helper()
	buf := make([]byte, 70000)
	c.c.SetReadDeadline(time.Now().Add(replyTimeout))
	n, from, err := c.c.ReadFromUDPAddrPort(buf)
	if err != nil {
		c.t.Fatalf("waiting for a reply: %v", err)
	}
	return buf[:n], from
}

// ask sends req to the server and returns its reply and source.
func (c *client) ask(to netip.AddrPort, req string) (string, netip.AddrPort) {
	c.t.Helper()
	c.send(to, []byte(req))
	b, from := c.recv()
	return string(b), from
}

// checkSums checks the invariants of the counters of a stopped server.
func checkSums(t testing.TB, st Stats) {
	t.Helper()
	var sum uint64
	for _, n := range st.Outcomes {
		sum += n
	}
	if sum != st.Received {
		t.Errorf("outcomes add up to %d, received %d (%+v)", sum, st.Received, st)
	}
	if a := st.Outcomes[Answered]; a != st.Sent+st.SendErrors {
		t.Errorf("answered %d != sent %d + send errors %d", a, st.Sent, st.SendErrors)
	}
	var answers uint64
	for _, byStatus := range st.Answers {
		for _, n := range byStatus {
			answers += n
		}
	}
	if a := st.Outcomes[Answered]; a != answers {
		t.Errorf("answered %d != %d answers by type and status", a, answers)
	}
}

func TestServeRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		client  string
		sockets int
		batch   int
	}{
		{"ipv4/one socket", "127.0.0.1", "127.0.0.1:0", 1, 0},
		{"ipv4/four sockets", "127.0.0.1", "127.0.0.1:0", 4, 0},
		{"ipv4/batch of one", "127.0.0.1", "127.0.0.1:0", 2, 1},
		{"ipv6/one socket", "::1", "[::1]:0", 1, 0},
		{"ipv6/four sockets", "::1", "[::1]:0", 4, 0},
		{"ipv4-mapped bind address", "::ffff:127.0.0.1", "127.0.0.1:0", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if netip.MustParseAddr(tt.addr).Is6() && !netip.MustParseAddr(tt.addr).Is4In6() {
				needIPv6(t)
			}
			srv, stop := startServer(t, Config{
				Addr: netip.MustParseAddr(tt.addr), Sockets: tt.sockets, BatchSize: tt.batch,
			})
			addr := srv.Addr()
			if addr.Port() == 0 || addr.Addr() != netip.MustParseAddr(tt.addr).Unmap() {
				t.Fatalf("Addr() = %v, want %v with a port", addr, tt.addr)
			}
			if got, want := srv.Sockets(), max(tt.sockets, 1); got < 1 || tt.sockets > 0 && runtime.GOOS == "linux" && got != want {
				t.Errorf("Sockets() = %d while serving, want %d", got, want)
			}
			c := newClient(t, tt.client)
			const n = 50
			for i := range n {
				req := fmt.Sprintf("request %d", i)
				got, from := c.ask(addr, req)
				if want := "echo:" + req; got != want {
					t.Errorf("reply = %q, want %q", got, want)
				}
				if from != addr {
					t.Errorf("reply from %v, want %v", from, addr)
				}
			}
			stop()
			if got := srv.Sockets(); got != 0 {
				t.Errorf("Sockets() = %d after the stop, want 0", got)
			}
			st := srv.Stats()
			checkSums(t, st)
			if st.Received != n || st.Sent != n || st.Outcomes[Answered] != n {
				t.Errorf("stats = %+v, want %d received, answered and sent", st, n)
			}
		})
	}
}

func TestServeTruncates(t *testing.T) {
	srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1})
	c := newClient(t, "127.0.0.1:0")
	tests := []struct {
		name string
		size int
		want int
	}{
		{"short", 3, 3},
		{"one under the limit", protocol.MaxRequestSize - 1, protocol.MaxRequestSize - 1},
		{"at the limit", protocol.MaxRequestSize, protocol.MaxRequestSize},
		{"one over the limit", protocol.MaxRequestSize + 1, protocol.MaxRequestSize},
		{"largest datagram", protocol.MaxReplySize, protocol.MaxRequestSize},
	}
	var truncated uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := []byte("len" + strings.Repeat(".", tt.size-3))
			c.send(srv.Addr(), req)
			got, _ := c.recv()
			if want := fmt.Sprintf("len=%d", tt.want); string(got) != want {
				t.Errorf("a %d-byte datagram: handler saw %q, want %q", tt.size, got, want)
			}
		})
		if tt.size > protocol.MaxRequestSize {
			truncated++
		}
	}
	stop()
	st := srv.Stats()
	checkSums(t, st)
	if runtime.GOOS == "linux" && st.Truncated != truncated {
		t.Errorf("Truncated = %d, want %d", st.Truncated, truncated)
	}
}

func TestServeCountsOutcomes(t *testing.T) {
	srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1")})
	c := newClient(t, "127.0.0.1:0")
	var want [NumOutcomes]uint64
	for o := DropMagic; o < NumOutcomes; o++ {
		c.send(srv.Addr(), fmt.Appendf(nil, "drop:%d", o))
		want[o]++
	}
	for _, req := range []string{"panic", "panic again", "empty", "badoutcome"} {
		c.send(srv.Addr(), []byte(req))
		want[DropInternal]++
	}
	// Datagrams from one client go to one socket and are handled in
	// order, so this reply comes after every drop above.
	if got, _ := c.ask(srv.Addr(), "after"); got != "echo:after" {
		t.Fatalf("reply after the drops = %q (did the panic kill the loop?)", got)
	}
	want[Answered]++
	stop()
	st := srv.Stats()
	checkSums(t, st)
	if st.Outcomes != want {
		t.Errorf("outcomes = %v, want %v", st.Outcomes, want)
	}
	if st.Sent != 1 || st.SendErrors != 0 {
		t.Errorf("sent %d, send errors %d, want 1, 0", st.Sent, st.SendErrors)
	}
}

func TestServeSendError(t *testing.T) {
	srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1})
	c := newClient(t, "127.0.0.1:0")
	// A reply too large for one IPv4 datagram fails with EMSGSIZE; the
	// loop counts it and goes on.
	c.send(srv.Addr(), fmt.Appendf(nil, "big:%d", protocol.MaxReplySize+1))
	if got, _ := c.ask(srv.Addr(), "next"); got != "echo:next" {
		t.Fatalf("reply after an oversized one = %q", got)
	}
	if got, _ := c.ask(srv.Addr(), fmt.Sprintf("big:%d", protocol.MaxReplySize)); len(got) != protocol.MaxReplySize {
		t.Errorf("largest reply has %d bytes, want %d", len(got), protocol.MaxReplySize)
	}
	stop()
	st := srv.Stats()
	checkSums(t, st)
	if st.Sent != 2 || st.SendErrors != 1 {
		t.Errorf("sent %d, send errors %d, want 2, 1", st.Sent, st.SendErrors)
	}
}

func TestServeConcurrentSenders(t *testing.T) {
	srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 4, BatchSize: 8})
	const clients, each = 32, 100
	var wg sync.WaitGroup
	for i := range clients {
		c := newClient(t, "127.0.0.1:0")
		wg.Go(func() {
			buf := make([]byte, 256)
			for j := range each {
				req := fmt.Sprintf("client %d request %d", i, j)
				if _, err := c.c.WriteToUDPAddrPort([]byte(req), srv.Addr()); err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				c.c.SetReadDeadline(time.Now().Add(replyTimeout))
				n, _, err := c.c.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Errorf("client %d request %d: %v", i, j, err)
					return
				}
				if got, want := string(buf[:n]), "echo:"+req; got != want {
					t.Errorf("client %d: reply %q, want %q", i, got, want)
				}
			}
		})
	}
	wg.Wait()
	stop()
	st := srv.Stats()
	checkSums(t, st)
	if st.Received != clients*each || st.Sent != clients*each {
		t.Errorf("received %d, sent %d, want %d", st.Received, st.Sent, clients*each)
	}
}

func TestServeShutdown(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		sockets int
	}{
		{"ipv4 one socket", "127.0.0.1", 1},
		{"ipv4 four sockets", "127.0.0.1", 4},
		{"ipv6 four sockets", "::1", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.addr == "::1" {
				needIPv6(t)
			}
			srv, stop := startServer(t, Config{Addr: netip.MustParseAddr(tt.addr), Sockets: tt.sockets})
			addr := srv.Addr()
			if got, _ := newClient(t, netip.AddrPortFrom(addr.Addr(), 0).String()).ask(addr, "hi"); got != "echo:hi" {
				t.Fatalf("reply = %q", got)
			}
			stop()
			// Only once every socket of the group is closed can a socket
			// without SO_REUSEADDR/SO_REUSEPORT take the port.
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
			if err != nil {
				t.Fatalf("port still bound after shutdown: %v", err)
			}
			c.Close()
			if err := srv.Serve(context.Background()); !errors.Is(err, ErrClosed) {
				t.Errorf("Serve after shutdown = %v, want ErrClosed", err)
			}
			if err := srv.Listen(); !errors.Is(err, ErrClosed) {
				t.Errorf("Listen after shutdown = %v, want ErrClosed", err)
			}
			if err := srv.Close(); err != nil {
				t.Errorf("second Close = %v", err)
			}
		})
	}
}

func TestServeClose(t *testing.T) {
	// Close, rather than the context, ends Serve.
	srv, _ := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 2})
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// startServer's cleanup checks that Serve returned nil and that no
	// goroutine is left.
}

func TestListenThenClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, err := New(Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 3, Handler: echoHandler{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if err := srv.Listen(); err == nil {
		t.Errorf("second Listen succeeded")
	}
	addr := srv.Addr()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Serve(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close = %v, want ErrClosed", err)
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("port still bound after Close: %v", err)
	}
	c.Close()
}

func TestListenErrors(t *testing.T) {
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.LocalAddr().(*net.UDPAddr).AddrPort().Port()

	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"port in use", Config{Addr: netip.MustParseAddr("127.0.0.1"), Port: busyPort, Sockets: 1},
			fmt.Sprintf("binding UDP socket to 127.0.0.1:%d: ", busyPort)},
		{"port in use, several sockets", Config{Addr: netip.MustParseAddr("127.0.0.1"), Port: busyPort, Sockets: 3},
			fmt.Sprintf("binding UDP socket 1 of 3 to 127.0.0.1:%d: ", busyPort)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Handler = echoHandler{}
			tt.cfg.Logger = testLogger(t)
			srv, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = srv.Listen()
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Listen = %v, want an error starting %q", err, tt.wantErr)
			}
			// Serve binds too, and reports the same error.
			if err := srv.Serve(context.Background()); err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("Serve = %v, want an error starting %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	ok := Config{Addr: netip.MustParseAddr("127.0.0.1"), Handler: echoHandler{}}
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr bool
	}{
		{"defaults", func(*Config) {}, false},
		{"no handler", func(c *Config) { c.Handler = nil }, true},
		{"no address", func(c *Config) { c.Addr = netip.Addr{} }, true},
		{"negative sockets", func(c *Config) { c.Sockets = -1 }, true},
		{"negative batch", func(c *Config) { c.BatchSize = -1 }, true},
		{"largest batch", func(c *Config) { c.BatchSize = MaxBatchSize }, false},
		{"batch too large", func(c *Config) { c.BatchSize = MaxBatchSize + 1 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			srv, err := New(cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if srv.cfg.Sockets < 1 || srv.cfg.BatchSize < 1 || srv.cfg.Logger == nil {
				t.Errorf("defaults not filled in: %+v", srv.cfg)
			}
			if srv.Addr() != (netip.AddrPort{}) {
				t.Errorf("Addr before Listen = %v", srv.Addr())
			}
			if srv.Stats() != (Stats{}) {
				t.Errorf("Stats before Listen = %+v", srv.Stats())
			}
		})
	}
}

func TestPlainConn(t *testing.T) {
	// plainConn is the socket of systems without recvmmsg; run it
	// through a loop on real sockets here too.
	tests := []struct{ name, local string }{
		{"ipv4", "127.0.0.1:0"},
		{"ipv6", "[::1]:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.local, "[") {
				needIPv6(t)
			}
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tt.local)))
			if err != nil {
				t.Fatal(err)
			}
			addr := uc.LocalAddr().(*net.UDPAddr).AddrPort()
			env := &loopEnv{handler: echoHandler{}, log: testLogger(t), done: make(chan struct{})}
			ctr := new(sockCounters)
			l := newSockLoop(plainConn{uc}, env, ctr, sockOpts{batch: 1}, DefaultBatchSize)
			if len(l.rmsgs) != 1 {
				t.Errorf("batch of %d, want 1", len(l.rmsgs))
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				l.run()
			}()
			c := newClient(t, netip.AddrPortFrom(addr.Addr(), 0).String())
			for i := range 20 {
				req := fmt.Sprint("plain ", i)
				if got, from := c.ask(addr, req); got != "echo:"+req || from != addr {
					t.Errorf("reply %q from %v, want %q from %v", got, from, "echo:"+req, addr)
				}
			}
			if got, _ := c.ask(addr, "len"+strings.Repeat(".", 5000)); got != "len=4096" {
				t.Errorf("a 5003-byte datagram reached the handler as %q", got)
			}
			uc.Close()
			<-done
			var st Stats
			ctr.addTo(&st)
			checkSums(t, st)
			if st.Received != 21 || st.Sent != 21 {
				t.Errorf("received %d, sent %d, want 21", st.Received, st.Sent)
			}
		})
	}
}
