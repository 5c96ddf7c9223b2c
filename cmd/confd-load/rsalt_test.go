package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// TestSendAllocs: a worker makes each request's rsalt and signs the
// request (protocol.RequestSigner) without allocating, as it does at
// every send; the request is the mix entry's, as a server reads it.
func TestSendAllocs(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef01234567\n")
	m, err := parseMix([]byte(`[{"type": "ping"}, {"type": 3, "query": {"3":[0,1,2]}}, {"type": "node-role", "query": "nodé\"1"}]`))
	if err != nil {
		t.Fatal(err)
	}
	sg := protocol.NewRequestSigner(key)
	dec := protocol.NewDecoder(key)
	now := time.Unix(1700000000, 5)
	for j, want := range []struct {
		typ   protocol.Type
		kind  protocol.QueryKind
		plain string
	}{{protocol.TypePing, protocol.QueryEmpty, ""}, {protocol.TypeClusterMaster, protocol.QueryDict, ""}, {protocol.TypeNodeRoleByName, protocol.QueryPlain, "nodé\"1"}} {
		e := &m.entries[j]
		rsalt := appendRSalt(nil, 7, uint64(j)*1000003)
		var req protocol.Request
		if o := dec.Decode(sg.AppendRequest(nil, now, e.typ, e.query, rsalt), now, &req); o != protocol.Answered {
			t.Fatalf("entry %d: Decode = %v", j, o)
		}
		if req.Type != want.typ || req.Query.Kind != want.kind || string(req.Query.Plain) != want.plain || !bytes.Equal(req.RSalt, rsalt) {
			t.Errorf("entry %d: decoded type %v, query %v %q, rsalt %q", j, req.Type, req.Query.Kind, req.Query.Plain, req.RSalt)
		}
	}
	buf := make([]byte, 0, 512)
	rs := make([]byte, 0, 32)
	if a := testing.AllocsPerRun(100, func() {
		rs = appendRSalt(rs[:0], 3, 12345)
		buf = sg.AppendRequest(buf[:0], time.Now(), m.entries[1].typ, m.entries[1].query, rs)
	}); a != 0 {
		t.Errorf("making an rsalt and signing a request allocate %v times", a)
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
