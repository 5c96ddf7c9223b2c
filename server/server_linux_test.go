package server

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestServeWildcardRepliesFromAskedAddress(t *testing.T) {
	// Linux routes all of 127.0.0.0/8 to lo. Without PKTINFO a reply to
	// the client on 127.0.0.1 would leave from 127.0.0.1, whatever the
	// client asked.
	tests := []struct {
		name    string
		bind    string
		sockets int
		client  string
		ask     string
		ipv6    bool
	}{
		{"ipv4 wildcard", "0.0.0.0", 1, "127.0.0.1:0", "127.0.0.2", false},
		{"ipv4 wildcard, several sockets", "0.0.0.0", 3, "127.0.0.1:0", "127.0.0.3", false},
		{"ipv4 wildcard, plain address", "0.0.0.0", 1, "127.0.0.1:0", "127.0.0.1", false},
		{"ipv6 wildcard takes ipv4", "::", 2, "127.0.0.1:0", "127.0.0.2", true},
		{"ipv6 wildcard takes ipv6", "::", 2, "[::1]:0", "::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ipv6 {
				needIPv6(t)
			}
			srv, stop := startServer(t, Config{Addr: netip.MustParseAddr(tt.bind), Sockets: tt.sockets})
			if got := srv.Addr().Addr(); got != netip.MustParseAddr(tt.bind) {
				t.Errorf("Addr() = %v, want %v", got, tt.bind)
			}
			to := netip.AddrPortFrom(netip.MustParseAddr(tt.ask), srv.Addr().Port())
			c := newClient(t, tt.client)
			for i := range 5 {
				req := fmt.Sprint("ask ", i)
				got, from := c.ask(to, req)
				if got != "echo:"+req {
					t.Errorf("reply = %q", got)
				}
				if from != to {
					t.Errorf("reply from %v, want %v", from, to)
				}
			}
			stop()
			if st := srv.Stats(); st.Sent != 5 || st.SendErrors != 0 {
				t.Errorf("sent %d, send errors %d", st.Sent, st.SendErrors)
			}
		})
	}
}

func TestServeCountsKernelDrops(t *testing.T) {
	// Fill a bound socket's receive queue before serving: the kernel
	// drops the excess, and reports its count with the next datagram the
	// socket queues.
	const flood = 2000 // 8 MB, far beyond a default receive buffer
	var c *client
	// The system's default receive buffer: goconfd's would hold much of the flood.
	srv, stop := startServerAfter(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1, RecvBuffer: -1}, func(srv *Server) {
		if !srv.socks[0].opts.watchDrops {
			t.Skip("kernel without SO_RXQ_OVFL")
		}
		c = newClient(t, "127.0.0.1:0")
		req := []byte("drop:1" + strings.Repeat(".", 4000))
		for range flood {
			c.send(srv.Addr(), req)
		}
	})
	if got, _ := c.ask(srv.Addr(), "after the flood"); got != "echo:after the flood" {
		t.Fatalf("reply = %q", got)
	}
	stop()
	st := srv.Stats()
	checkSums(t, st)
	if st.KernelDrops == 0 || st.Outcomes[DropMagic] == 0 {
		t.Fatalf("%d kernel drops, %d flood datagrams read; want some of each", st.KernelDrops, st.Outcomes[DropMagic])
	}
	// Every datagram is either read or dropped by the socket, unless the
	// host dropped some before they reached it (a busy backlog queue).
	if got := st.KernelDrops + st.Outcomes[DropMagic]; got > flood {
		t.Errorf("%d dropped by the kernel + %d read = %d, more than the %d sent", st.KernelDrops, st.Outcomes[DropMagic], got, flood)
	} else if got < flood {
		t.Logf("%d of %d datagrams dropped before reaching the socket", flood-got, flood)
	}
}
