package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/protocol"
)

// TestAmplification measures what an authenticated (or replayed) request
// can make goconfd send, on rich.json and on a generated cluster of 2,000
// instances (about 3.6 MB): the reply's size over the request's, per
// request type, for the query with the largest answer. The figures are
// docs/security.md's. It asserts what holds whatever the config: one
// reply per request, never more than protocol.MaxReplySize bytes, and
// nothing at all for a request that does not authenticate.
func TestAmplification(t *testing.T) {
	now := time.Unix(1700000000, 0)
	o := clustergen.Default()
	o.Instances = 2000
	o.Nodes = 100
	data, f, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := config.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	big := f.Nodes[1].Name
	for _, c := range []struct {
		name  string
		state *config.State
		node  string
		inst  string
	}{
		{"rich.json", richState(t), "node1.example.com", "instance1.example.com"},
		{fmt.Sprintf("generated, %d instances, %.1f MB", len(f.Instances), float64(len(data))/(1<<20)), &config.State{Snapshot: snap}, big, f.Instances[0].Name},
	} {
		p := NewPipeline()
		p.now = func() time.Time { return now }
		p.SetKey(testKey)
		p.SetState(c.state)
		worst, minReq := 0.0, 1<<16
		fmt.Printf("amplification on %s:\n", c.name)
		for _, q := range []struct {
			typ   protocol.Type
			query string
		}{
			{protocol.TypePing, ``},
			{protocol.TypeClusterMaster, `{"3":[0,1,2]}`},
			{protocol.TypeNodePipList, ``},
			{protocol.TypeInstancesIPsList, ``},
			{protocol.TypeNodeDrbd, fmt.Sprintf("%q", c.node)},
			{protocol.TypeNodeInstances, fmt.Sprintf("%q", c.node)},
			{protocol.TypeInstanceDisks, fmt.Sprintf("%q", c.inst)},
			{protocol.TypeConfigQuery, `"/cluster"`},
			{protocol.TypeConfigQuery, `"/nodes"`},
			{protocol.TypeConfigQuery, `"/instances"`},
		} {
			var query []byte
			if q.query != "" {
				query = []byte(q.query)
			}
			req := protocol.AppendRequest(nil, testKey, now, q.typ, query, "1")
			minReq = min(minReq, len(req))
			reply, v := p.Handle(req, make([]byte, 0, 1<<16))
			if v.Outcome != Answered {
				// Over MaxReplySize: dropped, nothing sent.
				fmt.Printf("  type %2d %-14s request %4d B, no reply (%s)\n", q.typ, q.query, len(req), v.Outcome)
				continue
			}
			if len(reply) > protocol.MaxReplySize {
				t.Errorf("type %d %s: a reply of %d bytes", q.typ, q.query, len(reply))
			}
			ratio := float64(len(reply)) / float64(len(req))
			worst = max(worst, ratio)
			fmt.Printf("  type %2d %-14s request %4d B, reply %6d B, factor %6.1f\n", q.typ, q.query, len(req), len(reply), ratio)
			// The same request signed with another key, or expired, gets
			// nothing.
			for _, bad := range [][]byte{
				protocol.AppendRequest(nil, []byte("wrong key"), now, q.typ, query, "1"),
				protocol.AppendRequest(nil, testKey, now.Add(-301*time.Second), q.typ, query, "1"),
			} {
				if r, v := p.Handle(bad, nil); v.Outcome == Answered || len(r) != 0 {
					t.Errorf("type %d %s: an unauthenticated request got %d bytes (%s)", q.typ, q.query, len(r), v.Outcome)
				}
			}
		}
		fmt.Printf("  worst factor %.1f\n", worst)
		if limit := float64(protocol.MaxReplySize) / float64(minReq); worst > limit {
			t.Errorf("worst factor %.1f: more than a maximal reply over the smallest request (%.0f)", worst, limit)
		}
	}
}
