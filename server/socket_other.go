//go:build !linux

package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// Without recvmmsg, PKTINFO and SO_RXQ_OVFL there are no control
// messages and no truncation flag: loops never ask for them.
const (
	msgTrunc  = 0
	rxOOBSize = 0
	txOOBSize = 0
)

func parseControl([]byte) (netip.Addr, uint32, bool) { return netip.Addr{}, 0, false }

func appendSourceControl(b []byte, _ netip.Addr, _ bool) []byte { return b }

// listenUDP binds one plain socket, whatever cfg.Sockets says. On the
// IPv6 wildcard it is dual stack where the system allows it, as the
// standard library makes "udp" sockets on "::".
func listenUDP(cfg *Config) ([]*socket, error) {
	ap := netip.AddrPortFrom(cfg.Addr, cfg.Port)
	network := "udp4"
	switch {
	case ap.Addr().Is6() && ap.Addr().IsUnspecified():
		network = "udp"
	case ap.Addr().Is6():
		network = "udp6"
	}
	pc, err := new(net.ListenConfig).ListenPacket(context.Background(), network, ap.String())
	if err != nil {
		return nil, fmt.Errorf("binding UDP socket to %s: %w", ap, err)
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, fmt.Errorf("binding UDP socket to %s: listen returned a %T", ap, pc)
	}
	setBuffers(uc, bufferWants(cfg))
	local := uc.LocalAddr().(*net.UDPAddr).AddrPort()
	if ap.Addr().Is4() {
		local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	}
	return []*socket{{
		conn: plainConn{uc},
		pc:   uc,
		addr: local,
		opts: sockOpts{v6: ap.Addr().Is6(), batch: 1},
	}}, nil
}

// setBuffers asks for uc's buffers as the system allows; their sizes
// cannot be read back portably, so they are not logged.
func setBuffers(uc *net.UDPConn, want bufSizes) {
	if want.recv > 0 {
		_ = uc.SetReadBuffer(want.recv)
	}
	if want.send > 0 {
		_ = uc.SetWriteBuffer(want.send)
	}
}
