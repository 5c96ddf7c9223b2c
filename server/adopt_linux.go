package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/goconfd/goconfd/internal/mmsg"
)

// adoptUDP serves sockets bound by someone else (systemd's socket
// activation): it sets the options listenOne sets after binding
// (destination addresses on a wildcard, the drop counter) and leaves the
// ones that only count before bind (SO_REUSEADDR, SO_REUSEPORT,
// IPV6_V6ONLY) as the socket's owner chose them. Buffers are raised to
// want, never lowered (a .socket unit's ReceiveBuffer= may ask for more).
func adoptUDP(conns []*net.UDPConn, want bufSizes) ([]*socket, error) {
	socks := make([]*socket, 0, len(conns))
	for i, uc := range conns {
		sk, err := adoptOne(uc, want)
		if err != nil {
			return nil, fmt.Errorf("using passed UDP socket %d of %d: %w", i+1, len(conns), err)
		}
		socks = append(socks, sk)
	}
	return socks, nil
}

func adoptOne(uc *net.UDPConn, want bufSizes) (*socket, error) {
	la, ok := uc.LocalAddr().(*net.UDPAddr)
	if !ok || la == nil {
		return nil, errors.New("not a bound UDP socket")
	}
	local := la.AddrPort()
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var opts sockOpts
	var bufs bufSizes
	var serr error
	cerr := rc.Control(func(fd uintptr) {
		domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			serr = fmt.Errorf("reading SO_DOMAIN: %w", err)
			return
		}
		opts.v6 = domain == unix.AF_INET6
		opts.fixSource = local.Addr().IsUnspecified()
		switch {
		case opts.fixSource && opts.v6:
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		case opts.fixSource:
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		}
		if serr != nil {
			serr = fmt.Errorf("asking for destination addresses: %w", serr)
			return
		}
		opts.watchDrops = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1) == nil
		bufs = raiseBuffers(int(fd), want)
	})
	if err := errors.Join(cerr, serr); err != nil {
		return nil, err
	}
	if !opts.v6 {
		local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	}
	conn, err := mmsg.New(uc)
	if err != nil {
		return nil, err
	}
	return &socket{pc: uc, addr: local, opts: opts, bufs: bufs, conn: conn}, nil
}
