//go:build !linux

package mmsg

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// New returns golang.org/x/net's PacketConn on c (of c's family): outside
// Linux it reads and writes one datagram per call.
func New(c *net.UDPConn) (BatchConn, error) {
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok && la.IP.To4() == nil && len(la.IP) == net.IPv6len {
		return ipv6.NewPacketConn(c), nil
	}
	return ipv4.NewPacketConn(c), nil
}
