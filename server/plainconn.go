package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// plainConn is a batchConn over the portable net.UDPConn calls: a batch
// is one datagram. It is the socket of systems without recvmmsg; it has
// no control messages, so on a wildcard bind replies leave from the
// address the kernel picks, as in Ganeti's own server.
//
// On Windows a datagram longer than the receive buffer is a read error
// rather than a truncated read, so it is counted in ReadErrors instead of
// reaching the Handler.
type plainConn struct {
	c *net.UDPConn
}

var errNoAddr = errors.New("reply without a *net.UDPAddr destination")

// ReadBatch reads one datagram into ms[0]. It reuses the *net.UDPAddr in
// ms[0].Addr, so that steady-state reads do not allocate.
func (p plainConn) ReadBatch(ms []ipv4.Message, _ int) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	m := &ms[0]
	n, from, err := p.c.ReadFromUDPAddrPort(m.Buffers[0])
	if err != nil {
		return 0, err
	}
	ua, _ := m.Addr.(*net.UDPAddr)
	if ua == nil {
		ua = new(net.UDPAddr)
		m.Addr = ua
	}
	setUDPAddr(ua, from)
	m.N, m.NN, m.Flags = n, 0, 0
	return 1, nil
}

// WriteBatch writes ms one datagram at a time.
func (p plainConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	for i := range ms {
		ua, _ := ms[i].Addr.(*net.UDPAddr)
		if ua == nil {
			return i, fmt.Errorf("writing reply %d: %w", i, errNoAddr)
		}
		n, err := p.c.WriteToUDPAddrPort(ms[i].Buffers[0], ua.AddrPort())
		if err != nil {
			return i, err
		}
		ms[i].N = n
	}
	return len(ms), nil
}

// setUDPAddr sets ua to ap, reusing ua's IP slice.
func setUDPAddr(ua *net.UDPAddr, ap netip.AddrPort) {
	a := ap.Addr()
	if a.Is4() {
		b := a.As4()
		ua.IP = append(ua.IP[:0], b[:]...)
	} else {
		b := a.As16()
		ua.IP = append(ua.IP[:0], b[:]...)
	}
	ua.Port = int(ap.Port())
	ua.Zone = a.Zone()
}
