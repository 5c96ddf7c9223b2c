package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

var testKey = []byte("0123456789abcdef0123456789abcdef01234567\n")

func richState(t testing.TB) *config.State {
	t.Helper()
	snap, err := config.Load("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	return &config.State{Snapshot: snap}
}

func newTestPipeline(t testing.TB, now time.Time) *Pipeline {
	p := NewPipeline()
	p.now = func() time.Time { return now }
	p.SetKey(testKey)
	p.SetState(richState(t))
	return p
}

func TestPipeline(t *testing.T) {
	now := time.Unix(1700000000, 0)
	p := newTestPipeline(t, now)
	tests := []struct {
		name    string
		dgram   []byte
		want    Outcome
		typ     protocol.Type
		status  protocol.Status
		answer  string
		serial  int64
		withKey []byte
	}{
		{name: "ping", dgram: protocol.AppendRequest(nil, testKey, now, protocol.TypePing, nil, "r1"), want: Answered, answer: "3000000"},
		{name: "master", dgram: protocol.AppendRequest(nil, testKey, now, protocol.TypeClusterMaster, nil, "r2"), want: Answered, typ: protocol.TypeClusterMaster, answer: `"node1.example.com"`, serial: 3190},
		{name: "type 8 is answered", dgram: protocol.AppendRequest(nil, testKey, now, protocol.TypeNodeInstances, []byte(`"nodeX"`), "r3"), want: Answered, typ: protocol.TypeNodeInstances, status: 1,
			answer: `"Node not found in the configuration: OpPrereqError \"Node name nodeX not found\" ECodeNoEnt"`},
		{name: "wrong key", dgram: protocol.AppendRequest(nil, []byte("other\n"), now, protocol.TypePing, nil, "r4"), want: DropHMAC},
		{name: "stale", dgram: protocol.AppendRequest(nil, testKey, now.Add(-301*time.Second), protocol.TypePing, nil, "r5"), want: DropTimestamp},
		{name: "garbage", dgram: []byte("hello"), want: DropMagic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, v := p.Handle(tt.dgram, make([]byte, 0, 1024))
			o := v.Outcome
			if o != tt.want {
				t.Fatalf("outcome = %v, want %v", o, tt.want)
			}
			if o != Answered {
				if reply != nil {
					t.Fatalf("dropped datagram has a reply: %s", reply)
				}
				return
			}
			var rsalt string
			if v, err := tjson.Parse(tt.dgram[4:], tjson.Options{Latin1: true}); err == nil {
				msg, _ := v.Get("msg")
				inner, _ := tjson.Parse([]byte(msg.Str), tjson.Options{})
				rs, _ := inner.Get("rsalt")
				rsalt = rs.Str
			}
			r, err := protocol.ParseReply(reply, testKey, rsalt)
			if err != nil {
				t.Fatalf("reply %s: %v", reply, err)
			}
			if v.Status != tt.status || v.Type != tt.typ {
				t.Errorf("verdict = %+v, want type %v status %d", v, tt.typ, tt.status)
			}
			if r.Status != tt.status || r.Serial != tt.serial || string(r.Answer) != tt.answer {
				t.Errorf("reply = %d %s %d, want %d %s %d", r.Status, r.Answer, r.Serial, tt.status, tt.answer, tt.serial)
			}
		})
	}
}

func TestPipelineUnavailable(t *testing.T) {
	now := time.Unix(1700000000, 0)
	p := NewPipeline()
	p.now = func() time.Time { return now }
	dgram := protocol.AppendRequest(nil, testKey, now, protocol.TypePing, nil, "r")
	if _, o := handleOutcome(p, dgram, nil); o != DropNoKey {
		t.Fatalf("without a key: outcome = %v, want no_key", o)
	}
	p.SetKey(testKey)
	reply, o := handleOutcome(p, dgram, nil)
	if o != Answered {
		t.Fatalf("outcome = %v", o)
	}
	r, err := protocol.ParseReply(reply, testKey, "r")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != protocol.StatusError || r.Serial != 0 || string(r.Answer) != `"Configuration not yet loaded"` {
		t.Fatalf("reply = %+v", r)
	}
	// A new key takes effect for the next request.
	p.SetKey([]byte("new key\n"))
	if _, o := handleOutcome(p, dgram, nil); o != DropHMAC {
		t.Fatalf("after key change: outcome = %v, want bad_hmac", o)
	}
}

// newTaggedPipeline returns a pipeline at now serving the rich config
// with the cluster's tags extended by n tags named by tag: a way to make
// the answers about /cluster as large as a test needs.
func newTaggedPipeline(t *testing.T, now time.Time, n int, tag func(i int) string) *Pipeline {
	t.Helper()
	data, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := tjson.Parse(data, tjson.Options{Container: true})
	if err != nil {
		t.Fatal(err)
	}
	cluster, _ := doc.Get("cluster")
	tags, _ := cluster.Get("tags")
	for i := range n {
		tags.Arr = append(tags.Arr, tjson.Value{Kind: tjson.String, Str: tag(i)})
	}
	snap, err := config.Parse(tjson.Marshal(&doc))
	if err != nil {
		t.Fatal(err)
	}
	p := NewPipeline()
	p.now = func() time.Time { return now }
	p.SetKey(testKey)
	p.SetState(&config.State{Snapshot: snap})
	return p
}

func TestPipelineReplyTooBig(t *testing.T) {
	// A config whose cluster object alone is larger than a UDP datagram.
	now := time.Unix(1700000000, 0)
	p := newTaggedPipeline(t, now, 6000, func(i int) string {
		return "tag-number-" + string(rune('a'+i%26)) + strconv.Itoa(i)
	})
	dgram := protocol.AppendRequest(nil, testKey, now, protocol.TypeConfigQuery, []byte(`"/cluster"`), "r")
	if reply, o := handleOutcome(p, dgram, nil); o != DropReplyTooBig || reply != nil {
		t.Fatalf("outcome = %v (reply %d bytes), want reply_too_big", o, len(reply))
	}
	// The encoder stops at the budget: the work for a reply that cannot be
	// sent stays bounded whatever the size of the value asked for.
	out, found := p.State().Snapshot.AppendQuery(nil, []byte("/cluster/tags"))
	if !found || len(out) <= config.MaxAnswerSize || len(out) > config.MaxAnswerSize+64 {
		t.Fatalf("AppendQuery of a huge value: %d bytes, found %v; want just over %d", len(out), found, config.MaxAnswerSize)
	}
}

func TestPipelineAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	now := time.Unix(1700000000, 0)
	p := newTestPipeline(t, now)
	dgram := protocol.AppendRequest(nil, testKey, now, protocol.TypeClusterMaster, []byte(`{"3": [0, 1, 2]}`), "9aa6ce92-8336-11de-af38-001d093e835f")
	buf := make([]byte, 0, 4096)
	p.Handle(dgram, buf) // warm the pool
	allocs := testing.AllocsPerRun(200, func() {
		if _, o := handleOutcome(p, dgram, buf); o != Answered {
			t.Fatal(o)
		}
	})
	if allocs != 0 {
		t.Fatalf("Handle allocates %v times per request, want 0", allocs)
	}
}

// TestServeRich serves rich.json on a loopback socket and asks it over
// UDP, as a client would.
func TestServeRich(t *testing.T) {
	p := NewPipeline()
	p.SetKey(testKey)
	p.SetState(richState(t))
	ready := make(chan struct{})
	srv, err := New(Config{Addr: netip.MustParseAddr("127.0.0.1"), Handler: p, Logger: slog.New(slog.DiscardHandler), Ready: func() { close(ready) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
	})
	defer stop()
	<-ready
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, q := range []struct {
		typ    protocol.Type
		query  string
		answer string
	}{
		{protocol.TypeNodeRoleByName, `"node3"`, "1"},
		{protocol.TypeInstancesIPsList, `"br100"`, `["192.0.2.102"]`},
		{protocol.TypeConfigQuery, `"/cluster/master_ip"`, `"192.0.2.87"`},
	} {
		rsalt := "salt-" + strconv.Itoa(i)
		if _, err := conn.Write(protocol.AppendRequest(nil, testKey, time.Now(), q.typ, []byte(q.query), rsalt)); err != nil {
			t.Fatal(err)
		}
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65536)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		r, err := protocol.ParseReply(buf[:n], testKey, rsalt)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(r.Answer); got != q.answer {
			t.Errorf("%v %s = %s, want %s", q.typ, q.query, got, q.answer)
		}
	}
	// Counters are flushed per batch, after the replies are written: read
	// them once the server has stopped.
	stop()
	if st := srv.Stats(); st.Outcomes[Answered] != 3 || st.Sent != 3 {
		t.Errorf("stats = %+v, want 3 answered and sent", st)
	}
}

// mixRequests are the twelve requests of cmd/confd-report/mix-rich.json,
// the report's mix, with its queries.
var mixRequests = []struct {
	name  string
	typ   protocol.Type
	query string
}{
	{"ping", protocol.TypePing, ""},
	{"node-role", protocol.TypeNodeRoleByName, `"node2.example.com"`},
	{"node-pip-by-instance-ip", protocol.TypeNodePipByInstanceIP, `{"1": "192.0.2.101"}`},
	{"cluster-master", protocol.TypeClusterMaster, `{"3": [0, 1, 2]}`},
	{"node-pip-list", protocol.TypeNodePipList, ""},
	{"mc-pip-list", protocol.TypeMcPipList, ""},
	{"instances-ips-list", protocol.TypeInstancesIPsList, ""},
	{"node-drbd", protocol.TypeNodeDrbd, `"node2.example.com"`},
	{"node-instances", protocol.TypeNodeInstances, `"node2.example.com"`},
	{"instance-disks", protocol.TypeInstanceDisks, `"instance2.example.com"`},
	{"config-query", protocol.TypeConfigQuery, `"/cluster/cluster_name"`},
	{"data-collectors", protocol.TypeDataCollectors, `"node2.example.com"`},
}

// BenchmarkPipeline measures Handle per request type on rich.json: a few
// named requests, each request of the report's mix ("mix/TYPE", with the
// reply's size in B/reply), and the whole mix ("mix/all": ns/op is per
// request, the mean over the twelve).
func BenchmarkPipeline(b *testing.B) {
	now := time.Now()
	p := newTestPipeline(b, now)
	p.now = time.Now
	buf := make([]byte, 0, 65536)
	request := func(typ protocol.Type, query string) []byte {
		var q []byte
		if query != "" {
			q = []byte(query)
		}
		return protocol.AppendRequest(nil, testKey, now, typ, q, "9aa6ce92-8336-11de-af38-001d093e835f")
	}
	run := func(name string, dgram []byte) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(dgram)))
			var reply []byte
			for b.Loop() {
				var o Outcome
				if reply, o = handleOutcome(p, dgram, buf); o != Answered {
					b.Fatal(o)
				}
			}
			b.ReportMetric(float64(len(reply)), "B/reply")
		})
	}
	for _, bc := range []struct {
		name  string
		typ   protocol.Type
		query string
	}{
		{"ping", protocol.TypePing, ""},
		{"cluster-master-fields", protocol.TypeClusterMaster, `{"3": [0, 1, 2]}`},
		{"node-drbd", protocol.TypeNodeDrbd, `"node1"`},
		{"instances-ips-list", protocol.TypeInstancesIPsList, `null`},
		{"config-query-cluster", protocol.TypeConfigQuery, `"/cluster"`},
	} {
		run(bc.name, request(bc.typ, bc.query))
	}
	mix := make([][]byte, len(mixRequests))
	for i, m := range mixRequests {
		mix[i] = request(m.typ, m.query)
		run("mix/"+m.name, mix[i])
	}
	b.Run("mix/all", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, o := handleOutcome(p, mix[i], buf); o != Answered {
				b.Fatal(o)
			}
			if i++; i == len(mix) {
				i = 0
			}
		}
	})
}

// handleOutcome is p.Handle with the Verdict's outcome only.
func handleOutcome(p *Pipeline, dgram, buf []byte) ([]byte, Outcome) {
	reply, v := p.Handle(dgram, buf)
	return reply, v.Outcome
}

// TestPipelineGanetiSilent checks that the requests Ganeti's 3.0 server
// leaves unanswered (types 2 and 6 when cluster.nicparams has no
// "default" entry) are counted under their own outcome, not as a bug.
func TestPipelineGanetiSilent(t *testing.T) {
	data, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc["cluster"].(map[string]any)["nicparams"].(map[string]any), "default")
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	snap, err := config.Parse(data)
	if err != nil {
		t.Fatalf("parsing rich.json without default NIC parameters: %v", err)
	}
	now := time.Unix(1700000000, 0)
	p := newTestPipeline(t, now)
	p.SetState(&config.State{Snapshot: snap})
	tests := []struct {
		name  string
		typ   protocol.Type
		query string
		want  Outcome
	}{
		{name: "ips of the default link", typ: protocol.TypeInstancesIPsList, want: DropGanetiSilent},
		{name: "pip by ip without link", typ: protocol.TypeNodePipByInstanceIP, query: `{"1": "192.0.2.101"}`, want: DropGanetiSilent},
		{name: "ping still answered", typ: protocol.TypePing, want: Answered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q []byte
			if tt.query != "" {
				q = []byte(tt.query)
			}
			dgram := protocol.AppendRequest(nil, testKey, now, tt.typ, q, "r")
			reply, o := handleOutcome(p, dgram, make([]byte, 0, 1024))
			if o != tt.want {
				t.Fatalf("outcome = %v, want %v", o, tt.want)
			}
			if (o == Answered) != (reply != nil) {
				t.Fatalf("outcome %v with reply %q", o, reply)
			}
		})
	}
}

// TestPipelineClockOncePerBatch checks that a socket loop's batch reads
// the pipeline's clock once, whatever the number of requests in it, and
// that the next batch reads it again.
func TestPipelineClockOncePerBatch(t *testing.T) {
	now := time.Unix(1700000000, 0)
	p := newTestPipeline(t, now)
	reads := 0
	p.now = func() time.Time { reads++; return now }
	conn := &scriptConn{}
	env := &loopEnv{handler: p, from: p, log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
	l := newSockLoop(conn, env, new(sockCounters), sockOpts{}, 8)
	var reqs []string
	for i := range 3 {
		reqs = append(reqs, string(protocol.AppendRequest(nil, testKey, now, protocol.TypePing, nil, fmt.Sprint("r", i))))
	}
	serveOneBatch(t, conn, l, reqs...)
	if reads != 1 || len(conn.writes) != 3 {
		t.Fatalf("a batch of 3: %d clock reads, %d replies; want 1 and 3", reads, len(conn.writes))
	}
	serveOneBatch(t, conn, l, reqs[0])
	if reads != 2 || len(conn.writes) != 4 {
		t.Fatalf("the next batch: %d clock reads in all, %d replies; want 2 and 4", reads, len(conn.writes))
	}
}
