package testdaemon

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
)

// Loopback is the only address the tests' daemons bind.
var Loopback = netip.MustParseAddr("127.0.0.1")

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago
// (bound to port 0 and released). Prefer ReservePort for a confd: both
// servers bind with SO_REUSEADDR, so two of them handed the same free
// port share it silently.
func FreeUDPPort() (uint16, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice()})
	if err != nil {
		return 0, fmt.Errorf("picking a free UDP port: %w", err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
}

// Reservation holds a loopback UDP port for a daemon that binds it with
// SO_REUSEADDR, as both confd servers do.
//
// Handing a daemon a port that was merely free a moment ago is a race:
// another test (in this process or any other) may be handed the same port
// before the daemon binds it, and since two sockets that both set
// SO_REUSEADDR may share a UDP port on Linux, both daemons then bind it
// without an error and the datagrams sent to "one" of them reach whichever
// bound last. The conformance suite once compared the real server with
// itself that way (see TestReservationExcludesOthers).
//
// A reservation closes that window: its socket is bound to a port the
// kernel chose among the free ones, and only then marked SO_REUSEADDR.
// While it is open, a bind without SO_REUSEADDR (every port-0 bind, so
// every other reservation and FreeUDPPort) cannot get the port, while the
// daemon, binding with SO_REUSEADDR, can; being bound last, the daemon
// receives the port's datagrams. Close it once the daemon is ready.
type Reservation struct {
	// Port is the reserved port.
	Port uint16
	conn *net.UDPConn
}

// ReservePort reserves a free loopback UDP port (see Reservation).
func ReservePort() (*Reservation, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice()})
	if err != nil {
		return nil, fmt.Errorf("reserving a UDP port: %w", err)
	}
	if err := shareable(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("reserving a UDP port: %w", err)
	}
	return &Reservation{Port: uint16(c.LocalAddr().(*net.UDPAddr).Port), conn: c}, nil
}

// Close releases the port to the daemon that bound it meanwhile, or to
// anyone. It is safe to call more than once.
func (r *Reservation) Close() {
	if r.conn != nil {
		_ = r.conn.Close()
		r.conn = nil
	}
}

// ReservePortT reserves a port for the rest of the test, for a daemon
// the test starts itself (on the command line it builds, in the way it
// needs): the daemon, binding with SO_REUSEADDR, gets the port and, bound
// last, its datagrams, while no other pick hands the port out. When the
// daemon has stopped, datagrams to the port reach the reservation and
// get no answer.
func ReservePortT(t testing.TB) uint16 {
	t.Helper()
	r, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r.Port
}
