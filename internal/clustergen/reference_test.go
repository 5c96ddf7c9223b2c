package clustergen

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/goconfd/goconfd/internal/clustergen/reftest"
)

// Request types (docs/protocol.md §2.3).
const (
	reqPing             = 0
	reqNodeRoleByName   = 1
	reqNodePipByInstIP  = 2
	reqClusterMaster    = 3
	reqNodePipList      = 4
	reqMcPipList        = 5
	reqInstancesIPsList = 6
	reqNodeDrbd         = 7
	reqNodeInstances    = 8
	reqInstanceDisks    = 9
	reqConfigQuery      = 10
	reqDataCollectors   = 11
	errArgument         = 2
	errUnknownEntry     = 0
	configVersion       = 3000000
)

// normalize returns v as encoding/json decodes it, so that expected values
// compare with decoded answers.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %v: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return out
}

// refChecker asks the reference server and compares with predictions.
type refChecker struct {
	t   *testing.T
	srv *reftest.Server
}

func (c refChecker) ask(typ int, query any) reftest.Reply {
	c.t.Helper()
	r, err := c.srv.Query(typ, query)
	if err != nil {
		c.t.Fatalf("type %d %v: %v", typ, query, err)
	}
	if !r.Replied {
		c.t.Fatalf("type %d %v: no (valid) reply", typ, query)
	}
	return r
}

// expect checks status, serial and answer (compared as decoded JSON).
func (c refChecker) expect(typ int, query any, status int, answer any, serial int) {
	c.t.Helper()
	r := c.ask(typ, query)
	var got any
	if err := json.Unmarshal(r.Answer, &got); err != nil {
		c.t.Fatalf("type %d %v: answer %s: %v", typ, query, r.Answer, err)
	}
	want := normalize(c.t, answer)
	if r.Status != status || r.Serial != serial || !reflect.DeepEqual(got, want) {
		c.t.Errorf("type %d %v:\n got [%d, %s, %d]\nwant [%d, %s, %d]\ndifferences: %v", typ, query,
			r.Status, trim(r.Answer), r.Serial, status, trim(mustJSON(want)), serial, diffJSON(got, want, ""))
	}
}

// diffJSON lists the paths where two decoded JSON values differ.
func diffJSON(a, b any, path string) []string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		var out []string
		for k, x := range av {
			if y, ok := bv[k]; ok {
				out = append(out, diffJSON(x, y, path+"/"+k)...)
			} else {
				out = append(out, path+"/"+k+" only in the answer")
			}
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				out = append(out, path+"/"+k+" missing from the answer")
			}
		}
		return out
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		var out []string
		for i := range av {
			out = append(out, diffJSON(av[i], bv[i], fmt.Sprintf("%s/%d", path, i))...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s vs %s", path, trim(mustJSON(a)), trim(mustJSON(b)))}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func trim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func asciiName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TestReferenceServer loads generated configs into the real Ganeti 3.0.2
// ganeti-confd and checks its answers against the facts.
func TestReferenceServer(t *testing.T) {
	reftest.Require(t)
	medium := Default()
	medium.Seed, medium.Nodes, medium.Instances, medium.NodeGroups, medium.Links, medium.Networks = 7, 100, 2000, 4, 3, 2
	with := func(f func(*Options)) Options {
		o := Default()
		f(&o)
		return o
	}
	tests := []struct {
		name string
		opts Options
		// full: every answer (names are ASCII); otherwise only the
		// answers that contain no non-ASCII text (docs/protocol.md §1.5).
		full bool
	}{
		{"small", Default(), true},
		{"medium", medium, true},
		{"demo", Demo(), true},
		{"ipv6", with(func(o *Options) { o.IPv6 = true }), true},
		{"omit-optional", with(func(o *Options) { o.OmitOptional = true }), true},
		{"flat-drbd", with(func(o *Options) { o.FlatDRBD = true; o.DRBDFraction = 0.8; o.FileFraction = 0.2 }), true},
		{"xen", with(func(o *Options) { o.Hypervisor = "xen-pvm"; o.Nodes = 12; o.Links = 4 }), true},
		{"non-ascii", with(func(o *Options) { o.NonASCII = true }), false},
		{"non-ascii-escaped", with(func(o *Options) { o.NonASCII, o.ASCIIOnly = true, true }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.name != "small" && tt.name != "medium" {
				t.Skip("-short: only the small and medium clusters")
			}
			t.Parallel()
			b, f, err := Generate(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			srv := reftest.Start(t, b, nil, false)
			c := refChecker{t, srv}
			checkReference(t, c, tt.opts, parse(t, b), f, tt.full)
		})
	}
}

func checkReference(t *testing.T, c refChecker, o Options, doc obj, f *Facts, full bool) {
	cs := f.ClusterSerial
	c.expect(reqPing, reftest.NoQuery, 0, configVersion, 0)

	// Roles, by exact name; drained wins over offline.
	seenRole := map[Role]int{}
	for _, n := range f.Nodes {
		if !asciiName(n.Name) || seenRole[n.Role] >= 3 {
			continue
		}
		seenRole[n.Role]++
		c.expect(reqNodeRoleByName, n.Name, 0, int(n.Role), cs)
	}
	c.expect(reqNodeRoleByName, f.MasterUUID, 0, int(RoleCandidate), cs)
	c.expect(reqClusterMaster, map[string]any{"3": []int{0, 1, 2}}, 0, []string{f.MasterName, f.MasterIP, f.MasterPrimaryIP}, cs)
	c.expect(reqNodePipList, reftest.NoQuery, 0, f.NodePIPList(), cs)
	c.expect(reqMcPipList, reftest.NoQuery, 0, f.MCPIPList(), cs)

	// IPs per link, and IP → primary node's IP.
	c.expect(reqInstancesIPsList, reftest.NoQuery, 0, f.InstanceIPs(f.DefaultLink), cs)
	for _, l := range f.Links {
		c.expect(reqInstancesIPsList, l, 0, f.InstanceIPs(l), cs)
	}
	c.expect(reqInstancesIPsList, "nosuch", 0, []string{}, cs)
	var batch []string
	var batchWant []any
	for _, l := range f.Links {
		ips := f.InstanceIPs(l)
		probe := append([]string{}, f.DuplicateIPs()[l]...)
		if len(ips) > 0 {
			probe = append(probe, ips[0], ips[len(ips)-1])
		}
		for i, ip := range probe {
			if i >= 6 {
				break
			}
			pip, ok := f.NodePIPByInstanceIP(l, ip)
			if !ok {
				t.Fatalf("facts: %s on %s has no owner", ip, l)
			}
			c.expect(reqNodePipByInstIP, map[string]any{"0": l, "1": ip}, 0, pip, cs)
			if l == f.DefaultLink {
				batch = append(batch, ip)
				batchWant = append(batchWant, []any{0, pip, cs})
			}
		}
	}
	c.expect(reqNodePipByInstIP, map[string]any{"1": "192.0.2.255"}, 1, errUnknownEntry, 0)
	batch = append(batch, "192.0.2.255")
	batchWant = append(batchWant, []any{1, 0, 0})
	c.expect(reqNodePipByInstIP, map[string]any{"2": batch}, 0, batchWant, cs)

	// Data collectors.
	dcs := map[string]any{}
	for name, dc := range f.Collectors() {
		dcs[name] = map[string]any{"active": dc.Active, "interval": dc.Interval.Microseconds()}
	}
	c.expect(reqDataCollectors, reftest.NoQuery, 0, dcs, cs)

	// Config pointers.
	c.expect(reqConfigQuery, "/version", 0, configVersion, cs)
	c.expect(reqConfigQuery, "/cluster/master_node", 0, f.MasterUUID, cs)
	c.expect(reqConfigQuery, "/cluster/serial_no", 0, cs, cs)
	c.expect(reqConfigQuery, "/cluster/nicparams/default/link", 0, f.DefaultLink, cs)
	c.expect(reqConfigQuery, "/nosuch", 1, errArgument, 0)
	if !full {
		return
	}
	c.expect(reqConfigQuery, "/cluster/cluster_name", 0, f.ClusterName, cs)

	// DRBD, node instances, instance disks: the master, and the nodes of
	// the first DRBD disk.
	probeNodes := []string{f.MasterUUID}
	var drbdInst, otherInst *InstanceFact
	for i := range f.Instances {
		in := &f.Instances[i]
		switch {
		case in.Disks[0].DevType == DevDRBD && drbdInst == nil:
			drbdInst = in
			probeNodes = append(probeNodes, in.Disks[0].NodeA, in.Disks[0].NodeB)
		case in.Disks[0].DevType != DevDRBD && otherInst == nil:
			otherInst = in
		}
	}
	docInstances, docDisks := object(doc["instances"]), object(doc["disks"])
	for _, uuid := range probeNodes {
		n, _ := f.Node(uuid)
		rows := [][]any{}
		for _, r := range f.DRBDRows(uuid) {
			rows = append(rows, r.Tuple())
		}
		c.expect(reqNodeDrbd, n.Name, 0, rows, n.Serial)

		prim, sec := f.NodeInstances(uuid)
		r := c.ask(reqNodeInstances, n.Name)
		var got [2][]obj
		if err := json.Unmarshal(r.Answer, &got); err != nil || r.Status != 0 || r.Serial != n.Serial {
			t.Fatalf("node_instances %s: [%d, %s, %d]: %v", n.Name, r.Status, trim(r.Answer), r.Serial, err)
		}
		for k, want := range [][]string{prim, sec} {
			var uuids []string
			for _, in := range got[k] {
				uuids = append(uuids, str(in["uuid"]))
				if want := docInstances[str(in["uuid"])]; !o.OmitOptional && !reflect.DeepEqual(any(in), want) {
					t.Errorf("node_instances %s: instance %s differs from the config: %v",
						n.Name, in["uuid"], diffJSON(any(in), want, ""))
				}
			}
			if fmt.Sprint(uuids) != fmt.Sprint(want) {
				t.Errorf("node_instances %s list %d: got %v, want %v", n.Name, k, uuids, want)
			}
		}
	}
	for _, in := range []*InstanceFact{drbdInst, otherInst} {
		if in == nil {
			continue
		}
		var want []any
		for _, d := range in.Disks {
			want = append(want, docDisks[d.UUID])
		}
		if o.OmitOptional {
			r := c.ask(reqInstanceDisks, in.Name)
			var got []obj
			if err := json.Unmarshal(r.Answer, &got); err != nil || len(got) != len(in.Disks) || r.Serial != in.Serial {
				t.Errorf("instance_disks %s: [%d, %s, %d]", in.Name, r.Status, trim(r.Answer), r.Serial)
			}
			continue
		}
		c.expect(reqInstanceDisks, in.Name, 0, want, in.Serial)
	}

	// The config as the server's object model writes it is the file: check
	// one object of each kind, and the cluster.
	if o.OmitOptional {
		return
	}
	c.expect(reqConfigQuery, "/cluster", 0, doc["cluster"], cs)
	for _, kind := range []string{"nodes", "nodegroups", "instances", "networks", "disks"} {
		for key, v := range object(doc[kind]) {
			c.expect(reqConfigQuery, "/"+kind+"/"+key, 0, v, cs)
			break
		}
	}
}
