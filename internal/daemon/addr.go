package daemon

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/goconfd/goconfd/internal/hs"
)

// parseNumericHost reads a bind address as Ganeti does: getaddrinfo(3)
// with AI_NUMERICHOST and AF_UNSPEC (resolveAddr in
// src/Ganeti/Utils.hs), which on glibc means an IPv4 address in any form
// inet_aton(3) takes ("127.1", "0x7f000001", "0177.0.0.1"), or an IPv6
// address as inet_pton(3) takes it with an optional "%scope": a decimal
// interface index, or an interface name on a link-local address.
func parseNumericHost(s string) (netip.Addr, bool) {
	if a, ok := parseInetAton(s); ok {
		return a, true
	}
	host, scope, hasScope := strings.Cut(s, "%")
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Addr{}, false
	}
	if !hasScope {
		return a, true
	}
	// glibc's __inet6_scopeid_pton: a name only for link-local unicast
	// and node- or link-local multicast, else digits (at most 2^32-1).
	if a.IsLinkLocalUnicast() || a.IsInterfaceLocalMulticast() || a.IsLinkLocalMulticast() {
		if ifi, err := net.InterfaceByName(scope); err == nil {
			return a.WithZone(strconv.Itoa(ifi.Index)), true
		}
	}
	if scope == "" || scope[0] < '0' || scope[0] > '9' {
		return netip.Addr{}, false
	}
	n, err := strconv.ParseUint(scope, 10, 32)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone(strconv.FormatUint(n, 10)), true
}

// parseInetAton is glibc's __inet_aton_exact: one to four parts
// separated by dots, each a C integer (0x hexadecimal, leading 0 octal,
// else decimal) starting with a digit; every part but the last is one
// byte, and the last fills the remaining bytes ("127.1" is 127.0.0.1).
func parseInetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	for {
		if s == "" || s[0] < '0' || s[0] > '9' {
			return netip.Addr{}, false
		}
		v, n, ok := strtoul(s)
		if !ok || v > 0xffffffff {
			return netip.Addr{}, false
		}
		parts = append(parts, v)
		s = s[n:]
		if s == "" {
			break
		}
		if s[0] != '.' || len(parts) == 4 || v > 0xff {
			return netip.Addr{}, false
		}
		s = s[1:]
	}
	last := parts[len(parts)-1]
	if last > 0xffffffff>>(8*(len(parts)-1)) {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts[:len(parts)-1] {
		b[i] = byte(p)
	}
	for i := 3; i >= len(parts)-1; i-- {
		b[i] = byte(last)
		last >>= 8
	}
	return netip.AddrFrom4(b), true
}

// strtoul is C's strtoul(s, &end, 0) on a string that starts with a
// digit: it returns the value, how many bytes it read, and false on
// overflow of 64 bits.
func strtoul(s string) (v uint64, n int, ok bool) {
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]):
		base, n = 16, 2
	case s[0] == '0':
		base = 8
	}
	for ; n < len(s); n++ {
		d := hs.DigitValue(s[n])
		if d >= base {
			break
		}
		if v > (1<<64-1-d)/base {
			return 0, 0, false
		}
		v = v*base + d
	}
	return v, n, true
}

func isHex(c byte) bool { return hs.DigitValue(c) < 16 }
