package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

func TestPartialIndex(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		// want maps each prefix to the name it must index, "" for a
		// prefix that names several (nil in the index).
		want map[string]string
	}{
		{name: "empty", names: nil, want: map[string]string{}},
		{name: "no dots", names: []string{"a", "b"}, want: map[string]string{}},
		{name: "every dotted prefix", names: []string{"node1.example.com"},
			want: map[string]string{"node1": "node1.example.com", "node1.example": "node1.example.com"}},
		{name: "shared prefix is ambiguous", names: []string{"web1.example.com", "web1.example.org"},
			want: map[string]string{"web1": "", "web1.example": ""}},
		{name: "leading dot gives the empty prefix", names: []string{".hidden"},
			want: map[string]string{"": ".hidden"}},
		{name: "trailing dot", names: []string{"a."}, want: map[string]string{"a": "a."}},
		{name: "a full name is also another's prefix", names: []string{"web", "web.example.com"},
			want: map[string]string{"web": "web.example.com", "web.example": "web.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byName := make(map[string]*string, len(tt.names))
			for _, n := range tt.names {
				byName[n] = &n
			}
			got := partialIndex(byName)
			if len(got) != len(tt.want) {
				t.Fatalf("partialIndex has %d prefixes %v, want %d", len(got), got, len(tt.want))
			}
			for p, w := range tt.want {
				item, ok := got[p]
				switch {
				case !ok:
					t.Errorf("prefix %q missing", p)
				case w == "" && item != nil:
					t.Errorf("prefix %q names %q, want ambiguous (nil)", p, *item)
				case w != "" && (item == nil || *item != w):
					t.Errorf("prefix %q names %v, want %q", p, item, w)
				}
			}
		})
	}
}

// setMember sets doc's member at the path of object keys to v.
func setMember(v tjson.Value, path ...string) func(doc *tjson.Value) {
	return func(doc *tjson.Value) {
		cur := doc
		for _, k := range path[:len(path)-1] {
			cur, _ = cur.Get(k)
		}
		last := path[len(path)-1]
		for i := range cur.Obj {
			if cur.Obj[i].Key == last {
				cur.Obj[i].Val = v
				return
			}
		}
		cur.Obj = append(cur.Obj, tjson.Member{Key: last, Val: v})
	}
}

// strValue is the JSON string s.
func strValue(s string) tjson.Value { return tjson.Value{Kind: tjson.String, Str: s} }

const (
	node1UUID = "9a12d554-75c0-4cb1-8064-103365145db0"
	node2UUID = "2ae3d962-2dad-44f2-bdb1-85f77107f907"
	node3UUID = "41f9c238-173c-4120-9e41-04ad379b647a"
	inst1UUID = "6c078d22-3eb6-4780-857d-81772e09eef1"
	inst3UUID = "4e091bdc-e205-4ed7-8a47-0c9130a6619f"
)

func TestBuildNodes(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(doc *tjson.Value)
		wantPips  string
		wantMC    string
		wantNames map[string]string // name → key in nodeByName
	}{
		{name: "rich: lists by key descending",
			wantPips:  `["192.0.2.82","192.0.2.86","192.0.2.85","192.0.2.84","192.0.2.83"]`,
			wantMC:    `["192.0.2.82","192.0.2.84"]`,
			wantNames: map[string]string{"node1.example.com": node1UUID, "node3.example.com": node3UUID}},
		{name: "colliding names: the greatest key wins",
			edit:      setMember(strValue("node3.example.com"), "nodes", node2UUID, "name"),
			wantPips:  `["192.0.2.82","192.0.2.86","192.0.2.85","192.0.2.84","192.0.2.83"]`,
			wantMC:    `["192.0.2.82","192.0.2.84"]`,
			wantNames: map[string]string{"node3.example.com": node3UUID}},
		{name: "master candidate flag read",
			edit:     setMember(tjson.Value{Kind: tjson.Bool, Bool: true}, "nodes", node2UUID, "master_candidate"),
			wantPips: `["192.0.2.82","192.0.2.86","192.0.2.85","192.0.2.84","192.0.2.83"]`,
			wantMC:   `["192.0.2.82","192.0.2.84","192.0.2.83"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseRichEdited(t, tt.edit)
			if got := string(s.NodePipListJSON()); got != tt.wantPips {
				t.Errorf("NODE_PIP_LIST %s, want %s", got, tt.wantPips)
			}
			if got := string(s.McPipListJSON()); got != tt.wantMC {
				t.Errorf("MC_PIP_LIST %s, want %s", got, tt.wantMC)
			}
			for i := 1; i < len(s.nodes); i++ {
				if s.nodes[i-1].Key >= s.nodes[i].Key {
					t.Errorf("nodes not in ascending key order: %q before %q", s.nodes[i-1].Key, s.nodes[i].Key)
				}
			}
			for _, n := range s.nodes {
				if s.nodeByKey[n.Key] != n {
					t.Errorf("nodeByKey[%q] is not the node", n.Key)
				}
			}
			for name, key := range tt.wantNames {
				if n := s.nodeByName[name]; n == nil || n.Key != key {
					t.Errorf("nodeByName[%q] = %v, want the node of key %q", name, n, key)
				}
			}
		})
	}
}

func TestBuildInstances(t *testing.T) {
	tests := []struct {
		name         string
		edit         func(doc *tjson.Value)
		inst         string // key
		wantByName   string // name under which instByName finds it, or "" for none
		wantDisksErr string
		// wantLookup is true when the disks error is the failed lookup
		// of the instance's own uuid (errors.As finds a LookupError).
		wantLookup bool
	}{
		{name: "rich", inst: inst1UUID, wantByName: "instance1.example.com"},
		{name: "missing disk", inst: inst3UUID, wantByName: "instance3.example.com",
			edit:         setMember(tjson.Value{Kind: tjson.Array, Arr: []tjson.Value{strValue("no-such-disk")}}, "instances", inst3UUID, "disks"),
			wantDisksErr: `Could not retrieve disks: OpPrereqError "Disk uuid no-such-disk not found" ECodeNoEnt`},
		{name: "uuid naming no instance", inst: inst3UUID, wantByName: "instance3.example.com",
			edit:         setMember(strValue("other-uuid"), "instances", inst3UUID, "uuid"),
			wantDisksErr: `Could not retrieve disks: OpPrereqError "Instance name other-uuid not found" ECodeNoEnt`,
			wantLookup:   true},
		{name: "empty name is not indexed", inst: inst3UUID,
			edit: setMember(strValue(""), "instances", inst3UUID, "name")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseRichEdited(t, tt.edit)
			inst := s.instByKey[tt.inst]
			if inst == nil {
				t.Fatalf("instByKey[%q] missing", tt.inst)
			}
			if tt.wantByName != "" && s.instByName[tt.wantByName] != inst {
				t.Errorf("instByName[%q] is not the instance", tt.wantByName)
			}
			if tt.wantByName == "" {
				if _, ok := s.instByName[""]; ok {
					t.Errorf("instByName has the empty name")
				}
			}
			answer, derr := inst.AppendDisks(nil)
			switch {
			case tt.wantDisksErr == "" && derr != nil:
				t.Errorf("AppendDisks error %q, want none", derr)
			case tt.wantDisksErr != "" && derr == nil:
				t.Errorf("AppendDisks = %s, nil; want error %q", answer, tt.wantDisksErr)
			case derr != nil:
				if got := derr.Error(); got != tt.wantDisksErr {
					t.Errorf("AppendDisks error %q, want %q", got, tt.wantDisksErr)
				}
				if len(answer) != 0 {
					t.Errorf("AppendDisks appended %s with its error", answer)
				}
				var le *LookupError
				if got := errors.As(derr, &le); got != tt.wantLookup {
					t.Errorf("errors.As(AppendDisks error, *LookupError) = %v, want %v", got, tt.wantLookup)
				}
			}
			if tt.wantDisksErr == "" && len(inst.disks) != len(inst.facts.disks) {
				t.Errorf("%d disks resolved, want %d", len(inst.disks), len(inst.facts.disks))
			}
		})
	}
}

func TestBuildNodeInstances(t *testing.T) {
	names := func(is []*Instance) string {
		var out []string
		for _, i := range is {
			out = append(out, i.Name)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		node                           string
		wantPrimaries, wantSecondaries string
	}{
		{node: "node1.example.com", wantPrimaries: "instance1.example.com", wantSecondaries: "instance4.example.com"},
		{node: "node2.example.com", wantPrimaries: "instance3.example.com"},
		{node: "node3.example.com", wantPrimaries: "instance2.example.com", wantSecondaries: "instance1.example.com"},
		{node: "node4.example.com", wantPrimaries: "instance4.example.com"},
		{node: "node5.example.com"},
	}
	s := parseRichEdited(t, nil)
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			n, lerr := s.node(tt.node)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if got := names(n.primaries); got != tt.wantPrimaries {
				t.Errorf("primaries %q, want %q", got, tt.wantPrimaries)
			}
			if got := names(n.secondaries); got != tt.wantSecondaries {
				t.Errorf("secondaries %q, want %q", got, tt.wantSecondaries)
			}
		})
	}
}

func TestBuildMaster(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(doc *tjson.Value)
		wantName string
		wantErr  string
	}{
		{name: "by uuid", wantName: `"node1.example.com"`},
		{name: "by name", edit: setMember(strValue("node3.example.com"), "cluster", "master_node"), wantName: `"node3.example.com"`},
		{name: "names no node", edit: setMember(strValue("gone"), "cluster", "master_node"),
			wantErr: `OpPrereqError "Node name gone not found" ECodeNoEnt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseRichEdited(t, tt.edit)
			n, lerr := s.Master()
			if tt.wantErr != "" {
				if lerr == nil || lerr.Error() != tt.wantErr || n != nil || s.MasterNameJSON() != nil {
					t.Fatalf("Master() = %v, %v (name %s), want error %s", n, lerr, s.MasterNameJSON(), tt.wantErr)
				}
				return
			}
			if lerr != nil {
				t.Fatal(lerr)
			}
			if got := string(s.MasterNameJSON()); got != tt.wantName {
				t.Errorf("MasterNameJSON %s, want %s", got, tt.wantName)
			}
		})
	}
}

func TestDataCollectorsJSON(t *testing.T) {
	const all = `"cpu-avg-load":{"active":true,"interval":5000000},"diskstats":{"active":true,"interval":5000000},"drbd":{"active":true,"interval":5000000},`
	tests := []struct {
		name    string
		cluster string
		want    string
	}{
		{name: "defaults, no xen", cluster: `{}`,
			want: `{` + all + `"inst-status-xen":{"active":false,"interval":5000000},"lv":{"active":true,"interval":5000000},"xen-cpu-avg-load":{"active":true,"interval":5000000}}`},
		{name: "xen enables inst-status-xen", cluster: `{"enabled_hypervisors":["kvm","xen-hvm"]}`,
			want: `{` + all + `"inst-status-xen":{"active":true,"interval":5000000},"lv":{"active":true,"interval":5000000},"xen-cpu-avg-load":{"active":true,"interval":5000000}}`},
		{name: "configured collector", cluster: `{"enabled_hypervisors":["xen-pvm"],"data_collectors":{"lv":{"active":false,"interval":250}}}`,
			want: `{` + all + `"inst-status-xen":{"active":true,"interval":5000000},"lv":{"active":false,"interval":250},"xen-cpu-avg-load":{"active":true,"interval":5000000}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tjson.Parse([]byte(tt.cluster), tjson.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(dataCollectorsJSON(&c)); got != tt.want {
				t.Errorf("dataCollectorsJSON\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestIndexBigObjects(t *testing.T) {
	obj := func(n int, dupFirst bool) tjson.Value {
		v := tjson.Value{Kind: tjson.Object}
		for i := range n {
			v.Obj = append(v.Obj, tjson.Member{Key: "k" + itoa(i), Val: tjson.Value{Kind: tjson.Number, Str: itoa(i)}})
		}
		if dupFirst {
			v.Obj = append(v.Obj, tjson.Member{Key: "k0", Val: tjson.Value{Kind: tjson.Number, Str: "dup"}})
		}
		return v
	}
	tests := []struct {
		name    string
		v       tjson.Value
		indexed bool
	}{
		{name: "small object", v: obj(31, false)},
		{name: "large object", v: obj(32, false), indexed: true},
		{name: "large object, duplicate key", v: obj(40, true), indexed: true},
		{name: "large object inside an array", v: tjson.Value{Kind: tjson.Array, Arr: []tjson.Value{obj(33, false)}}, indexed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Snapshot
			s.indexBigObjects(&tt.v)
			if got := len(s.bigObjects) == 1; got != tt.indexed {
				t.Fatalf("%d objects indexed, want indexed=%v", len(s.bigObjects), tt.indexed)
			}
			target := &tt.v
			if tt.v.Kind == tjson.Array {
				target = &tt.v.Arr[0]
			}
			// Through the index or not, get finds the first member.
			got, ok := s.get(target, "k0")
			if !ok || got.Str != "0" {
				t.Errorf("get(k0) = %v, %v; want the first k0", got, ok)
			}
			if _, ok := s.get(target, "absent"); ok {
				t.Errorf("get(absent) found a member")
			}
		})
	}
}
