package mmsg

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// pair is a Conn on a loopback socket and a plain client socket.
type pair struct {
	srv    *net.UDPConn
	conn   BatchConn
	client *net.UDPConn
}

func newPair(t *testing.T, network, addr string) *pair {
	t.Helper()
	srv, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(addr)})
	if err != nil {
		t.Skipf("no %s loopback: %v", network, err)
	}
	t.Cleanup(func() { srv.Close() })
	client, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(addr)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	conn, err := New(srv)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{srv: srv, conn: conn, client: client}
}

// messages returns n receive messages of size bytes each.
func messages(n, size int) []ipv4.Message {
	ms := make([]ipv4.Message, n)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, size)}
	}
	return ms
}

// readN reads batches into ms until want datagrams have arrived and
// returns them, in order.
func readN(t *testing.T, c BatchConn, ms []ipv4.Message, want int) [][]byte {
	t.Helper()
	var got [][]byte
	for len(got) < want {
		n, err := c.ReadBatch(ms, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n < 1 || n > len(ms) {
			t.Fatalf("ReadBatch returned %d of %d", n, len(ms))
		}
		for i := range n {
			got = append(got, append([]byte(nil), ms[i].Buffers[0][:ms[i].N]...))
		}
	}
	return got
}

// TestRoundTrip reads a batch from a client and writes replies back,
// on IPv4 and IPv6: payloads, sender addresses (as golang.org/x/net
// returns them: a 4-byte IPv4, a 16-byte IPv6), and replies arriving.
func TestRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		network, addr string
		ipLen         int
	}{
		{"udp4", "127.0.0.1", net.IPv4len},
		{"udp6", "::1", net.IPv6len},
	} {
		t.Run(tt.network, func(t *testing.T) {
			p := newPair(t, tt.network, tt.addr)
			to := p.srv.LocalAddr().(*net.UDPAddr)
			const n = 5
			for i := range n {
				if _, err := p.client.WriteToUDP(fmt.Appendf(nil, "request %d", i), to); err != nil {
					t.Fatal(err)
				}
			}
			ms := messages(8, 2048)
			got := readN(t, p.conn, ms, n)
			for i, g := range got {
				if want := fmt.Sprintf("request %d", i); string(g) != want {
					t.Errorf("datagram %d = %q, want %q", i, g, want)
				}
			}
			from, ok := ms[0].Addr.(*net.UDPAddr)
			if !ok {
				t.Fatalf("Addr is %T", ms[0].Addr)
			}
			local := p.client.LocalAddr().(*net.UDPAddr)
			if len(from.IP) != tt.ipLen || !from.IP.Equal(local.IP) || from.Port != local.Port {
				t.Errorf("sender %v (%d-byte IP), want %v (%d bytes)", from, len(from.IP), local, tt.ipLen)
			}
			ws := make([]ipv4.Message, n)
			for i := range ws {
				ws[i].Buffers = [][]byte{fmt.Appendf(nil, "reply %d", i)}
				ws[i].Addr = from
			}
			if k, err := p.conn.WriteBatch(ws, 0); k != n || err != nil {
				t.Fatalf("WriteBatch = %d, %v; want %d, nil", k, err, n)
			}
			buf := make([]byte, 100)
			for i := range n {
				p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
				k, _, err := p.client.ReadFromUDP(buf)
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("reply %d", i); string(buf[:k]) != want {
					t.Errorf("reply %d = %q, want %q", i, buf[:k], want)
				}
			}
		})
	}
}

// TestDetails checks what the server loop relies on: the sender's
// *net.UDPAddr is reused from read to read, truncation is flagged,
// control messages arrive, messages of several buffers are written
// whole, and a reply to something else than a *net.UDPAddr is refused.
func TestDetails(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	rc, err := p.srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	to := p.srv.LocalAddr().(*net.UDPAddr)
	ms := messages(1, 4)
	ms[0].OOB = make([]byte, 128)
	for _, payload := range []string{"short", "ab"} {
		if _, err := p.client.WriteToUDP([]byte(payload), to); err != nil {
			t.Fatal(err)
		}
	}
	readN(t, p.conn, ms, 1)
	first := ms[0].Addr
	if ms[0].Flags&unix.MSG_TRUNC == 0 || ms[0].N != 4 {
		t.Errorf("5-byte datagram in 4 bytes: N %d, flags %#x; want 4 and MSG_TRUNC", ms[0].N, ms[0].Flags)
	}
	if ms[0].NN == 0 {
		t.Error("no control message with IP_PKTINFO on")
	}
	readN(t, p.conn, ms, 1)
	if ms[0].Addr != first {
		t.Error("the second read made a new *net.UDPAddr")
	}
	if ms[0].Flags&unix.MSG_TRUNC != 0 || string(ms[0].Buffers[0][:ms[0].N]) != "ab" {
		t.Errorf("second datagram %q, flags %#x", ms[0].Buffers[0][:ms[0].N], ms[0].Flags)
	}

	ws := []ipv4.Message{{Buffers: [][]byte{[]byte("two "), nil, []byte("buffers")}, Addr: first}}
	if k, err := p.conn.WriteBatch(ws, 0); k != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", k, err)
	}
	buf := make([]byte, 100)
	p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, _, err := p.client.ReadFromUDP(buf)
	if err != nil || string(buf[:k]) != "two buffers" {
		t.Errorf("reply %q, %v; want \"two buffers\"", buf[:k], err)
	}

	ws[0].Addr = &net.IPAddr{IP: net.IPv4(127, 0, 0, 1)}
	if k, err := p.conn.WriteBatch(ws, 0); k != 0 || err == nil {
		t.Errorf("WriteBatch to a %T = %d, %v; want an error", ws[0].Addr, k, err)
	}
}

// TestClosed checks that a read on a closed socket fails with
// net.ErrClosed, which ends a server's loop.
func TestClosed(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	done := make(chan error, 1)
	go func() {
		_, err := p.conn.ReadBatch(messages(2, 64), 0)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the read wait, usually
	p.srv.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadBatch on a closed socket: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch did not return after Close")
	}
}

// TestNoAllocs checks that a read and a write of a batch, once the
// Conn has seen a batch of that size, allocate nothing.
func TestNoAllocs(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	to := p.srv.LocalAddr().(*net.UDPAddr)
	ms := messages(4, 256)
	ws := make([]ipv4.Message, 1)
	ws[0].Buffers = [][]byte{[]byte("reply")}
	req := []byte("request")
	buf := make([]byte, 64)
	round := func() {
		if _, err := p.client.WriteToUDP(req, to); err != nil {
			t.Fatal(err)
		}
		if _, err := p.conn.ReadBatch(ms, 0); err != nil {
			t.Fatal(err)
		}
		ws[0].Addr = ms[0].Addr
		if _, err := p.conn.WriteBatch(ws, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.client.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatal(err)
		}
	}
	// A datagram lost on a loaded machine fails the test instead of
	// hanging it (the deadlines are set once, outside the count).
	deadline := time.Now().Add(time.Minute)
	if err := p.srv.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	if err := p.client.SetReadDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	round()
	// The client's own calls allocate nothing either
	// (WriteToUDP and ReadFromUDPAddrPort on an IPv4 socket).
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Errorf("%v allocations per round trip, want 0", n)
	}
}

// TestAddresses checks the socket address conversions against what
// golang.org/x/net writes and returns.
func TestAddresses(t *testing.T) {
	var z zoneCache
	for _, tt := range []struct {
		name    string
		addr    *net.UDPAddr
		len     int
		readLen int // the IP's length when read back
	}{
		{"IPv4", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1).To4(), Port: 1814}, unix.SizeofSockaddrInet4, net.IPv4len},
		{"IPv4 in 16 bytes", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1814}, unix.SizeofSockaddrInet4, net.IPv4len},
		{"IPv6", &net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1814}, unix.SizeofSockaddrInet6, net.IPv6len},
		{"IPv6 zone by number", &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 1814, Zone: "4242"}, unix.SizeofSockaddrInet6, net.IPv6len},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, unix.SizeofSockaddrInet6)
			n := z.marshal(tt.addr, b)
			if n != tt.len {
				t.Fatalf("marshal wrote %d bytes, want %d", n, tt.len)
			}
			back, ok := z.parse(nil, b[:n]).(*net.UDPAddr)
			if !ok || len(back.IP) != tt.readLen || !back.IP.Equal(tt.addr.IP) || back.Port != tt.addr.Port || back.Zone != tt.addr.Zone {
				t.Errorf("read back %v, want %v with a %d-byte IP", back, tt.addr, tt.readLen)
			}
		})
	}
	if n := z.marshal(&net.UDPAddr{Port: 1}, make([]byte, unix.SizeofSockaddrInet6)); n != 0 {
		t.Errorf("marshal of an address without IP wrote %d bytes, want 0", n)
	}
	if a := z.parse(nil, []byte{0, 0, 0, 0}); a != nil {
		t.Errorf("parse of an unknown family = %v, want nil", a)
	}
}

// TestConcurrentWrites writes from several goroutines at once, as a
// server's loop and its watch table do (the race detector checks the
// shared headers), and checks that every datagram arrives.
func TestConcurrentWrites(t *testing.T) {
	p := newPair(t, "udp4", "127.0.0.1")
	to := p.client.LocalAddr().(*net.UDPAddr)
	const writers, each = 4, 25
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			ms := []ipv4.Message{{Buffers: [][]byte{fmt.Appendf(nil, "writer %d", w)}, Addr: to}}
			for range each {
				if _, err := p.conn.WriteBatch(ms, 0); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range writers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64)
	for i := range writers * each {
		p.client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := p.client.ReadFromUDP(buf); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
	}
}
