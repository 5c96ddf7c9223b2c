//go:build linux

package testdaemon

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReservationExcludesOthers is the regression test of a TestRandom
// failure (seed 1796171254310475625, case 227: "documented difference
// not honoured: envelope: invalid character '\x00'"). The conformance
// suite gave each daemon a port that was free a moment ago; a real server
// that got goconfd's port too shared it through SO_REUSEADDR and, bound
// last, answered in goconfd's place, so the suite compared the real
// server with itself: every case was "identical" but the one whose real
// reply is corrupt (a raw NUL), which goconfd never sends. While a
// reservation is open no other pick gets its port: not another
// reservation, not a port-0 bind with or without SO_REUSEADDR (the
// reserved ports are outside the ephemeral range); the daemon, binding
// with SO_REUSEADDR, gets it and its datagrams.
func TestReservationExcludesOthers(t *testing.T) {
	res, err := ReservePort()
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if lo, hi := band(); int(res.Port) < lo || int(res.Port) > hi {
		t.Errorf("reserved port %d outside %d-%d", res.Port, lo, hi)
	}
	if _, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice(), Port: int(res.Port)}); err == nil {
		t.Fatal("a plain bind got the reserved port")
	}
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
		if i%3 == 0 {
			// A port-0 bind with SO_REUSEADDR and SO_REUSEPORT, as
			// goconfd's server makes in in-process tests, may land
			// on any ephemeral port held by such sockets.
			c := listenReuse(t, 0)
			if got := uint16(c.LocalAddr().(*net.UDPAddr).Port); got == res.Port {
				t.Fatalf("a port-0 SO_REUSEADDR bind got the reserved port %d", got)
			}
			c.Close()
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

// listenReuse binds 127.0.0.1:port with SO_REUSEADDR and SO_REUSEPORT,
// as goconfd does.
func listenReuse(t *testing.T, port uint16) net.PacketConn {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = errors.Join(syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1))
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
