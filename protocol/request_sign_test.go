package protocol

import (
	"fmt"
	"testing"
	"time"
)

// TestRequestSigner signs a run of requests with one RequestSigner, its
// buffers reused from one to the next (longer and shorter messages, a
// change of second, a change of key), and checks each datagram against
// the Python client's format signed independently (sign, with
// crypto/hmac), against AppendRequest, and against the Decoder.
func TestRequestSigner(t *testing.T) {
	otherKey := []byte("another key\n")
	tests := []struct {
		name  string
		key   []byte
		now   time.Time
		typ   Type
		query []byte
		rsalt string
		msg   string // the message as Ganeti's Python client writes it
	}{
		{name: "ping, no query", key: vectorKey, now: vectorTime, typ: TypePing, rsalt: vectorRSalt,
			msg: `{"protocol": 1, "type": 0, "rsalt": "9aa6ce92-8336-11de-af38-001d093e835f"}` + "\n"},
		{name: "dict query", key: vectorKey, now: vectorTime.Add(999 * time.Millisecond), typ: TypeNodePipByInstanceIP,
			query: []byte(`{"0": "br0", "2": ["10.0.0.1", "10.0.0.2"], "3": [0, 1]}`), rsalt: "1-2",
			msg: `{"protocol": 1, "type": 2, "query": {"0": "br0", "2": ["10.0.0.1", "10.0.0.2"], "3": [0, 1]}, "rsalt": "1-2"}` + "\n"},
		{name: "next second, plain query escaped", key: vectorKey, now: vectorTime.Add(time.Second), typ: TypeNodeRoleByName,
			query: []byte(`"nod\u00e9\"1"`), rsalt: "r",
			msg: `{"protocol": 1, "type": 1, "query": "nod\u00e9\"1", "rsalt": "r"}` + "\n"},
		{name: "rsalt escaped", key: vectorKey, now: vectorTime, typ: TypeClusterMaster, rsalt: "é\"\\",
			msg: `{"protocol": 1, "type": 3, "rsalt": "\u00e9\"\\"}` + "\n"},
		{name: "empty query text is written", key: vectorKey, now: vectorTime, typ: TypeNodePipList, query: []byte{}, rsalt: "x",
			msg: `{"protocol": 1, "type": 4, "query": , "rsalt": "x"}` + "\n"},
		{name: "other key", key: otherKey, now: time.Unix(1700000000, 5), typ: TypeConfigQuery, query: []byte(`"/cluster"`), rsalt: "3-17",
			msg: `{"protocol": 1, "type": 10, "query": "/cluster", "rsalt": "3-17"}` + "\n"},
	}
	sg := NewRequestSigner(vectorKey)
	key := vectorKey
	for _, tt := range tests {
		if string(tt.key) != string(key) {
			sg.SetKey(tt.key)
			key = tt.key
		}
		got := sg.AppendRequest([]byte("prefix"), tt.now, tt.typ, tt.query, []byte(tt.rsalt))
		want := "prefix" + sign(tt.key, tt.msg, fmt.Sprint(tt.now.Unix())) + "\n"
		if string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, want)
			continue
		}
		if w := AppendRequest([]byte("prefix"), tt.key, tt.now, tt.typ, tt.query, tt.rsalt); string(w) != want {
			t.Errorf("%s: AppendRequest\n got %s\nwant %s", tt.name, w, want)
		}
		if len(tt.query) == 0 && tt.query != nil {
			continue // not a request a server answers
		}
		var req Request
		if o := NewDecoder(tt.key).Decode(got[len("prefix"):], tt.now, &req); o != Answered {
			t.Errorf("%s: Decode = %v, want answered", tt.name, o)
		} else if req.Type != tt.typ || string(req.RSalt) != tt.rsalt {
			t.Errorf("%s: Decode = type %v rsalt %q", tt.name, req.Type, req.RSalt)
		}
	}
}

// TestRequestSignerAllocs: once its buffers have grown, a RequestSigner
// signs without allocating (what a load generator needs).
func TestRequestSignerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	sg := NewRequestSigner(vectorKey)
	query := []byte(`{"0": "br0", "2": ["10.0.0.1"], "3": [0, 1]}`)
	rsalt := []byte(vectorRSalt)
	buf := make([]byte, 0, 512)
	now := vectorTime
	if a := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second)
		buf = sg.AppendRequest(buf[:0], now, TypeNodePipByInstanceIP, query, rsalt)
	}); a != 0 {
		t.Errorf("RequestSigner.AppendRequest allocates %v times per request, want 0", a)
	}
}

func BenchmarkRequestSigner(b *testing.B) {
	sg := NewRequestSigner(vectorKey)
	query := []byte(`{"3": [0, 1, 2]}`)
	rsalt := []byte("12-987654321")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = sg.AppendRequest(buf[:0], vectorTime, TypeClusterMaster, query, rsalt)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendRequest(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequest(buf[:0], vectorKey, vectorTime, TypeClusterMaster, []byte(`{"3": [0, 1, 2]}`), "12-987654321")
	}
	b.SetBytes(int64(len(buf)))
}
