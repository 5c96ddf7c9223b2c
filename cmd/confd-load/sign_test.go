package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// TestAppendRequestMatchesProtocol: the load tool's signer writes the
// bytes of protocol.AppendRequest (Ganeti's client's format), across a
// change of second.
func TestAppendRequestMatchesProtocol(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef01234567\n")
	s := newSigner(key)
	m, err := parseMix([]byte(`[{"type": "ping"}, {"type": 3, "query": {"3":[0,1,2]}}, {"type": "node-role", "query": "nodé\"1"}]`))
	if err != nil {
		t.Fatal(err)
	}
	for i, now := range []time.Time{time.Unix(1700000000, 5), time.Unix(1700000000, 999999999), time.Unix(1700000001, 0)} {
		for j := range m.entries {
			e := &m.entries[j]
			rsalt := appendRSalt(nil, i, uint64(j)*1000003)
			got := appendRequest(nil, s, e, now.UnixNano(), rsalt)
			want := protocol.AppendRequest(nil, key, now, e.typ, e.query, string(rsalt))
			if !bytes.Equal(got, want) {
				t.Errorf("request %d/%d:\n got %s\nwant %s", i, j, got, want)
			}
		}
	}
	buf := make([]byte, 0, 512)
	rs := make([]byte, 0, 32)
	if a := testing.AllocsPerRun(100, func() {
		rs = appendRSalt(rs[:0], 3, 12345)
		buf = appendRequest(buf[:0], s, &m.entries[1], time.Now().UnixNano(), rs)
	}); a != 0 {
		t.Errorf("signing a request allocates %v times", a)
	}
}

func TestRSalt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		sock int
		seq  uint64
		ok   bool
	}{
		{"0-0", 0, 0, true},
		{"3-18446744073709551615", 3, 18446744073709551615, false}, // 20 digits: over what we make
		{"12-987654321", 12, 987654321, true},
		{"-1", 0, 0, false},
		{"1-", 0, 0, false},
		{"1-2-3", 0, 0, false},
		{"a-1", 0, 0, false},
		{"", 0, 0, false},
	} {
		sock, seq, ok := parseRSalt([]byte(tc.in))
		if ok != tc.ok || ok && (sock != tc.sock || seq != tc.seq) {
			t.Errorf("parseRSalt(%q) = %d, %d, %v; want %d, %d, %v", tc.in, sock, seq, ok, tc.sock, tc.seq, tc.ok)
		}
		if tc.ok {
			if got := string(appendRSalt(nil, tc.sock, tc.seq)); got != tc.in {
				t.Errorf("appendRSalt(%d, %d) = %q, want %q", tc.sock, tc.seq, got, tc.in)
			}
		}
	}
}

func TestReplySalt(t *testing.T) {
	d := protocol.NewDecoder([]byte("k\n"))
	reply := d.AppendReply(nil, []byte("3-17"), protocol.StatusOK, []byte("0"), 1)
	if s := replySalt(reply); string(s) != "3-17" {
		t.Fatalf("replySalt = %q", s)
	}
	if s := replySalt([]byte("plj0{}")); s != nil {
		t.Fatalf("replySalt found %q in a reply without a salt", s)
	}
}
