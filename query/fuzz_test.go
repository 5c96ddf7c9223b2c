package query

import (
	"bytes"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// FuzzSignedRequest drives the whole request path behind the HMAC: a
// request of any type whose query is the fuzzer's bytes is signed with the
// right key and the right time, so that the request parser, the query
// shapes (empty, plain, dict) and every handler, the CONFIG_QUERY pointer
// evaluator included, see the input; FuzzDecode in protocol mostly stops
// at the HMAC. Every answer must be valid JSON that fits a datagram once
// signed, and the reply must verify.
func FuzzSignedRequest(f *testing.F) {
	seeds := []struct {
		typ   protocol.Type
		query string
	}{
		{protocol.TypePing, ``},
		{protocol.TypeNodeRoleByName, `"node1.example.com"`},
		{protocol.TypeNodePipByInstanceIP, `{"0": "br100", "1": "192.0.2.102"}`},
		{protocol.TypeNodePipByInstanceIP, `{"2": ["192.0.2.101", "1.1.1.1"]}`},
		{protocol.TypeClusterMaster, `{"3": [0, 1, 2]}`},
		{protocol.TypeNodePipList, `null`},
		{protocol.TypeMcPipList, `"x"`},
		{protocol.TypeInstancesIPsList, `"br100"`},
		{protocol.TypeNodeDrbd, `"node1"`},
		{protocol.TypeNodeInstances, `"node3.example.com"`},
		{protocol.TypeInstanceDisks, `"instance1.example.com"`},
		{protocol.TypeConfigQuery, `"/cluster/tcpudp_port_pool/0x"`},
		{protocol.TypeConfigQuery, `"/instances"`},
		{protocol.TypeConfigQuery, `"/cluster/nicparams/default/link"`},
		{protocol.TypeDataCollectors, `{}`},
	}
	for _, s := range seeds {
		f.Add(uint8(s.typ), []byte(s.query))
	}
	snap := loadRich(f)
	key := []byte("fuzz-key-0123456789")
	now := time.Unix(1700000000, 0)
	d := protocol.NewDecoder(key)
	f.Fuzz(func(t *testing.T, typ uint8, query []byte) {
		var q []byte
		if len(query) > 0 {
			q = query
		}
		dgram := protocol.AppendRequest(nil, key, now, protocol.Type(typ%(protocol.NumTypes+2)), q, "rsalt-1")
		var req protocol.Request
		o := d.Decode(dgram, now, &req)
		if o >= protocol.NumOutcomes {
			t.Fatalf("outcome %d", o)
		}
		if o != protocol.Answered {
			return
		}
		res := Answer(snap, &req, nil)
		if res.NoReply {
			return
		}
		if res.Status != protocol.StatusOK && res.Status != protocol.StatusError {
			t.Fatalf("status %d", res.Status)
		}
		if _, err := tjson.Parse(res.Answer, tjson.Options{}); err != nil {
			t.Fatalf("type %d query %q: invalid answer %q: %v", req.Type, query, res.Answer, err)
		}
		reply := d.AppendReply(nil, req.RSalt, res.Status, res.Answer, res.Serial)
		if len(reply) > 65507 {
			return // the server drops and counts it (a test of server)
		}
		r, err := protocol.ParseReply(reply, key, string(req.RSalt))
		if err != nil {
			t.Fatalf("reply does not verify: %v", err)
		}
		if r.Status != res.Status || r.Serial != res.Serial {
			t.Fatalf("reply read back as status %d serial %d, sent %d %d", r.Status, r.Serial, res.Status, res.Serial)
		}
		// A reply carries the answer's text as the server wrote it; but
		// non-ASCII text is read back as UTF-8 by clients (Ganeti's too),
		// so only ASCII answers must round-trip byte for byte.
		if isASCII(res.Answer) && !bytes.Equal(r.Answer, res.Answer) {
			t.Fatalf("answer read back as %s, sent %s", r.Answer, res.Answer)
		}
	})
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
