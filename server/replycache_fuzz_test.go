package server

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// FuzzReplyCache checks the reply cache against the pipeline without
// one on any question: a request of any type with any query text, asked
// three times (seen, cached, served from the cache) with a fresh rsalt
// each time, gets the same bytes and verdict from both. The two
// pipelines live across the fuzzer's inputs, so questions also meet in
// the cache's slots (replacement, collisions) and its byte budget.
func FuzzReplyCache(f *testing.F) {
	for _, m := range mixRequests {
		f.Add(uint16(m.typ), m.query)
	}
	for _, s := range []struct {
		typ   protocol.Type
		query string
	}{
		{protocol.TypeConfigQuery, `"/cluster"`},
		{protocol.TypeConfigQuery, `"/nodes/missing"`},
		{protocol.TypeNodePipByInstanceIP, `{"0": "br0", "2": ["192.0.2.101", "192.0.2.1"]}`},
		{protocol.TypeClusterMaster, `{"3": [2, 1, 0]}`},
		{protocol.TypeNodeRoleByName, `{"1": "x"}`},
		{protocol.Type(99), `null`},
	} {
		f.Add(uint16(s.typ), s.query)
	}
	now := time.Unix(1700000000, 0)
	cached := newTestPipeline(f, now)
	plain := newTestPipeline(f, now)
	plain.cache.Store(nil)
	n := 0
	f.Fuzz(func(t *testing.T, typ uint16, query string) {
		var q []byte
		if query != "" {
			q = []byte(query)
		}
		for round := range 3 {
			n++
			dgram := protocol.AppendRequest(nil, testKey, now, protocol.Type(typ), q, fmt.Sprintf("salt-%d", n))
			want, wv := plain.Handle(dgram, nil)
			got, gv := cached.Handle(dgram, nil)
			if !bytes.Equal(got, want) || gv != wv {
				t.Fatalf("type %d query %q, round %d: cached %q %+v, want %q %+v", typ, query, round, got, gv, want, wv)
			}
		}
	})
}
