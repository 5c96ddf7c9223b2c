package server

import (
	"net"
	"net/netip"
	"testing"
)

// TestServePassedSockets serves sockets bound beforehand, as systemd
// passes them: replies come from them, Addr is theirs, and they are
// closed when the server stops.
func TestServePassedSockets(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		v6    bool
	}{
		{"one IPv4", []string{"127.0.0.1:0"}, false},
		{"two IPv4", []string{"127.0.0.1:0", "127.0.0.1:0"}, false},
		{"IPv6", []string{"[::1]:0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.v6 {
				needIPv6(t)
			}
			var conns []*net.UDPConn
			for _, a := range tt.addrs {
				uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(a)))
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, uc)
			}
			// Addr and Port are ignored: the passed sockets are served.
			srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Port: 1, Conns: conns})
			if got, want := srv.Addr(), conns[0].LocalAddr().(*net.UDPAddr).AddrPort(); got != want {
				t.Errorf("Addr = %v, want %v", got, want)
			}
			if n := srv.Sockets(); n != len(conns) {
				t.Errorf("%d sockets, want %d", n, len(conns))
			}
			local := "127.0.0.1:0"
			if tt.v6 {
				local = "[::1]:0"
			}
			c := newClient(t, local)
			for _, uc := range conns {
				to := uc.LocalAddr().(*net.UDPAddr).AddrPort()
				got, from := c.ask(to, "hi")
				if got != "echo:hi" || from != to {
					t.Errorf("reply %q from %v, want echo:hi from %v", got, from, to)
				}
			}
			stop()
			for _, uc := range conns {
				if _, err := uc.WriteToUDPAddrPort([]byte("x"), srv.Addr()); err == nil {
					t.Errorf("passed socket %v still open after Serve", uc.LocalAddr())
				}
			}
		})
	}
	if _, err := New(Config{Handler: echoHandler{}}); err == nil {
		t.Error("New without an address or sockets: no error")
	}
}
