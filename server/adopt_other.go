//go:build !linux

package server

import (
	"errors"
	"fmt"
	"net"
)

// adoptUDP serves sockets bound by someone else, one datagram at a time
// as listenUDP's socket is served here, with buffers of at least want.
func adoptUDP(conns []*net.UDPConn, want bufSizes) ([]*socket, error) {
	socks := make([]*socket, 0, len(conns))
	for i, uc := range conns {
		la, ok := uc.LocalAddr().(*net.UDPAddr)
		if !ok || la == nil {
			return nil, fmt.Errorf("using passed UDP socket %d of %d: %w", i+1, len(conns), errors.New("not a bound UDP socket"))
		}
		local := la.AddrPort()
		setBuffers(uc, want)
		socks = append(socks, &socket{conn: plainConn{uc}, pc: uc, addr: local, opts: sockOpts{v6: local.Addr().Is6() && !local.Addr().Is4In6(), batch: 1}})
	}
	return socks, nil
}
