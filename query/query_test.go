package query

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/protocol"
)

// The expected answers below were captured from the real Ganeti 3.0.2
// server on the same config (config/testdata/rich.json, see RICH_NOTES in
// conformance/reference/mkconfig.py); the conformance suite
// re-checks them against the live server.

func loadRich(t testing.TB) *config.Snapshot {
	t.Helper()
	data, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := config.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func plain(s string) protocol.Query {
	return protocol.Query{Kind: protocol.QueryPlain, Plain: []byte(s)}
}

var empty = protocol.Query{Kind: protocol.QueryEmpty}

func dict(link, ip *string, ips []string, fields ...protocol.Field) protocol.Query {
	q := protocol.Query{Kind: protocol.QueryDict, Fields: fields}
	if link != nil {
		q.Link, q.HasLink = []byte(*link), true
	}
	if ip != nil {
		q.IP, q.HasIP = []byte(*ip), true
	}
	for _, s := range ips {
		q.IPList = append(q.IPList, []byte(s))
	}
	return q
}

func str(s string) *string { return &s }

func TestAnswer(t *testing.T) {
	snap := loadRich(t)
	const cs = 3190 // cluster serial of rich.json
	tests := []struct {
		name   string
		typ    protocol.Type
		q      protocol.Query
		status protocol.Status
		answer string // JSON, compared as decoded values
		serial int64
	}{
		{"ping", protocol.TypePing, empty, 0, `3000000`, 0},
		{"ping ignores query", protocol.TypePing, plain("x"), 0, `3000000`, 0},

		{"role master by full name", protocol.TypeNodeRoleByName, plain("node1.example.com"), 0, `0`, cs},
		{"role master by short name is candidate", protocol.TypeNodeRoleByName, plain("node1"), 0, `1`, cs},
		{"role drained", protocol.TypeNodeRoleByName, plain("node2"), 0, `3`, cs},
		{"role candidate", protocol.TypeNodeRoleByName, plain("node3.example.com"), 0, `1`, cs},
		{"role offline", protocol.TypeNodeRoleByName, plain("node4.example.com"), 0, `2`, cs},
		{"role regular", protocol.TypeNodeRoleByName, plain("node5.example.com"), 0, `4`, cs},
		{"role unknown", protocol.TypeNodeRoleByName, plain("node"), 1,
			`"Failure: prerequisites not met for this operation:\nerror type: ECodeNoEnt, error details:\nNode name node not found"`, 0},
		{"role empty name", protocol.TypeNodeRoleByName, plain(""), 1,
			`"Failure: prerequisites not met for this operation:\nerror type: ECodeNoEnt, error details:\nNode name  not found"`, 0},
		{"role empty query", protocol.TypeNodeRoleByName, empty, 1, `"Invalid query type EmptyQuery"`, 0},
		{"role dict query", protocol.TypeNodeRoleByName, dict(nil, str("x"), []string{"a"}, 0, 2), 1,
			`"Invalid query type DictQuery (ConfdReqQ {confdReqQIp = Just \"x\", confdReqQIpList = [\"a\"], confdReqQLink = Nothing, confdReqQFields = [ReqFieldName,ReqFieldMNodePip]})"`, 0},

		{"pip by ip list", protocol.TypeNodePipByInstanceIP, dict(nil, nil, []string{"192.0.2.101", "192.0.2.102", "198.51.100.200", "1.1.1.1"}), 0,
			`[[0,"192.0.2.82",3190],[1,0,0],[0,"192.0.2.84",3190],[1,0,0]]`, cs},
		{"pip by ip single", protocol.TypeNodePipByInstanceIP, dict(nil, str("192.0.2.103"), nil), 0, `"192.0.2.83"`, cs},
		{"pip by ip single wins over list", protocol.TypeNodePipByInstanceIP, dict(nil, str("192.0.2.103"), []string{"192.0.2.101"}), 0, `"192.0.2.83"`, cs},
		{"pip by ip other link", protocol.TypeNodePipByInstanceIP, dict(str("br100"), str("192.0.2.102"), nil), 0, `"192.0.2.84"`, cs},
		{"pip by ip unknown", protocol.TypeNodePipByInstanceIP, dict(nil, str("192.0.2.102"), nil), 1, `0`, 0},
		{"pip by ip empty dict", protocol.TypeNodePipByInstanceIP, dict(nil, nil, nil), 0, `[]`, cs},
		{"pip by ip plain", protocol.TypeNodePipByInstanceIP, plain("192.0.2.101"), 1, `2`, 0},
		{"pip by ip empty", protocol.TypeNodePipByInstanceIP, empty, 1, `2`, 0},

		{"master", protocol.TypeClusterMaster, empty, 0, `"node1.example.com"`, cs},
		{"master fields", protocol.TypeClusterMaster, dict(nil, nil, nil, 0, 1, 2), 0, `["node1.example.com","192.0.2.87","192.0.2.82"]`, cs},
		{"master fields repeated", protocol.TypeClusterMaster, dict(nil, nil, nil, 2, 2, 0), 0, `["192.0.2.82","192.0.2.82","node1.example.com"]`, cs},
		{"master no fields", protocol.TypeClusterMaster, dict(str("x"), nil, nil), 0, `[]`, cs},
		{"master plain", protocol.TypeClusterMaster, plain("x"), 1, `2`, 0},

		{"node pip list", protocol.TypeNodePipList, empty, 0, `["192.0.2.82","192.0.2.86","192.0.2.85","192.0.2.84","192.0.2.83"]`, cs},
		{"mc pip list", protocol.TypeMcPipList, plain("x"), 0, `["192.0.2.82","192.0.2.84"]`, cs},

		{"ips default link", protocol.TypeInstancesIPsList, empty, 0, `["192.0.2.101","192.0.2.103","198.51.100.200"]`, cs},
		{"ips br100", protocol.TypeInstancesIPsList, plain("br100"), 0, `["192.0.2.102"]`, cs},
		{"ips unknown link", protocol.TypeInstancesIPsList, plain("nosuch"), 0, `[]`, cs},
		{"ips empty link", protocol.TypeInstancesIPsList, plain(""), 0, `[]`, cs},
		{"ips dict", protocol.TypeInstancesIPsList, dict(nil, nil, nil), 1, `"Invalid query type"`, 0},

		{"drbd node1", protocol.TypeNodeDrbd, plain("node1"), 0,
			`[["node1.example.com",0,"instance1.example.com","disk/0","primary","node3.example.com"],["node1.example.com",7,"instance4.example.com","disk/0","secondary","node4.example.com"]]`, 197},
		{"drbd node3", protocol.TypeNodeDrbd, plain("node3.example.com"), 0,
			`[["node3.example.com",0,"instance1.example.com","disk/0","secondary","node1.example.com"]]`, 2},
		{"drbd unknown", protocol.TypeNodeDrbd, plain("nodeX"), 1, `"OpPrereqError \"Node name nodeX not found\" ECodeNoEnt"`, 0},
		{"drbd haskell show", protocol.TypeNodeDrbd, plain("n\u00e9\x01\"x"), 1, `"OpPrereqError \"Node name n\\233\\SOH\\\"x not found\" ECodeNoEnt"`, 0},
		{"drbd empty", protocol.TypeNodeDrbd, empty, 1, `"Invalid query type EmptyQuery"`, 0},

		{"disks unknown", protocol.TypeInstanceDisks, plain("instance9"), 1,
			`"Instance not found in the configuration: OpPrereqError \"Instance name instance9 not found\" ECodeNoEnt"`, 0},
		{"instances unknown", protocol.TypeNodeInstances, plain("nodeX"), 1,
			`"Node not found in the configuration: OpPrereqError \"Node name nodeX not found\" ECodeNoEnt"`, 0},

		{"config query port pool quirk", protocol.TypeConfigQuery, plain("/cluster/tcpudp_port_pool/0x"), 0, `32104`, cs},
		{"config query version", protocol.TypeConfigQuery, plain("/version"), 0, `3000000`, cs},
		{"config query double slash", protocol.TypeConfigQuery, plain("/version//x"), 0, `3000000`, cs},
		{"config query trailing slash", protocol.TypeConfigQuery, plain("/cluster/"), 1, `2`, 0},
		{"config query root", protocol.TypeConfigQuery, plain("/"), 1, `2`, 0},
		{"config query empty", protocol.TypeConfigQuery, plain(""), 1, `2`, 0},
		{"config query no slash", protocol.TypeConfigQuery, plain("cluster"), 1, `2`, 0},
		{"config query //", protocol.TypeConfigQuery, plain("//"), 1, `2`, 0},
		{"config query tilde junk", protocol.TypeConfigQuery, plain("/version~2"), 0, `3000000`, cs},
		{"config query negative index", protocol.TypeConfigQuery, plain("/cluster/tcpudp_port_pool/-1"), 1, `2`, 0},
		{"config query index wraps", protocol.TypeConfigQuery, plain("/cluster/tcpudp_port_pool/18446744073709551616"), 0, `32104`, cs},
		{"config query scalar indexed", protocol.TypeConfigQuery, plain("/version/0"), 1, `2`, 0},
		{"config query dict", protocol.TypeConfigQuery, dict(nil, nil, nil), 1,
			`"Invalid query type DictQuery (ConfdReqQ {confdReqQIp = Nothing, confdReqQIpList = [], confdReqQLink = Nothing, confdReqQFields = []})"`, 0},

		{"data collectors", protocol.TypeDataCollectors, empty, 0,
			`{"cpu-avg-load":{"active":true,"interval":5000000},"diskstats":{"active":true,"interval":5000000},"drbd":{"active":true,"interval":5000000},"inst-status-xen":{"active":true,"interval":5000000},"lv":{"active":true,"interval":5000000},"xen-cpu-avg-load":{"active":true,"interval":5000000}}`, cs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := protocol.Request{Protocol: 1, Type: tt.typ, Query: tt.q}
			res := Answer(snap, &req, nil)
			if res.NoReply {
				t.Fatal("no reply")
			}
			if res.Status != tt.status || res.Serial != tt.serial {
				t.Errorf("status, serial = %d, %d; want %d, %d", res.Status, res.Serial, tt.status, tt.serial)
			}
			assertJSONEqual(t, res.Answer, tt.answer)
		})
	}
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer %s is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad test: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("answer = %s\nwant     %s", got, want)
	}
}

func TestNodeInstancesAndDisks(t *testing.T) {
	snap := loadRich(t)
	req := protocol.Request{Type: protocol.TypeNodeInstances, Query: plain("node1")}
	res := Answer(snap, &req, nil)
	var lists [2][]map[string]any
	if err := json.Unmarshal(res.Answer, &lists); err != nil {
		t.Fatalf("%s: %v", res.Answer, err)
	}
	names := func(l []map[string]any) (out []string) {
		for _, o := range l {
			out = append(out, o["name"].(string))
		}
		return out
	}
	if got := names(lists[0]); !reflect.DeepEqual(got, []string{"instance1.example.com"}) {
		t.Errorf("primaries = %v", got)
	}
	if got := names(lists[1]); !reflect.DeepEqual(got, []string{"instance4.example.com"}) {
		t.Errorf("secondaries = %v", got)
	}
	if res.Serial != 197 {
		t.Errorf("serial = %d, want node1's 197", res.Serial)
	}

	req = protocol.Request{Type: protocol.TypeInstanceDisks, Query: plain("instance1")}
	res = Answer(snap, &req, nil)
	var disks []map[string]any
	if err := json.Unmarshal(res.Answer, &disks); err != nil {
		t.Fatalf("%s: %v", res.Answer, err)
	}
	if len(disks) != 1 || disks[0]["dev_type"] != "drbd" || len(disks[0]["children"].([]any)) != 2 {
		t.Fatalf("disks = %s", res.Answer)
	}
	if lid := disks[0]["logical_id"].([]any); len(lid) != 6 || lid[5] == "" {
		t.Errorf("logical_id = %v", lid)
	}
}

func TestUnavailable(t *testing.T) {
	res := Unavailable("Configuration not yet loaded", nil)
	if res.Status != protocol.StatusError || res.Serial != 0 || string(res.Answer) != `"Configuration not yet loaded"` {
		t.Fatalf("Unavailable = %+v", res)
	}
}

func TestAnswerAllocs(t *testing.T) {
	snap := loadRich(t)
	buf := make([]byte, 0, 65536)
	reqs := []protocol.Request{
		{Type: protocol.TypePing},
		{Type: protocol.TypeNodeRoleByName, Query: plain("node1.example.com")},
		{Type: protocol.TypeClusterMaster, Query: dict(nil, nil, nil, 0, 1, 2)},
		{Type: protocol.TypeNodePipByInstanceIP, Query: dict(nil, nil, []string{"192.0.2.101", "1.1.1.1"})},
		{Type: protocol.TypeInstancesIPsList, Query: empty},
		{Type: protocol.TypeNodeDrbd, Query: plain("node1")},
		{Type: protocol.TypeNodeInstances, Query: plain("node1")},
		{Type: protocol.TypeInstanceDisks, Query: plain("instance1")},
		{Type: protocol.TypeConfigQuery, Query: plain("/cluster/nicparams")},
	}
	for _, req := range reqs {
		allocs := testing.AllocsPerRun(50, func() { Answer(snap, &req, buf) })
		if allocs != 0 {
			t.Errorf("%v allocates %v times per answer, want 0", req.Type, allocs)
		}
	}
}

func BenchmarkAnswer(b *testing.B) {
	snap := loadRich(b)
	buf := make([]byte, 0, 65536)
	for _, bc := range []struct {
		name string
		req  protocol.Request
	}{
		{"ping", protocol.Request{Type: protocol.TypePing}},
		{"cluster-master-fields", protocol.Request{Type: protocol.TypeClusterMaster, Query: dict(nil, nil, nil, 0, 1, 2)}},
		{"node-role", protocol.Request{Type: protocol.TypeNodeRoleByName, Query: plain("node3")}},
		{"pip-by-ip-list", protocol.Request{Type: protocol.TypeNodePipByInstanceIP, Query: dict(nil, nil, []string{"192.0.2.101", "198.51.100.200"})}},
		{"config-query-cluster", protocol.Request{Type: protocol.TypeConfigQuery, Query: plain("/cluster")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Answer(snap, &bc.req, buf)
			}
		})
	}
}
