package client

// Fake confd servers on loopback for fault tests: each answers valid
// requests in a chosen bad (or good) way.

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// testKey is the key of docs/protocol.md §1.8 (with its newline).
var testKey = []byte("0123456789abcdef0123456789abcdef01234567\n")

// behavior says how a fake server replies to a valid request.
type behavior struct {
	// status, answer (JSON text) and serial of the reply; answer ""
	// means the answers table or "null".
	status protocol.Status
	answer string
	serial int64
	// answers, if set, gives the reply by request type.
	answers func(req *protocol.Request) (protocol.Status, string, int64)
	// silent: no reply at all.
	silent bool
	// delay before the reply.
	delay time.Duration
	// signKey signs the reply with another key (a bad HMAC).
	signKey []byte
	// rsalt replaces the request's reply salt.
	rsalt string
	// mangle rewrites the signed datagram (bad magic, truncation, …).
	mangle func([]byte) []byte
	// before are datagrams sent ahead of the reply.
	before [][]byte
	// only sends the before datagrams, no reply.
	only bool
}

// fakeServer is one fake confd server.
type fakeServer struct {
	addr     netip.AddrPort
	conn     *net.UDPConn
	b        behavior
	requests atomic.Int32
	wg       sync.WaitGroup
	done     chan struct{}
}

// startFake starts a fake server on 127.0.0.1:0 (network "udp4") or
// [::1]:0 ("udp6"). It stops at the end of the test.
func startFake(t testing.TB, network string, b behavior) *fakeServer {
	t.Helper()
	ip := net.IPv4(127, 0, 0, 1)
	if network == "udp6" {
		ip = net.IPv6loopback
	}
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatalf("listening for a fake server: %v", err)
	}
	f := &fakeServer{
		addr: c.LocalAddr().(*net.UDPAddr).AddrPort(),
		conn: c,
		b:    b,
		done: make(chan struct{}),
	}
	f.addr = netip.AddrPortFrom(f.addr.Addr().Unmap(), f.addr.Port())
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(f.stop)
	return f
}

// peer returns the fake as a Peer with its own port.
func (f *fakeServer) peer() Peer {
	return Peer{Host: f.addr.Addr().String(), Port: f.addr.Port()}
}

func (f *fakeServer) stop() {
	select {
	case <-f.done:
		return
	default:
	}
	close(f.done)
	f.conn.Close()
	f.wg.Wait()
}

func (f *fakeServer) serve() {
	defer f.wg.Done()
	dec := protocol.NewDecoder(testKey)
	buf := make([]byte, 65536)
	for {
		n, from, err := f.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		var req protocol.Request
		if dec.Decode(buf[:n], time.Now(), &req) != protocol.Answered {
			continue
		}
		f.requests.Add(1)
		if f.b.silent {
			continue
		}
		out := f.reply(&req)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			if f.b.delay > 0 {
				select {
				case <-time.After(f.b.delay):
				case <-f.done:
					return
				}
			}
			for _, d := range out {
				_, _ = f.conn.WriteToUDPAddrPort(d, from)
			}
		}()
	}
}

// reply builds the datagrams to send for req.
func (f *fakeServer) reply(req *protocol.Request) [][]byte {
	b := &f.b
	out := append([][]byte(nil), b.before...)
	if b.only {
		return out
	}
	status, answer, serial := b.status, b.answer, b.serial
	if b.answers != nil {
		status, answer, serial = b.answers(req)
	}
	if answer == "" {
		answer = "null"
	}
	key := testKey
	if b.signKey != nil {
		key = b.signKey
	}
	rsalt := req.RSalt
	if b.rsalt != "" {
		rsalt = []byte(b.rsalt)
	}
	d := protocol.NewDecoder(key).AppendReply(nil, rsalt, status, []byte(answer), serial)
	if b.mangle != nil {
		d = b.mangle(d)
	}
	return append(out, d)
}

// closedPeer returns a loopback UDP port with nothing listening (bound
// and released a moment ago), so the host answers ICMP port unreachable.
func closedPeer(t testing.TB) Peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	return Peer{Host: "127.0.0.1", Port: p.Port()}
}

// newTestClient returns a client for peers with the test key and opts'
// other fields.
func newTestClient(t testing.TB, opts Options, peers ...Peer) *Client {
	t.Helper()
	opts.Peers = peers
	if opts.Key == nil {
		opts.Key = testKey
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
