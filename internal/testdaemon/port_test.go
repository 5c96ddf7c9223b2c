//go:build unix

package testdaemon

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestReservationExcludesOthers is the regression test of a TestRandom
// failure (seed 1796171254310475625, case 227: "documented difference
// not honoured: envelope: invalid character '\x00'"). The conformance
// suite picked each daemon's port as one that was free a moment ago; a
// real server given the same port as goconfd (by another pick in the
// window before goconfd bound it) shared it through SO_REUSEADDR and,
// bound last, answered in goconfd's place, so the suite compared the real
// server with itself: every case was "identical" but the one whose real
// reply is corrupt (a raw NUL), which goconfd never sends. A reserved
// port is handed to no other pick while the reservation is open, and the
// daemon, binding with SO_REUSEADDR, gets it and its datagrams.
func TestReservationExcludesOthers(t *testing.T) {
	res, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var held []*Reservation
	defer func() {
		for _, h := range held {
			h.Close()
		}
	}()
	for i := range 3000 {
		p, err := FreeUDPPort()
		if err != nil {
			t.Fatal(err)
		}
		if p == res.Port {
			t.Fatalf("FreeUDPPort handed out the reserved port %d", p)
		}
		if i%10 == 0 {
			h, err := ReservePort()
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, h)
			if h.Port == res.Port {
				t.Fatalf("ReservePort handed out the reserved port %d twice", h.Port)
			}
		}
	}

	// The daemon's bind, with SO_REUSEADDR, succeeds and receives what is
	// sent to the port.
	daemon := listenReuse(t, res.Port)
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: Loopback.AsSlice(), Port: int(res.Port)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 20 {
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if err := daemon.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		n, _, err := daemon.ReadFrom(buf)
		if err != nil || !bytes.Equal(buf[:n], []byte("ping")) {
			t.Fatalf("the daemon's socket read %q, %v", buf[:n], err)
		}
	}
	res.Close()
	res.Close() // safe twice
}

// listenReuse binds 127.0.0.1:port with SO_REUSEADDR, as a confd does.
func listenReuse(t *testing.T, port uint16) net.PacketConn {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		t.Fatalf("a SO_REUSEADDR bind of the reserved port: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func TestReservePortT(t *testing.T) {
	var port uint16
	t.Run("reserve", func(t *testing.T) {
		port = ReservePortT(t)
		if _, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice(), Port: int(port)}); err == nil {
			t.Error("a plain bind got the reserved port")
		}
		listenReuse(t, port) // the daemon's bind
	})
	// Released at the end of the subtest.
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice(), Port: int(port)})
	if err != nil {
		t.Fatalf("port %d still held after the test: %v", port, err)
	}
	c.Close()
}
