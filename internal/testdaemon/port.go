package testdaemon

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Loopback is the only address the tests' daemons bind.
var Loopback = netip.MustParseAddr("127.0.0.1")

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago
// (bound to port 0 and released), for a test that needs a port nothing
// listens on. A daemon needs ReservePort instead.
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
// Both servers bind with SO_REUSEADDR, and Linux lets two such sockets
// share a UDP port without an error; the one bound last receives the
// datagrams. The conformance suite once compared the real server with
// itself that way: a real server had got goconfd's port (see
// TestReservationExcludesOthers). Two ways lead there, and a reservation
// closes both:
//
//   - A port that was merely free a moment ago may be handed to someone
//     else before the daemon binds it. A reservation keeps it bound: its
//     socket binds without SO_REUSEADDR, which succeeds only on a port no
//     socket holds, and is marked SO_REUSEADDR only then. While it is
//     open, every bind without SO_REUSEADDR (other reservations included)
//     fails on the port, while the daemon's, with SO_REUSEADDR, succeeds.
//   - A bind to port 0 by a socket that sets SO_REUSEADDR (or
//     SO_REUSEPORT) first, as goconfd's server does in in-process tests,
//     may be given any ephemeral port held by other such sockets, a
//     running daemon's included. Reserved ports therefore lie outside the
//     kernel's ephemeral range (ip_local_port_range), in the 8192 ports
//     below it, where no port-0 bind ever lands.
//
// Close the reservation once the daemon is ready: bound last, the daemon
// receives the port's datagrams.
type Reservation struct {
	// Port is the reserved port.
	Port uint16
	conn *net.UDPConn
}

// reserveBand is how many ports below the ephemeral range are reserved
// from.
const reserveBand = 8192

// Ports the project's other tests take explicitly: reftest's range
// (internal/clustergen/reftest).
const (
	reftestFirst = 21000
	reftestLast  = 21999
)

var (
	bandOnce       sync.Once
	bandLo, bandHi int
)

// band returns the range of ports reservations come from: the reserveBand
// ports below the ephemeral range, or below 32768 where the range cannot
// be read.
func band() (int, int) {
	bandOnce.Do(func() {
		low := 32768
		if p, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
			if f := strings.Fields(string(p)); len(f) == 2 {
				if n, err := strconv.Atoi(f[0]); err == nil && n > 1024+reserveBand/2 {
					low = n
				}
			}
		}
		bandLo, bandHi = max(1024, low-reserveBand), low-1
	})
	return bandLo, bandHi
}

// ReservePort reserves a free loopback UDP port (see Reservation).
func ReservePort() (*Reservation, error) {
	lo, hi := band()
	n := hi - lo + 1
	start := rand.IntN(n)
	var lastErr error
	for i := range n {
		p := lo + (start+i)%n
		if p >= reftestFirst && p <= reftestLast {
			continue
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice(), Port: p})
		if err != nil {
			lastErr = err // in use
			continue
		}
		if err := shareable(c); err != nil {
			c.Close()
			return nil, fmt.Errorf("reserving UDP port %d: %w", p, err)
		}
		return &Reservation{Port: uint16(p), conn: c}, nil
	}
	return nil, fmt.Errorf("reserving a UDP port: every port in %d-%d is in use: %w", lo, hi, errors.Join(lastErr))
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
