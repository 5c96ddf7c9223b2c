package client

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// AllPeers asks every peer when it is Options.Coverage (Ganeti's coverage
// -1), and waits for a reply from every peer asked when it is
// Options.MinReplies.
const AllPeers = -1

// Family is an IP address family. It decides which addresses a host name
// resolves to; IP literals are used as they are, whatever the family.
type Family uint8

const (
	// AnyFamily uses the first address the resolver returns.
	AnyFamily Family = iota
	// IPv4 resolves host names to IPv4 addresses only.
	IPv4
	// IPv6 resolves host names to IPv6 addresses only.
	IPv6
)

// String returns "any", "ipv4" or "ipv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "any"
}

// network returns the network name for net.Resolver.LookupNetIP.
func (f Family) network() string {
	switch f {
	case IPv4:
		return "ip4"
	case IPv6:
		return "ip6"
	}
	return "ip"
}

// Peer is one confd server: a host and, optionally, its own port.
type Peer struct {
	// Host is an IPv4 or IPv6 literal (with a zone if need be) or a host
	// name, resolved at each query with the context of the query.
	Host string
	// Port is the server's UDP port; 0 means Options.Port.
	Port uint16
}

// String returns the peer as host or host:port ("[v6]:port").
func (p Peer) String() string {
	if p.Port == 0 {
		return p.Host
	}
	return net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port)))
}

// ParsePeer parses "host", "host:port", an IPv6 literal ("::1",
// "fe80::1%eth0") or "[v6]:port". It does not resolve host names.
func ParsePeer(s string) (Peer, error) {
	if s == "" {
		return Peer{}, errors.New("empty peer address")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return Peer{Host: a.String()}, nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() {
			return Peer{}, fmt.Errorf("peer %q: not an IPv6 literal", s)
		}
		return Peer{Host: a.String()}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return Peer{}, fmt.Errorf("peer %q: %w", s, err)
		}
		host, port = s, ""
	}
	if host == "" {
		return Peer{}, fmt.Errorf("peer %q: no host", s)
	}
	p := Peer{Host: host}
	if a, err := netip.ParseAddr(host); err == nil {
		p.Host = a.String()
	} else if strings.ContainsAny(host, " /[]%") {
		return Peer{}, fmt.Errorf("peer %q: %q is neither an IP address nor a host name", s, host)
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return Peer{}, fmt.Errorf("peer %q: bad port %q", s, port)
		}
		p.Port = uint16(n)
	}
	return p, nil
}

// Options configure a Client. The zero value of every field is a
// documented default; Key and Peers are required.
type Options struct {
	// Peers are the servers to ask, e.g. the master candidates.
	Peers []Peer
	// Key is the raw content of hmac.key, trailing newline included:
	// Ganeti signs with the file's bytes verbatim.
	Key []byte
	// Port is the UDP port of peers without their own. 0 means
	// protocol.DefaultPort (1814); FromNode sets it from the services
	// database as the daemon does.
	Port uint16
	// Family decides what host names resolve to (AnyFamily by default).
	Family Family
	// Coverage is how many peers each query asks, chosen at random
	// (lib/confd/client.py, SendRequest): 0 means Ganeti's default,
	// min(len(Peers), 6); AllPeers asks every peer; more than len(Peers)
	// is an error.
	Coverage int
	// MinReplies is how many valid replies a query waits for before it
	// returns: 0 means Ganeti's rule for the number of peers asked
	// (NeededReplies); AllPeers means every peer asked. Fewer valid
	// replies than this when the query ends is a *QuorumError.
	MinReplies int
	// Timeout bounds each query, like Ganeti's client expiry. 0 means
	// protocol.ClientExpiry (10 s). A query also ends with its context,
	// whichever comes first.
	Timeout time.Duration
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// NeededReplies is Ganeti's rule for how many replies make a safe answer
// when n servers were asked (_NeededReplies in lib/confd/client.py): all
// of them below 3, all but one below 5, otherwise a majority. For 1..8
// servers: 1, 2, 2, 3, 3, 4, 4, 5.
func NeededReplies(n int) int {
	switch {
	case n < 3:
		return n
	case n < 5:
		return n - 1
	}
	return n/2 + 1
}

// coverage returns how many of n peers a query asks.
func coverage(opt, n int) (int, error) {
	switch {
	case opt == 0:
		return min(n, protocol.DefaultCoverage), nil
	case opt == AllPeers:
		return n, nil
	case opt < 0:
		return 0, fmt.Errorf("coverage %d: want 0 (default), %d (all) or a peer count", opt, AllPeers)
	case opt > n:
		return 0, fmt.Errorf("coverage %d: only %d peers known", opt, n)
	}
	return opt, nil
}

// minReplies returns how many valid replies a query that asked n peers
// waits for.
func minReplies(opt, n int) int {
	switch {
	case opt == 0:
		return NeededReplies(n)
	case opt < 0:
		return n
	}
	return min(opt, n)
}
