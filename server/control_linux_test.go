package server

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg returns one control message as the kernel writes it.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// pktinfo4 is an IP_PKTINFO message (struct in_pktinfo).
func pktinfo4(ifindex int32, specDst, addr string) []byte {
	d := make([]byte, unix.SizeofInet4Pktinfo)
	binary.NativeEndian.PutUint32(d[0:4], uint32(ifindex))
	sd, a := netip.MustParseAddr(specDst).As4(), netip.MustParseAddr(addr).As4()
	copy(d[4:8], sd[:])
	copy(d[8:12], a[:])
	return cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, d)
}

// pktinfo6 is an IPV6_PKTINFO message (struct in6_pktinfo).
func pktinfo6(addr string, ifindex uint32) []byte {
	d := make([]byte, unix.SizeofInet6Pktinfo)
	a := netip.MustParseAddr(addr).As16()
	copy(d[0:16], a[:])
	binary.NativeEndian.PutUint32(d[16:20], ifindex)
	return cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, d)
}

// rxqOvfl is an SO_RXQ_OVFL message.
func rxqOvfl(n uint32) []byte {
	return cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, binary.NativeEndian.AppendUint32(nil, n))
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestParseControl(t *testing.T) {
	tests := []struct {
		name      string
		oob       []byte
		wantDst   string // "" for none
		wantDrops uint32
		wantOK    bool
	}{
		{name: "empty"},
		{name: "ipv4 unicast", oob: pktinfo4(1, "127.0.0.2", "127.0.0.2"), wantDst: "127.0.0.2"},
		{name: "ipv4 broadcast takes the interface address", oob: pktinfo4(2, "192.0.2.1", "192.0.2.255"), wantDst: "192.0.2.1"},
		{name: "ipv6", oob: pktinfo6("2001:db8::1", 3), wantDst: "2001:db8::1"},
		{name: "ipv4-mapped", oob: pktinfo6("::ffff:127.0.0.2", 1), wantDst: "::ffff:127.0.0.2"},
		{name: "drops alone", oob: rxqOvfl(7), wantDrops: 7, wantOK: true},
		{name: "drops zero", oob: rxqOvfl(0), wantOK: true},
		{name: "destination and drops", oob: cat(pktinfo6("::1", 1), rxqOvfl(1<<32-1)), wantDst: "::1", wantDrops: 1<<32 - 1, wantOK: true},
		{name: "drops and destination", oob: cat(rxqOvfl(3), pktinfo4(1, "10.0.0.1", "10.0.0.1")), wantDst: "10.0.0.1", wantDrops: 3, wantOK: true},
		{name: "unknown message skipped", oob: cat(cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMP, make([]byte, 16)), rxqOvfl(2)), wantDrops: 2, wantOK: true},
		{name: "short pktinfo ignored", oob: cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, make([]byte, 8))},
		{name: "short drop count ignored", oob: cmsg(unix.SOL_SOCKET, unix.SO_RXQ_OVFL, make([]byte, 2))},
		{name: "truncated header", oob: pktinfo6("::1", 1)[:unix.SizeofCmsghdr-1]},
		{name: "length beyond buffer", oob: pktinfo6("::1", 1)[:unix.SizeofCmsghdr+4]},
		{name: "good then garbage", oob: cat(rxqOvfl(5), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1}), wantDrops: 5, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, drops, ok := parseControl(tt.oob)
			var want netip.Addr
			if tt.wantDst != "" {
				want = netip.MustParseAddr(tt.wantDst)
			}
			if dst != want || drops != tt.wantDrops || ok != tt.wantOK {
				t.Errorf("parseControl = %v, %d, %v; want %v, %d, %v", dst, drops, ok, want, tt.wantDrops, tt.wantOK)
			}
		})
	}
}

func TestAppendSourceControl(t *testing.T) {
	tests := []struct {
		name  string
		src   string // "" for the zero Addr
		v6    bool
		want  []byte // nil: nothing appended
		level int32
	}{
		{name: "ipv4", src: "127.0.0.2", want: pktinfo4(0, "127.0.0.2", "0.0.0.0")},
		{name: "ipv4-mapped on an ipv4 socket", src: "::ffff:127.0.0.2", want: pktinfo4(0, "127.0.0.2", "0.0.0.0")},
		{name: "ipv6", src: "2001:db8::5", v6: true, want: pktinfo6("2001:db8::5", 0)},
		{name: "ipv4-mapped on a dual-stack socket", src: "::ffff:127.0.0.2", v6: true, want: pktinfo6("::ffff:127.0.0.2", 0)},
		{name: "none", src: ""},
		{name: "unspecified", src: "0.0.0.0"},
		{name: "ipv6 unspecified", src: "::", v6: true},
		{name: "multicast", src: "224.0.0.1"},
		{name: "ipv6 multicast", src: "ff02::1", v6: true},
		{name: "broadcast", src: "255.255.255.255"},
		{name: "mapped broadcast", src: "::ffff:255.255.255.255", v6: true},
		{name: "ipv6 on an ipv4 socket", src: "2001:db8::5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src netip.Addr
			if tt.src != "" {
				src = netip.MustParseAddr(tt.src)
			}
			prefix := []byte("keep")
			got := appendSourceControl(prefix, src, tt.v6)
			if string(got[:4]) != "keep" {
				t.Fatalf("prefix overwritten: %q", got[:4])
			}
			if string(got[4:]) != string(tt.want) {
				t.Errorf("appended %x, want %x", got[4:], tt.want)
			}
			if tt.want != nil {
				// What we send, we would parse back as the same address.
				dst, _, _ := parseControl(got[4:])
				if dst.Unmap() != src.Unmap() {
					t.Errorf("parses back as %v, want %v", dst, src)
				}
			}
		})
	}
	if raceEnabled {
		return // the race detector changes allocation counts
	}
	buf := make([]byte, 0, txOOBSize)
	src := netip.MustParseAddr("::1")
	if testing.AllocsPerRun(100, func() {
		buf = appendSourceControl(buf[:0], src, true)
	}) != 0 {
		t.Errorf("appendSourceControl allocates into a large enough buffer")
	}
}

func TestLoopFixesSourceAndCountsDrops(t *testing.T) {
	conn := &scriptConn{reads: []readStep{
		{dgrams: []dgram{
			{data: "a", oob: pktinfo6("::ffff:127.0.0.2", 1)},
			{data: "drop:3", oob: cat(pktinfo6("::1", 1), rxqOvfl(4))},
			{data: "b", oob: cat(pktinfo6("2001:db8::7", 2), rxqOvfl(5))},
			{data: "c"}, // no control data: the kernel picks the source
		}},
		{dgrams: []dgram{{data: "d", oob: cat(rxqOvfl(1<<32-2), pktinfo6("::1", 1))}}},
		{dgrams: []dgram{{data: "e", oob: cat(pktinfo6("::1", 1), rxqOvfl(1))}}}, // wrapped around
	}}
	st, _ := runScript(t, conn, sockOpts{fixSource: true, v6: true, watchDrops: true}, 4, slog.New(slog.DiscardHandler))
	wantSrc := []string{"::ffff:127.0.0.2", "2001:db8::7", "", "::1", "::1"}
	if len(conn.writes) != len(wantSrc) {
		t.Fatalf("%d replies, want %d", len(conn.writes), len(wantSrc))
	}
	for i, w := range conn.writes {
		var want []byte
		if wantSrc[i] != "" {
			want = pktinfo6(wantSrc[i], 0)
		}
		if string(w.oob) != string(want) {
			t.Errorf("reply %q: control %x, want %x (source %q)", w.data, w.oob, want, wantSrc[i])
		}
	}
	// 5 by the end of the first batch, 2³²-2 by the second, 1 (after
	// wrapping) by the third: 2³²+1 in all.
	if want := uint64(1<<32 + 1); st.KernelDrops != want {
		t.Errorf("KernelDrops = %d, want %d", st.KernelDrops, want)
	}
}

func TestLoopWatchesDropsOnLastDatagram(t *testing.T) {
	// Without fixSource the loop reads only the last datagram's control
	// data: the counter is cumulative.
	conn := &scriptConn{reads: []readStep{
		{dgrams: []dgram{{data: "a", oob: rxqOvfl(100)}, {data: "b", oob: rxqOvfl(3)}}},
		{dgrams: []dgram{{data: "c", oob: rxqOvfl(9)}}},
	}}
	st, _ := runScript(t, conn, sockOpts{watchDrops: true}, 4, slog.New(slog.DiscardHandler))
	if st.KernelDrops != 9 {
		t.Errorf("KernelDrops = %d, want 9", st.KernelDrops)
	}
	for _, w := range conn.writes {
		if len(w.oob) != 0 {
			t.Errorf("reply %q has control data %x without fixSource", w.data, w.oob)
		}
	}
}
