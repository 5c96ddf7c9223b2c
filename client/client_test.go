package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goconfd/goconfd/protocol"
)

// TestQueryFaults runs queries over real loopback sockets against fake
// servers that are silent, slow, send bad HMACs, bad magic, wrong salts,
// stale serials, or disagree.
func TestQueryFaults(t *testing.T) {
	t.Parallel()
	ok := func(serial int64, answer string) behavior {
		return behavior{answer: answer, serial: serial}
	}
	delayed := func(b behavior, d time.Duration) behavior { b.delay = d; return b }
	otherKey := []byte("fedcba9876543210fedcba9876543210fedcba98\n")
	badMagic := func(d []byte) []byte { return append([]byte("plj1"), d[4:]...) }

	tests := []struct {
		name    string
		servers []behavior
		opts    Options
		// want
		wantErr     error // nil, ErrNoQuorum, or a cause
		wantValid   int   // -1: at least Needed
		wantBest    int   // index of the server whose reply is chosen; -1: none
		wantSerial  int64
		wantAnswer  string
		consistent  bool
		peerErrs    map[int]error // errors.Is per server
		maxDuration time.Duration // the query must return within this
		invalid     map[int]int
	}{
		{
			name:        "three agree",
			servers:     []behavior{ok(10, `"a"`), ok(10, `"a"`), ok(10, `"a"`)},
			opts:        Options{MinReplies: AllPeers},
			wantValid:   3,
			wantBest:    -2, // any
			wantSerial:  10,
			wantAnswer:  `"a"`,
			consistent:  true,
			maxDuration: 2 * time.Second,
		},
		{
			name:        "one silent of three returns at two",
			servers:     []behavior{ok(10, `"a"`), {silent: true}, ok(10, `"a"`)},
			wantValid:   2,
			wantBest:    -2,
			wantSerial:  10,
			wantAnswer:  `"a"`,
			consistent:  true,
			peerErrs:    map[int]error{1: ErrNoReply},
			maxDuration: 2 * time.Second,
		},
		{
			name:        "bad HMAC of two does not wait",
			servers:     []behavior{ok(10, `"a"`), {signKey: otherKey, serial: 11, answer: `"evil"`}},
			wantErr:     ErrNoQuorum,
			wantValid:   1,
			wantBest:    0,
			wantSerial:  10,
			wantAnswer:  `"a"`,
			consistent:  true,
			peerErrs:    map[int]error{1: protocol.ErrBadHMAC},
			invalid:     map[int]int{1: 1},
			maxDuration: 2 * time.Second,
		},
		{
			name:        "bad magic of two does not wait",
			servers:     []behavior{ok(10, `"a"`), {mangle: badMagic, serial: 11}},
			wantErr:     ErrNoQuorum,
			wantValid:   1,
			wantBest:    0,
			wantSerial:  10,
			wantAnswer:  `"a"`,
			consistent:  true,
			peerErrs:    map[int]error{1: protocol.ErrBadMagic},
			maxDuration: 2 * time.Second,
		},
		{
			name:        "wrong reply salt",
			servers:     []behavior{ok(10, `"a"`), {rsalt: "not-the-request", serial: 11}},
			wantErr:     ErrNoQuorum,
			wantValid:   1,
			wantBest:    0,
			wantSerial:  10,
			consistent:  true,
			peerErrs:    map[int]error{1: protocol.ErrWrongSalt},
			maxDuration: 2 * time.Second,
		},
		{
			name:        "truncated reply",
			servers:     []behavior{ok(10, `"a"`), {mangle: func(d []byte) []byte { return d[:len(d)-10] }}},
			wantErr:     ErrNoQuorum,
			wantValid:   1,
			wantBest:    0,
			wantSerial:  10,
			consistent:  true,
			peerErrs:    map[int]error{1: protocol.ErrBadEnvelope},
			maxDuration: 2 * time.Second,
		},
		{
			name: "garbage before a valid reply",
			// The silent third server keeps the query open until the
			// valid reply behind the garbage is in.
			servers: []behavior{ok(10, `"a"`), {
				before: [][]byte{[]byte("plj0{garbage"), []byte("hello")},
				answer: `"a"`, serial: 10,
			}, {silent: true}},
			wantValid:   2,
			wantBest:    -2,
			wantSerial:  10,
			consistent:  true,
			invalid:     map[int]int{1: 2},
			maxDuration: 2 * time.Second,
		},
		{
			name:        "stale serial loses",
			servers:     []behavior{ok(9, `"old"`), ok(10, `"new"`), delayed(ok(10, `"new"`), 50*time.Millisecond)},
			opts:        Options{MinReplies: AllPeers},
			wantValid:   3,
			wantBest:    1,
			wantSerial:  10,
			wantAnswer:  `"new"`,
			consistent:  true,
			maxDuration: 2 * time.Second,
		},
		{
			name:        "newer serial wins when slower",
			servers:     []behavior{ok(10, `"a"`), delayed(ok(11, `"b"`), 100*time.Millisecond)},
			wantValid:   2,
			wantBest:    1,
			wantSerial:  11,
			wantAnswer:  `"b"`,
			consistent:  true,
			maxDuration: 2 * time.Second,
		},
		{
			name:        "same serial different answers",
			servers:     []behavior{ok(10, `"a"`), delayed(ok(10, `"b"`), 100*time.Millisecond)},
			wantValid:   2,
			wantBest:    0,
			wantSerial:  10,
			wantAnswer:  `"a"`,
			consistent:  false,
			maxDuration: 2 * time.Second,
		},
		{
			name:        "same value different spelling agree",
			servers:     []behavior{ok(10, `{"x":1,"y":[1.0]}`), ok(10, `{"y":[1],"x":1.0}`)},
			wantValid:   2,
			wantBest:    -2,
			wantSerial:  10,
			consistent:  true,
			maxDuration: 2 * time.Second,
		},
		{
			name: "OK beats an error at the same serial",
			servers: []behavior{
				{status: protocol.StatusError, answer: `"Configuration not yet loaded"`},
				delayed(ok(0, `3000000`), 100*time.Millisecond),
			},
			wantValid:   2,
			wantBest:    1,
			wantSerial:  0,
			wantAnswer:  `3000000`,
			consistent:  false,
			maxDuration: 2 * time.Second,
		},
		{
			name:        "slow server hits the client timeout",
			servers:     []behavior{ok(10, `"a"`), delayed(ok(10, `"a"`), 5*time.Second)},
			opts:        Options{Timeout: 300 * time.Millisecond},
			wantErr:     context.DeadlineExceeded,
			wantValid:   1,
			wantBest:    0,
			wantSerial:  10,
			consistent:  true,
			peerErrs:    map[int]error{1: ErrNoReply},
			maxDuration: 2 * time.Second,
		},
		{
			name:        "late reply is no reply",
			servers:     []behavior{ok(10, `"a"`), ok(10, `"a"`), delayed(ok(12, `"late"`), 500*time.Millisecond)},
			wantValid:   2,
			wantBest:    -2,
			wantSerial:  10,
			wantAnswer:  `"a"`,
			consistent:  true,
			peerErrs:    map[int]error{2: ErrNoReply},
			maxDuration: 400 * time.Millisecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var peers []Peer
			for _, b := range tc.servers {
				peers = append(peers, startFake(t, "udp4", b).peer())
			}
			opts := tc.opts
			if opts.Timeout == 0 {
				opts.Timeout = 5 * time.Second
			}
			c := newTestClient(t, opts, peers...)
			start := time.Now()
			res, err := c.Query(context.Background(), protocol.TypeClusterMaster, nil)
			took := time.Since(start)
			if took > tc.maxDuration {
				t.Errorf("query took %v, want at most %v", took, tc.maxDuration)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if res == nil {
				t.Fatal("nil result")
			}
			if tc.wantValid >= 0 && res.Valid != tc.wantValid {
				t.Errorf("valid = %d, want %d", res.Valid, tc.wantValid)
			}
			if res.Consistent != tc.consistent {
				t.Errorf("consistent = %v, want %v", res.Consistent, tc.consistent)
			}
			switch {
			case tc.wantBest == -1 && res.Best != nil:
				t.Errorf("best = %v, want none", res.Best.Peer)
			case tc.wantBest != -1 && res.Best == nil:
				t.Fatalf("no best reply")
			case tc.wantBest >= 0 && res.Best.Peer != peers[tc.wantBest]:
				t.Errorf("best = %v, want server %d %v", res.Best.Peer, tc.wantBest, peers[tc.wantBest])
			}
			if res.Best != nil {
				if res.Best.Reply.Serial != tc.wantSerial {
					t.Errorf("best serial = %d, want %d", res.Best.Reply.Serial, tc.wantSerial)
				}
				if tc.wantAnswer != "" && string(res.Best.Reply.Answer) != tc.wantAnswer {
					t.Errorf("best answer = %s, want %s", res.Best.Reply.Answer, tc.wantAnswer)
				}
			}
			for i, want := range tc.peerErrs {
				pr := res.Replies[i]
				if pr.Err == nil || !errors.Is(pr.Err, want) {
					t.Errorf("server %d: err = %v, want %v", i, pr.Err, want)
				}
				if pr.Reply != nil {
					t.Errorf("server %d: has a reply %+v", i, pr.Reply)
				}
				if err != nil && !strings.Contains(err.Error(), peers[i].String()) {
					t.Errorf("error %q does not name server %v", err, peers[i])
				}
			}
			for i, want := range tc.invalid {
				if got := res.Replies[i].Invalid; got != want {
					t.Errorf("server %d: invalid = %d, want %d", i, got, want)
				}
			}
		})
	}
}

// TestQueryRefused checks that a port with nothing listening fails at
// once, named in the error, instead of costing the whole timeout.
func TestQueryRefused(t *testing.T) {
	t.Parallel()
	good := startFake(t, "udp4", behavior{answer: `"a"`, serial: 3})
	closed := closedPeer(t)
	c := newTestClient(t, Options{Timeout: 5 * time.Second}, good.peer(), closed)
	start := time.Now()
	res, err := c.Query(context.Background(), protocol.TypePing, nil)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	var qe *QuorumError
	if !errors.As(err, &qe) || qe.Got != 1 || qe.Needed != 2 || len(qe.Failures) != 1 {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(qe.Failures[0], ErrRefused) || qe.Failures[0].Peer != closed {
		t.Errorf("failure = %v", qe.Failures[0])
	}
	if qe.Result != res || res.Best == nil || res.Best.Peer != good.peer() {
		t.Errorf("partial result = %+v", res)
	}
	want := "confd: 1 of 2 servers answered, 2 needed: " + closed.String() + ": receive: nothing listens on the port"
	if err.Error() != want {
		t.Errorf("error text =\n%s\nwant\n%s", err, want)
	}
}

// TestQueryContext checks that the caller's context bounds a query and
// shows in the error.
func TestQueryContext(t *testing.T) {
	t.Parallel()
	silent := startFake(t, "udp4", behavior{silent: true})
	c := newTestClient(t, Options{}, silent.peer())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Query(ctx, protocol.TypePing, nil)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	if !errors.Is(err, ErrNoQuorum) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), silent.peer().String()+": no reply within") {
		t.Errorf("err = %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Query(ctx, protocol.TypePing, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "no reply before the query was cancelled") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Query(ctx, protocol.TypePing, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("query with a done context: err = %v", err)
	}
	if silent.requests.Load() != 2 {
		t.Errorf("server got %d requests, want 2 (none once the context was done)", silent.requests.Load())
	}
}

// TestQueryFamiliesAndNames asks an IPv6 literal, a host name and peers
// with their own ports at once.
func TestQueryFamiliesAndNames(t *testing.T) {
	t.Parallel()
	if c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		c.Close()
	}
	v4 := startFake(t, "udp4", behavior{answer: `"m"`, serial: 5})
	v6 := startFake(t, "udp6", behavior{answer: `"m"`, serial: 5})
	named := startFake(t, "udp4", behavior{answer: `"m"`, serial: 5})
	peers := []Peer{v4.peer(), v6.peer(), {Host: "localhost", Port: named.addr.Port()}}
	c := newTestClient(t, Options{Family: IPv4, MinReplies: AllPeers, Timeout: 5 * time.Second}, peers...)
	res, err := c.Query(context.Background(), protocol.TypeClusterMaster, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid != 3 || !res.Consistent {
		t.Fatalf("result %+v", res)
	}
	if got := res.Replies[1].Addr; got != v6.addr {
		t.Errorf("IPv6 peer asked at %v, want %v", got, v6.addr)
	}
	if got := res.Replies[2].Addr; got != named.addr {
		t.Errorf("localhost asked at %v, want %v", got, named.addr)
	}
	for _, f := range []*fakeServer{v4, v6, named} {
		if f.requests.Load() != 1 {
			t.Errorf("%v got %d requests", f.addr, f.requests.Load())
		}
	}
}

// TestQueryUnresolvable checks that a name that does not resolve is one
// failed server, not a failed query.
func TestQueryUnresolvable(t *testing.T) {
	t.Parallel()
	good := startFake(t, "udp4", behavior{answer: `"m"`, serial: 5})
	bad := Peer{Host: "no-such-host.invalid", Port: 1}
	c := newTestClient(t, Options{Coverage: AllPeers, MinReplies: 1, Timeout: 5 * time.Second}, good.peer(), bad)
	res, err := c.Query(context.Background(), protocol.TypeClusterMaster, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best == nil || res.Best.Peer != good.peer() {
		t.Fatalf("best = %+v", res.Best)
	}
	c = newTestClient(t, Options{Timeout: 5 * time.Second}, bad)
	_, err = c.Query(context.Background(), protocol.TypeClusterMaster, nil)
	var qe *QuorumError
	if !errors.As(err, &qe) || len(qe.Failures) != 1 || qe.Failures[0].Op != "resolve" {
		t.Fatalf("err = %v", err)
	}
}

// TestCoverage checks that a query asks Options.Coverage servers, chosen
// at random, and waits for Ganeti's needed number of them.
func TestCoverage(t *testing.T) {
	t.Parallel()
	var fakes []*fakeServer
	var peers []Peer
	for range 8 {
		f := startFake(t, "udp4", behavior{answer: `"m"`, serial: 1})
		fakes = append(fakes, f)
		peers = append(peers, f.peer())
	}
	tests := []struct {
		coverage, asked, needed int
	}{
		{0, 6, 4},
		{AllPeers, 8, 5},
		{1, 1, 1},
		{3, 3, 2},
	}
	for _, tc := range tests {
		c := newTestClient(t, Options{Coverage: tc.coverage, Timeout: 5 * time.Second}, peers...)
		res, err := c.Query(context.Background(), protocol.TypePing, nil)
		if err != nil {
			t.Fatalf("coverage %d: %v", tc.coverage, err)
		}
		if len(res.Replies) != tc.asked || res.Needed != tc.needed || res.Valid < tc.needed {
			t.Errorf("coverage %d: asked %d, needed %d, valid %d; want %d, %d", tc.coverage, len(res.Replies), res.Needed, res.Valid, tc.asked, tc.needed)
		}
	}
	// Over many queries every server gets asked.
	c := newTestClient(t, Options{Coverage: 2, Timeout: 5 * time.Second}, peers...)
	for range 40 {
		if _, err := c.Query(context.Background(), protocol.TypePing, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range fakes {
		if f.requests.Load() == 0 {
			t.Errorf("server %d never asked", i)
		}
	}
}

// TestStatusError checks the error of a helper when the chosen reply is
// an error reply.
func TestStatusError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, answer string
		notFound     bool
		argument     bool
		text         string
	}{
		{"unknown entry code", `0`, true, false, "confd: node-role: unknown entry"},
		{"argument code", `2`, false, true, "confd: node-role: invalid argument"},
		{"not found text", `"Failure: prerequisites not met for this operation:\nerror type: ECodeNoEnt, error details:\nNode name x not found"`, true, false,
			"confd: node-role: Failure: prerequisites not met for this operation: error type: ECodeNoEnt, error details: Node name x not found"},
		{"query type text", `"Invalid query type EmptyQuery"`, false, true, "confd: node-role: Invalid query type EmptyQuery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, "udp4", behavior{status: protocol.StatusError, answer: tc.answer})
			c := newTestClient(t, Options{Timeout: 5 * time.Second}, f.peer())
			_, err := c.NodeRole(context.Background(), "x")
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v", err)
			}
			if errors.Is(err, ErrNotFound) != tc.notFound || errors.Is(err, ErrArgument) != tc.argument {
				t.Errorf("Is(ErrNotFound) = %v, Is(ErrArgument) = %v", errors.Is(err, ErrNotFound), errors.Is(err, ErrArgument))
			}
			if err.Error() != tc.text {
				t.Errorf("err =\n%s\nwant\n%s", err, tc.text)
			}
			if se.Server != f.peer() {
				t.Errorf("server = %v", se.Server)
			}
		})
	}
}

func TestNew(t *testing.T) {
	p := Peer{Host: "127.0.0.1"}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"ok", Options{Key: testKey, Peers: []Peer{p}}, ""},
		{"no key", Options{Peers: []Peer{p}}, "no HMAC key"},
		{"no peers", Options{Key: testKey}, "no peers"},
		{"coverage too big", Options{Key: testKey, Peers: []Peer{p}, Coverage: 2}, "coverage 2: only 1 peers known"},
		{"coverage negative", Options{Key: testKey, Peers: []Peer{p}, Coverage: -2}, "coverage -2"},
		{"min replies", Options{Key: testKey, Peers: []Peer{p}, MinReplies: -3}, "min replies -3"},
		{"timeout", Options{Key: testKey, Peers: []Peer{p}, Timeout: -1}, "negative timeout"},
		{"empty host", Options{Key: testKey, Peers: []Peer{{}}}, "peer 0 has no host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.port != protocol.DefaultPort || c.timeout != protocol.ClientExpiry {
					t.Errorf("defaults: port %d, timeout %v", c.port, c.timeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParsePeer(t *testing.T) {
	tests := []struct {
		in      string
		want    Peer
		wantErr bool
	}{
		{"192.0.2.1", Peer{Host: "192.0.2.1"}, false},
		{"192.0.2.1:1815", Peer{Host: "192.0.2.1", Port: 1815}, false},
		{"::1", Peer{Host: "::1"}, false},
		{"2001:db8::1", Peer{Host: "2001:db8::1"}, false},
		{"[2001:db8::1]", Peer{Host: "2001:db8::1"}, false},
		{"[2001:db8::1]:1815", Peer{Host: "2001:db8::1", Port: 1815}, false},
		{"fe80::1%eth0", Peer{Host: "fe80::1%eth0"}, false},
		{"[fe80::1%eth0]:99", Peer{Host: "fe80::1%eth0", Port: 99}, false},
		{"node1.example.com", Peer{Host: "node1.example.com"}, false},
		{"node1.example.com:1814", Peer{Host: "node1.example.com", Port: 1814}, false},
		{"localhost", Peer{Host: "localhost"}, false},
		{"", Peer{}, true},
		{":1814", Peer{}, true},
		{"host:0", Peer{}, true},
		{"host:70000", Peer{}, true},
		{"host:x", Peer{}, true},
		{"[192.0.2.1]", Peer{}, true},
		{"a b", Peer{}, true},
		{"a:b:c", Peer{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePeer(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Errorf("ParsePeer(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if err == nil {
				again, err := ParsePeer(got.String())
				if err != nil || again != got {
					t.Errorf("round trip of %q: %+v, %v", got.String(), again, err)
				}
			}
		})
	}
}

// TestNoLeaks checks that queries leave no goroutine behind, whether they
// end by quorum, refusal, timeout or cancellation. (The synctest tests
// check the same without sockets: a bubble fails on a goroutine left
// blocked.)
func TestNoLeaks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	func() {
		good := startFake(t, "udp4", behavior{answer: `"a"`, serial: 1})
		silent := startFake(t, "udp4", behavior{silent: true})
		slow := startFake(t, "udp4", behavior{answer: `"a"`, serial: 1, delay: time.Second})
		bad := startFake(t, "udp4", behavior{answer: `"a"`, serial: 1, signKey: []byte("x")})
		c := newTestClient(t, Options{Coverage: AllPeers, Timeout: 200 * time.Millisecond}, good.peer(), silent.peer(), slow.peer(), bad.peer(), closedPeer(t))
		for range 3 {
			_, _ = c.Query(context.Background(), protocol.TypePing, nil)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, _ = c.Query(ctx, protocol.TypePing, nil)
		for _, f := range []*fakeServer{good, silent, slow, bad} {
			f.stop()
		}
	}()
}
