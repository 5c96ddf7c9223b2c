package server

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// msgTrunc is the receive flag of a datagram longer than its buffer.
const msgTrunc = unix.MSG_TRUNC

var (
	// rxOOBSize is the control buffer of one received datagram: its
	// destination (IP_PKTINFO or IPV6_PKTINFO; both fit, in case a
	// kernel sends both) and the drop counter (SO_RXQ_OVFL, a uint32).
	// A buffer too small would only truncate the control data
	// (MSG_CTRUNC), never the datagram.
	rxOOBSize = unix.CmsgSpace(unix.SizeofInet6Pktinfo) +
		unix.CmsgSpace(unix.SizeofInet4Pktinfo) +
		unix.CmsgSpace(4)
	// txOOBSize is the control buffer of one reply: its source address.
	txOOBSize = unix.CmsgSpace(unix.SizeofInet6Pktinfo)
)

// parseControl returns what a received datagram's control data says:
// the address it was sent to (the zero Addr if absent) and the socket's
// cumulative drop count (ok false if absent; the kernel leaves it out
// while it is 0). It does not allocate; malformed control data yields
// what was parsed before the fault.
//
// For IPv4 the address is in_pktinfo's ipi_spec_dst, which is the
// datagram's destination for unicast and the receiving interface's
// address for broadcast: the right source for a reply either way. On an
// AF_INET6 socket IPv4 datagrams come with IPV6_PKTINFO holding the
// IPv4-mapped destination.
func parseControl(oob []byte) (dst netip.Addr, drops uint32, ok bool) {
	for len(oob) >= unix.SizeofCmsghdr {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			// struct in_pktinfo { int ipi_ifindex; struct in_addr
			// ipi_spec_dst; struct in_addr ipi_addr; }
			dst = netip.AddrFrom4([4]byte(data[4:8]))
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			// struct in6_pktinfo { struct in6_addr ipi6_addr; int
			// ipi6_ifindex; }
			dst = netip.AddrFrom16([16]byte(data[0:16]))
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_RXQ_OVFL && len(data) >= 4:
			drops, ok = binary.NativeEndian.Uint32(data), true
		}
		oob = rest
	}
	return dst, drops, ok
}

// appendSourceControl appends to b the control message that sends a
// reply from src: IPV6_PKTINFO on an AF_INET6 socket (v6; src may be
// IPv4-mapped, which Linux accepts for IPv4 replies from a dual-stack
// socket), IP_PKTINFO otherwise. The interface index is left 0 so that
// routing picks the way out, as miekg/dns's correctSource does. It
// appends nothing for an address a reply cannot come from (none,
// unspecified, multicast, broadcast): the kernel then picks the source.
//
// Ganeti's server sends its reply from its listening socket with no
// source address (docs/protocol.md §1.1), so on a wildcard bind of a host
// with several addresses the kernel may pick another address than the
// one asked, and a client that checks the source, or a stateful
// firewall, loses the reply. We keep the address the client used.
func appendSourceControl(b []byte, src netip.Addr, v6 bool) []byte {
	if !src.IsValid() || src.IsUnspecified() || src.IsMulticast() ||
		src.Unmap() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return b
	}
	off := len(b)
	var level, typ int32
	var datalen int
	if v6 {
		level, typ, datalen = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo
	} else {
		if !src.Unmap().Is4() {
			return b
		}
		level, typ, datalen = unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo
	}
	b = append(b, make([]byte, unix.CmsgSpace(datalen))...)
	clear(b[off:])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[off]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(datalen))
	data := b[off+unix.CmsgLen(0):]
	if v6 {
		a := src.As16()
		copy(data[0:16], a[:]) // ipi6_addr; ipi6_ifindex stays 0
	} else {
		a := src.Unmap().As4()
		copy(data[4:8], a[:]) // ipi_spec_dst; ipi_ifindex, ipi_addr stay 0
	}
	return b
}
