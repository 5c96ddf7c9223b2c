package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/goconfd/goconfd/internal/mmsg"
)

// listenUDP binds cfg.Sockets sockets to cfg.Addr and cfg.Port. With
// more than one they share the port through SO_REUSEPORT, and the kernel
// spreads datagrams over them by a hash of the sender's address, so one
// client's datagrams stay on one socket, in order. When the port is 0,
// the first socket gets a port from the kernel and the others join it.
func listenUDP(cfg *Config) ([]*socket, error) {
	addr := cfg.Addr
	n := cfg.Sockets
	port := cfg.Port
	socks := make([]*socket, 0, n)
	for i := range n {
		ap := netip.AddrPortFrom(addr, port)
		sk, err := listenOne(ap, n > 1, bufferWants(cfg))
		if err != nil {
			for _, sk := range socks {
				sk.pc.Close()
			}
			if n > 1 {
				return nil, fmt.Errorf("binding UDP socket %d of %d to %s: %w", i+1, n, ap, err)
			}
			return nil, fmt.Errorf("binding UDP socket to %s: %w", ap, err)
		}
		port = sk.addr.Port()
		socks = append(socks, sk)
	}
	return socks, nil
}

// listenOne binds one socket to ap, with SO_REUSEADDR as Ganeti's server
// sets it, SO_REUSEPORT if reusePort, dual stack on the IPv6 wildcard,
// destination addresses on any wildcard, and the drop counter if the
// kernel has it, and its buffers raised to want.
func listenOne(ap netip.AddrPort, reusePort bool, want bufSizes) (*socket, error) {
	v6 := ap.Addr().Is6()
	opts := sockOpts{fixSource: ap.Addr().IsUnspecified(), v6: v6}
	network := "udp4"
	if v6 {
		network = "udp6"
	}
	var bufs bufSizes
	lc := net.ListenConfig{
		Control: func(_, _ string, rc syscall.RawConn) error {
			var err error
			cerr := rc.Control(func(fd uintptr) {
				err = setSockopts(int(fd), opts, reusePort)
				bufs = raiseBuffers(int(fd), want)
				// SO_RXQ_OVFL (Linux 2.6.33) is a nicety: without it the
				// server works and KernelDrops stays 0.
				opts.watchDrops = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1) == nil
			})
			return errors.Join(cerr, err)
		},
	}
	pc, err := lc.ListenPacket(context.Background(), network, ap.String())
	if err != nil {
		return nil, err
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, fmt.Errorf("listen %s returned a %T", network, pc)
	}
	local := uc.LocalAddr().(*net.UDPAddr).AddrPort()
	if !v6 {
		local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	}
	conn, err := mmsg.New(uc)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return &socket{pc: uc, addr: local, opts: opts, bufs: bufs, conn: conn}, nil
}

// setSockopts sets the options that must be in place before bind.
func setSockopts(fd int, opts sockOpts, reusePort bool) error {
	type opt struct {
		what       string
		level, opt int
		val        int
	}
	set := []opt{{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, 1}}
	if reusePort {
		set = append(set, opt{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1})
	}
	if opts.fixSource && opts.v6 {
		// Go binds "udp6" sockets IPv6-only; "::" must also take IPv4,
		// as Ganeti's server does (docs/protocol.md §7).
		set = append(set,
			opt{"IPV6_V6ONLY", unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0},
			opt{"IPV6_RECVPKTINFO", unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1})
	} else if opts.fixSource {
		set = append(set, opt{"IP_PKTINFO", unix.IPPROTO_IP, unix.IP_PKTINFO, 1})
	}
	for _, o := range set {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			return fmt.Errorf("setting %s: %w", o.what, err)
		}
	}
	return nil
}

// raiseBuffers raises fd's receive and send buffers to want (as asked:
// the kernel reports twice as much), with SO_RCVBUFFORCE and
// SO_SNDBUFFORCE where the process may (CAP_NET_ADMIN), which ignore
// net.core.rmem_max and wmem_max, else with SO_RCVBUF and SO_SNDBUF,
// which the kernel caps at them. A buffer already at least that large is
// left alone. It returns the sizes the kernel reports afterwards. Nothing
// here fails the start-up: a smaller buffer is logged by logBuffers.
func raiseBuffers(fd int, want bufSizes) bufSizes {
	raise := func(force, plain, size int) int {
		cur, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, plain)
		if size > 0 && (err != nil || cur < 2*size) {
			if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, size) != nil {
				_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, size) // capped silently
			}
			cur, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, plain)
		}
		return cur
	}
	return bufSizes{
		recv: raise(unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, want.recv),
		send: raise(unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, want.send),
	}
}
