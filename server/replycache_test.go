package server

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/query"
)

// TestReplyCacheSameBytes checks that a cached reply is the reply: every
// request of the mix and a few more (errors, dict queries, an unknown
// type, an over-large answer) asked three times (seen, cached, served
// from the cache) of a pipeline with its cache gives the same bytes and
// verdict as a pipeline whose cache is off.
func TestReplyCacheSameBytes(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cached := newTestPipeline(t, now)
	plain := newTestPipeline(t, now)
	plain.cache.Store(nil)
	type req struct {
		typ   protocol.Type
		query string
	}
	reqs := []req{
		{protocol.TypeNodeRoleByName, `"nodeX"`},
		{protocol.TypeNodeRoleByName, `{"1": "x"}`},
		{protocol.TypeNodePipByInstanceIP, `{"0": "br0", "2": ["192.0.2.101", "192.0.2.1"]}`},
		{protocol.TypeNodePipByInstanceIP, `{"2": ["192.0.2.101"]}`},
		{protocol.TypeClusterMaster, `{"3": [2, 1]}`},
		{protocol.TypeInstancesIPsList, `"br0"`},
		{protocol.TypeConfigQuery, `"/cluster"`},
		{protocol.TypeConfigQuery, `"/nodes/missing"`},
		{protocol.TypeInstanceDisks, `"instanceX"`},
	}
	for _, m := range mixRequests {
		reqs = append(reqs, req{m.typ, m.query})
	}
	for i, r := range reqs {
		var q []byte
		if r.query != "" {
			q = []byte(r.query)
		}
		for round := range 3 {
			dgram := protocol.AppendRequest(nil, testKey, now, r.typ, q, fmt.Sprintf("salt-%d-%d", i, round))
			want, wv := plain.Handle(dgram, nil)
			got, gv := cached.Handle(dgram, nil)
			if !bytes.Equal(got, want) || gv != wv {
				t.Errorf("%v %s, round %d: cached %q %+v, want %q %+v", r.typ, r.query, round, got, gv, want, wv)
			}
		}
	}
	c := cached.cache.Load()
	n := 0
	for i := range c.slots {
		if c.slots[i].Load() != nil {
			n++
		}
	}
	if n < len(reqs)-2 { // slots may collide, rarely
		t.Errorf("%d questions cached, want about %d", n, len(reqs))
	}
}

// TestReplyCacheNewState checks that a new snapshot gets an empty cache:
// a question cached for the old config is answered from the new one.
func TestReplyCacheNewState(t *testing.T) {
	now := time.Unix(1700000000, 0)
	p := newTestPipeline(t, now)
	dgram := protocol.AppendRequest(nil, testKey, now, protocol.TypeClusterMaster, nil, "r")
	for range 3 {
		p.Handle(dgram, nil)
	}
	old := p.cache.Load()
	data := strings.Replace(richConfigText(t), `"node1.example.com"`, `"nodeZ.example.com"`, 1)
	snap, err := config.Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	p.SetState(&config.State{Snapshot: snap})
	if p.cache.Load() == old || p.cache.Load().snap != snap {
		t.Fatal("SetState kept the old snapshot's cache")
	}
	reply, _ := p.Handle(dgram, nil)
	r, err := protocol.ParseReply(reply, testKey, "r")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := snap.Master()
	if want.Name == "node1.example.com" {
		t.Fatal("the edited config has the old master name")
	}
	if got := string(r.Answer); got != `"`+want.Name+`"` {
		t.Errorf("master after reload = %s, want %q", got, want.Name)
	}
	p.SetState(config.NotLoaded())
	if p.cache.Load() != nil {
		t.Error("a state without a snapshot kept a cache")
	}
}

// TestReplyCacheAdmission checks what enters a cache: a question the
// second time it is seen, not the first; nothing with no reply or an
// answer over maxCachedAnswer; nothing past the budget.
func TestReplyCacheAdmission(t *testing.T) {
	c := newReplyCache(nil)
	key := []byte("question")
	ok := query.Result{Status: protocol.StatusOK, Answer: []byte(`"answer"`), Serial: 1}
	c.offer(7, key, &ok)
	if c.lookup(7, key) != nil {
		t.Fatal("cached at the first sighting")
	}
	c.offer(7, key, &ok)
	e := c.lookup(7, key)
	if e == nil {
		t.Fatal("not cached at the second sighting")
	}
	if c.lookup(7, []byte("other")) != nil || c.lookup(7+replyCacheSlots, key) != nil {
		t.Error("a lookup with another key or hash found the entry")
	}
	if got := c.bytes.Load(); got != e.size || got <= 0 {
		t.Errorf("budget used %d, want the entry's %d", got, e.size)
	}
	for _, tc := range []struct {
		name string
		res  query.Result
	}{
		{"no reply", query.Result{NoReply: true}},
		{"too long", query.Result{Answer: bytes.Repeat([]byte("1"), maxCachedAnswer+1)}},
	} {
		c.offer(8, key, &tc.res)
		c.offer(8, key, &tc.res)
		if c.lookup(8, key) != nil {
			t.Errorf("%s: cached", tc.name)
		}
	}
	c.bytes.Store(replyCacheBudget)
	c.offer(9, key, &ok)
	c.offer(9, key, &ok)
	if c.lookup(9, key) != nil || c.bytes.Load() != replyCacheBudget {
		t.Error("cached past the budget")
	}
}

// TestQuestionKey checks that questions that differ in any part of
// their parsed query have different keys.
func TestQuestionKey(t *testing.T) {
	queries := []protocol.Query{
		{Kind: protocol.QueryEmpty},
		{Kind: protocol.QueryPlain, Plain: []byte("")},
		{Kind: protocol.QueryPlain, Plain: []byte("a")},
		{Kind: protocol.QueryDict},
		{Kind: protocol.QueryDict, HasLink: true},
		{Kind: protocol.QueryDict, HasIP: true},
		{Kind: protocol.QueryDict, Link: []byte("a"), HasLink: true},
		{Kind: protocol.QueryDict, IP: []byte("a"), HasIP: true},
		{Kind: protocol.QueryDict, IPList: [][]byte{[]byte("ab")}},
		{Kind: protocol.QueryDict, IPList: [][]byte{[]byte("a"), []byte("b")}},
		{Kind: protocol.QueryDict, Fields: []protocol.Field{0}},
		{Kind: protocol.QueryDict, Fields: []protocol.Field{0, 1}},
		{Kind: protocol.QueryDict, Fields: []protocol.Field{-1}},
	}
	seen := map[string]int{}
	for _, typ := range []protocol.Type{protocol.TypePing, protocol.TypeNodeRoleByName} {
		for i := range queries {
			k := string(appendQuestionKey(nil, typ, &queries[i]))
			if j, dup := seen[k]; dup {
				t.Errorf("type %v query %d has the key of question %d", typ, i, j)
			}
			seen[k] = i
		}
	}
}

// richConfigText returns rich.json's text.
func richConfigText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
