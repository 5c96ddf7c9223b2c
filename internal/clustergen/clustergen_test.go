package clustergen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
)

// variants are the option sets every structural test runs on.
func variants() []struct {
	name string
	opts Options
} {
	with := func(f func(*Options)) Options {
		o := Default()
		f(&o)
		return o
	}
	return []struct {
		name string
		opts Options
	}{
		{"default", Default()},
		{"demo", Demo()},
		{"one-node", with(func(o *Options) { o.Nodes, o.NodeGroups, o.Instances = 1, 1, 5 })},
		{"two-nodes", with(func(o *Options) { o.Nodes, o.NodeGroups, o.Instances = 2, 2, 9 })},
		{"no-instances", with(func(o *Options) { o.Instances = 0 })},
		{"ipv6", with(func(o *Options) { o.IPv6 = true })},
		{"non-ascii", with(func(o *Options) { o.NonASCII = true })},
		{"non-ascii-escaped", with(func(o *Options) { o.NonASCII, o.ASCIIOnly = true, true })},
		{"omit-optional", with(func(o *Options) { o.OmitOptional = true })},
		{"flat-drbd", with(func(o *Options) { o.FlatDRBD = true })},
		{"all-drbd", with(func(o *Options) { o.DRBDFraction, o.FileFraction, o.MaxDisks = 1, 0, 4 })},
		{"no-drbd", with(func(o *Options) { o.DRBDFraction, o.FileFraction = 0, 0.5 })},
		{"wide", with(func(o *Options) {
			o.Nodes, o.NodeGroups, o.Links, o.Networks, o.Instances = 40, 5, 6, 3, 300
			o.Hypervisor = "xen-pvm"
		})},
		{"indent", with(func(o *Options) { o.Indent = true })},
	}
}

// Members of each object of the 3.0 object model (src/Ganeti/Objects.hs,
// src/Ganeti/Objects/{Instance,Nic,Disk}.hs): required ones, and the
// optional or defaulted ones. Ganeti refuses any other member.
var schema = map[string]struct{ required, optional []string }{
	"config": {
		[]string{"version", "cluster", "nodes", "nodegroups", "instances", "networks", "disks", "filters", "serial_no"},
		[]string{"ctime", "mtime"},
	},
	"cluster": {
		[]string{"rsahostkeypub", "highest_used_port", "tcpudp_port_pool", "mac_prefix", "reserved_lvs",
			"master_node", "master_ip", "master_netdev", "master_netmask", "use_external_mip_script",
			"cluster_name", "file_storage_dir", "shared_file_storage_dir", "gluster_storage_dir",
			"enabled_hypervisors", "hvparams", "os_hvp", "beparams", "osparams", "osparams_private_cluster",
			"nicparams", "ndparams", "diskparams", "candidate_pool_size", "modify_etc_hosts",
			"modify_ssh_setup", "maintain_node_health", "uid_pool", "default_iallocator",
			"default_iallocator_params", "hidden_os", "blacklisted_os", "primary_ip_family",
			"prealloc_wipe_disks", "ipolicy", "enabled_disk_templates", "candidate_certs",
			"max_running_jobs", "max_tracked_jobs", "install_image", "instance_communication_network",
			"zeroing_image", "compression_tools", "enabled_user_shutdown", "data_collectors",
			"ssh_key_type", "ssh_key_bits", "uuid", "serial_no"},
		[]string{"dsahostkeypub", "volume_group_name", "drbd_usermode_helper", "hv_state_static",
			"disk_state_static", "ctime", "mtime", "tags"},
	},
	"node": {
		[]string{"name", "primary_ip", "secondary_ip", "master_candidate", "offline", "drained", "group",
			"master_capable", "vm_capable", "ndparams", "powered", "uuid", "serial_no"},
		[]string{"hv_state_static", "disk_state_static", "ctime", "mtime", "tags"},
	},
	"nodegroup": {
		[]string{"name", "ndparams", "alloc_policy", "ipolicy", "diskparams", "networks", "uuid", "serial_no"},
		[]string{"members", "hv_state_static", "disk_state_static", "ctime", "mtime", "tags"},
	},
	"instance": {
		[]string{"name", "primary_node", "os", "hypervisor", "admin_state", "admin_state_source",
			"disks_active", "uuid", "serial_no"},
		[]string{"hvparams", "beparams", "osparams", "osparams_private", "nics", "disks", "network_port",
			"ctime", "mtime", "tags", "forthcoming"},
	},
	"nic": {
		[]string{"mac", "nicparams", "uuid"},
		[]string{"ip", "network", "name"},
	},
	"disk": {
		[]string{"logical_id", "dev_type", "size", "uuid", "serial_no"},
		[]string{"children", "nodes", "iv_name", "mode", "name", "spindles", "params", "ctime", "mtime", "forthcoming"},
	},
	"network": {
		[]string{"name", "network", "uuid", "serial_no"},
		[]string{"mac_prefix", "network6", "gateway", "gateway6", "reservations", "ext_reservations",
			"ctime", "mtime", "tags"},
	},
}

type obj = map[string]any

func checkMembers(t *testing.T, kind, where string, o obj) {
	t.Helper()
	s := schema[kind]
	for _, k := range s.required {
		if _, ok := o[k]; !ok {
			t.Errorf("%s: %s lacks required member %q", where, kind, k)
		}
	}
	for k := range o {
		if !slices.Contains(s.required, k) && !slices.Contains(s.optional, k) {
			t.Errorf("%s: %s has unknown member %q", where, kind, k)
		}
	}
}

func parse(t testing.TB, b []byte) obj {
	t.Helper()
	var doc obj
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("generated config is not JSON: %v", err)
	}
	return doc
}

func str(v any) string   { s, _ := v.(string); return s }
func num(v any) int      { f, _ := v.(float64); return int(f) }
func boolean(v any) bool { b, _ := v.(bool); return b }
func list(v any) []any   { l, _ := v.([]any); return l }
func object(v any) obj   { o, _ := v.(obj); return o }
func strList(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

// TestGenerate checks, for every variant, that the document is JSON with
// exactly the members Ganeti allows, that the invariants of a real cluster
// hold, and that the facts describe the document.
func TestGenerate(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			b, f, err := Generate(v.opts)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if f.Size != len(b) {
				t.Errorf("Facts.Size = %d, len = %d", f.Size, len(b))
			}
			if v.opts.ASCIIOnly {
				if i := bytes.IndexFunc(b, func(r rune) bool { return r >= 0x80 }); i >= 0 {
					t.Errorf("ASCIIOnly output has a non-ASCII byte at %d", i)
				}
			}
			if v.opts.Indent != bytes.Contains(b, []byte("\n  ")) {
				t.Errorf("Indent = %v, but output indentation disagrees", v.opts.Indent)
			}
			doc := parse(t, b)
			checkDocument(t, v.opts, doc, f)
		})
	}
}

func checkDocument(t *testing.T, o Options, doc obj, f *Facts) {
	t.Helper()
	checkMembers(t, "config", "top level", doc)
	cl := object(doc["cluster"])
	checkMembers(t, "cluster", "cluster", cl)
	nodes, groups := object(doc["nodes"]), object(doc["nodegroups"])
	instances, disks := object(doc["instances"]), object(doc["disks"])
	networks := object(doc["networks"])

	uuids := map[string]string{}
	addUUID := func(u, what string) {
		if u == "" {
			t.Errorf("%s has an empty uuid", what)
		}
		if prev, dup := uuids[u]; dup {
			t.Errorf("uuid %s used by %s and %s", u, prev, what)
		}
		uuids[u] = what
	}
	addUUID(str(cl["uuid"]), "cluster")

	// Scalars the facts promise.
	if num(doc["version"]) != 3000000 || num(doc["serial_no"]) != f.Serial || num(cl["serial_no"]) != f.ClusterSerial {
		t.Errorf("version/serials = %v/%v/%v, facts %d/%d", doc["version"], doc["serial_no"], cl["serial_no"], f.Serial, f.ClusterSerial)
	}
	if str(cl["master_node"]) != f.MasterUUID || str(cl["master_ip"]) != f.MasterIP ||
		str(cl["cluster_name"]) != f.ClusterName || num(cl["primary_ip_family"]) != f.IPFamily {
		t.Errorf("cluster master/ip/name/family disagree with facts")
	}
	if link := str(object(object(cl["nicparams"])["default"])["link"]); link != f.DefaultLink || link != f.Links[0] {
		t.Errorf("default link %q, facts %q", link, f.DefaultLink)
	}
	if got := strList(cl["enabled_hypervisors"]); !slices.Equal(got, []string{f.Hypervisor}) {
		t.Errorf("enabled_hypervisors = %v, facts %q", got, f.Hypervisor)
	}
	if len(object(cl["data_collectors"])) != len(f.DataCollectors) {
		t.Errorf("data_collectors has %d entries, facts %d", len(object(cl["data_collectors"])), len(f.DataCollectors))
	}

	// Groups.
	if len(groups) != len(f.Groups) {
		t.Fatalf("%d groups, facts %d", len(groups), len(f.Groups))
	}
	groupNames := map[string]bool{}
	for key, gv := range groups {
		g := object(gv)
		checkMembers(t, "nodegroup", "group "+key, g)
		addUUID(key, "group "+key)
		if str(g["uuid"]) != key {
			t.Errorf("group %s has uuid %v", key, g["uuid"])
		}
		if groupNames[str(g["name"])] {
			t.Errorf("group name %q repeated", g["name"])
		}
		groupNames[str(g["name"])] = true
		for netUUID := range object(g["networks"]) {
			if _, ok := networks[netUUID]; !ok {
				t.Errorf("group %s connects unknown network %s", key, netUUID)
			}
		}
	}

	// Nodes.
	if len(nodes) != len(f.Nodes) || len(nodes) != o.Nodes {
		t.Fatalf("%d nodes, facts %d, asked %d", len(nodes), len(f.Nodes), o.Nodes)
	}
	names := map[string]bool{}
	roles := map[Role]int{}
	for _, nf := range f.Nodes {
		n := object(nodes[nf.UUID])
		if n == nil {
			t.Errorf("node %s of the facts is missing", nf.UUID)
			continue
		}
		where := "node " + nf.Name
		checkMembers(t, "node", where, n)
		addUUID(nf.UUID, where)
		if names[nf.Name] {
			t.Errorf("node name %q repeated", nf.Name)
		}
		names[nf.Name] = true
		if str(n["name"]) != nf.Name || str(n["primary_ip"]) != nf.PrimaryIP || str(n["secondary_ip"]) != nf.SecondaryIP ||
			str(n["uuid"]) != nf.UUID || num(n["serial_no"]) != nf.Serial || str(n["group"]) != nf.Group {
			t.Errorf("%s: document and facts disagree: %v vs %+v", where, n, nf)
		}
		if _, ok := groups[nf.Group]; !ok {
			t.Errorf("%s: unknown group %s", where, nf.Group)
		}
		mc, off, dr := boolean(n["master_candidate"]), boolean(n["offline"]), boolean(n["drained"])
		if mc != nf.MasterCandidate || off != nf.Offline || dr != nf.Drained {
			t.Errorf("%s: flags %v/%v/%v, facts %+v", where, mc, off, dr, nf)
		}
		if mc && (off || dr) {
			t.Errorf("%s: a master candidate cannot be offline or drained", where)
		}
		want := RoleRegular
		switch {
		case nf.UUID == f.MasterUUID:
			want = RoleMaster
		case dr:
			want = RoleDrained
		case off:
			want = RoleOffline
		case mc:
			want = RoleCandidate
		}
		if nf.Role != want {
			t.Errorf("%s: role %v, flags say %v", where, nf.Role, want)
		}
		roles[nf.Role]++
	}
	if roles[RoleMaster] != 1 {
		t.Errorf("%d masters", roles[RoleMaster])
	}
	if master := object(nodes[f.MasterUUID]); str(master["name"]) != f.MasterName || !boolean(master["master_candidate"]) ||
		str(master["primary_ip"]) != f.MasterPrimaryIP {
		t.Errorf("master node %v disagrees with facts %q/%q", master, f.MasterName, f.MasterPrimaryIP)
	}

	// Networks.
	for key, nv := range networks {
		nw := object(nv)
		checkMembers(t, "network", "network "+key, nw)
		addUUID(key, "network "+key)
	}

	// Instances, NICs and disks.
	if len(instances) != len(f.Instances) {
		t.Fatalf("%d instances, facts %d", len(instances), len(f.Instances))
	}
	instNames := map[string]bool{}
	minors := map[string]map[int]string{}
	portsUsed := map[int]string{}
	usedDisks := map[string]bool{}
	pool := map[int]bool{}
	for _, p := range list(cl["tcpudp_port_pool"]) {
		pool[num(p)] = true
	}
	usePort := func(p int, what string) {
		if p <= 0 || p > 65535 {
			t.Errorf("%s: port %d out of range", what, p)
		}
		if p > num(cl["highest_used_port"]) || pool[p] {
			t.Errorf("%s: port %d is above highest_used_port or in the free pool", what, p)
		}
		if prev, dup := portsUsed[p]; dup {
			t.Errorf("port %d used by %s and %s", p, prev, what)
		}
		portsUsed[p] = what
	}
	var checkDisk func(where string, d obj, df DiskFact, inst InstanceFact, child bool)
	checkDisk = func(where string, d obj, df DiskFact, inst InstanceFact, child bool) {
		checkMembers(t, "disk", where, d)
		addUUID(str(d["uuid"]), where)
		if str(d["uuid"]) != df.UUID || str(d["dev_type"]) != df.DevType || num(d["size"]) != df.Size ||
			!slices.Equal(strList(d["nodes"]), df.Nodes) {
			t.Errorf("%s: document %v and facts %+v disagree", where, d, df)
		}
		if !o.OmitOptional || !child {
			if str(d["iv_name"]) != df.IVName {
				t.Errorf("%s: iv_name %v, facts %q", where, d["iv_name"], df.IVName)
			}
		}
		for _, n := range df.Nodes {
			if _, ok := nodes[n]; !ok {
				t.Errorf("%s: unknown node %s", where, n)
			}
		}
		lid := list(d["logical_id"])
		switch df.DevType {
		case DevDRBD:
			if len(lid) != 6 {
				t.Fatalf("%s: DRBD logical_id %v", where, lid)
			}
			a, b := str(lid[0]), str(lid[1])
			if a != df.NodeA || b != df.NodeB || num(lid[2]) != df.Port || num(lid[3]) != df.MinorA ||
				num(lid[4]) != df.MinorB || str(lid[5]) != df.Secret || len(df.Secret) != 40 {
				t.Errorf("%s: logical_id %v, facts %+v", where, lid, df)
			}
			if a == b || a != inst.PrimaryNode || !slices.Equal(df.Nodes, []string{a, b}) {
				t.Errorf("%s: DRBD nodes %s/%s, primary %s", where, a, b, inst.PrimaryNode)
			}
			for _, nm := range []struct {
				node  string
				minor int
			}{{a, df.MinorA}, {b, df.MinorB}} {
				if minors[nm.node] == nil {
					minors[nm.node] = map[int]string{}
				}
				if prev, dup := minors[nm.node][nm.minor]; dup {
					t.Errorf("node %s minor %d used by %s and %s", nm.node, nm.minor, prev, where)
				}
				minors[nm.node][nm.minor] = where
			}
			usePort(df.Port, where)
			if o.FlatDRBD != (len(df.Children) == 0) {
				t.Errorf("%s: %d children with FlatDRBD %v", where, len(df.Children), o.FlatDRBD)
			}
		case DevPlain:
			if len(lid) != 2 || str(lid[0]) != df.VG || str(lid[1]) != df.LV {
				t.Errorf("%s: logical_id %v, facts %+v", where, lid, df)
			}
		case DevFile:
			if len(lid) != 2 || str(lid[0]) != "loop" || str(lid[1]) != df.Path {
				t.Errorf("%s: logical_id %v, facts %+v", where, lid, df)
			}
		default:
			t.Errorf("%s: dev_type %q", where, df.DevType)
		}
		children := list(d["children"])
		if len(children) != len(df.Children) {
			t.Fatalf("%s: %d children, facts %d", where, len(children), len(df.Children))
		}
		for i, c := range children {
			checkDisk(fmt.Sprintf("%s child %d", where, i), object(c), df.Children[i], inst, true)
		}
	}
	for _, inf := range f.Instances {
		in := object(instances[inf.UUID])
		if in == nil {
			t.Errorf("instance %s of the facts is missing", inf.UUID)
			continue
		}
		where := "instance " + inf.Name
		checkMembers(t, "instance", where, in)
		addUUID(inf.UUID, where)
		if instNames[inf.Name] {
			t.Errorf("instance name %q repeated", inf.Name)
		}
		instNames[inf.Name] = true
		if str(in["name"]) != inf.Name || str(in["primary_node"]) != inf.PrimaryNode || num(in["serial_no"]) != inf.Serial ||
			str(in["admin_state"]) != inf.AdminState || num(in["network_port"]) != inf.NetworkPort {
			t.Errorf("%s: document and facts disagree", where)
		}
		if _, ok := nodes[inf.PrimaryNode]; !ok {
			t.Errorf("%s: unknown primary node %s", where, inf.PrimaryNode)
		}
		if inf.NetworkPort != 0 {
			usePort(inf.NetworkPort, where+" network_port")
		}
		nics := list(in["nics"])
		if len(nics) != len(inf.NICs) || len(nics) == 0 {
			t.Fatalf("%s: %d NICs, facts %d", where, len(nics), len(inf.NICs))
		}
		for i, nv := range nics {
			nic, nf := object(nv), inf.NICs[i]
			nwhere := fmt.Sprintf("%s nic %d", where, i)
			checkMembers(t, "nic", nwhere, nic)
			addUUID(nf.UUID, nwhere)
			ip, hasIP := nic["ip"]
			link, linkSet := object(nic["nicparams"])["link"]
			eff := f.DefaultLink
			if linkSet {
				eff = str(link)
			}
			if hasIP != nf.HasIP || str(ip) != nf.IP || linkSet != nf.LinkSet || eff != nf.Link ||
				str(object(nic["nicparams"])["mode"]) != nf.Mode || str(nic["network"]) != nf.Network ||
				str(nic["mac"]) != nf.MAC {
				t.Errorf("%s: document %v, facts %+v", nwhere, nic, nf)
			}
			if !slices.Contains(f.Links, nf.Link) {
				t.Errorf("%s: link %q is not one of %v", nwhere, nf.Link, f.Links)
			}
			if nf.Network != "" {
				if _, ok := networks[nf.Network]; !ok {
					t.Errorf("%s: unknown network %s", nwhere, nf.Network)
				}
			}
		}
		ids := strList(in["disks"])
		if len(ids) != len(inf.Disks) || len(ids) == 0 || len(ids) > o.MaxDisks {
			t.Fatalf("%s: %d disks, facts %d", where, len(ids), len(inf.Disks))
		}
		for i, id := range ids {
			d := object(disks[id])
			if d == nil {
				t.Errorf("%s: disk %s is not in the disks map", where, id)
				continue
			}
			if usedDisks[id] {
				t.Errorf("disk %s belongs to two instances", id)
			}
			usedDisks[id] = true
			if inf.Disks[i].DevType != inf.Disks[0].DevType {
				t.Errorf("%s: mixed disk templates", where)
			}
			checkDisk(fmt.Sprintf("%s disk %d", where, i), d, inf.Disks[i], inf, false)
		}
	}
	if len(usedDisks) != len(disks) {
		t.Errorf("%d disks in the map, %d used by instances", len(disks), len(usedDisks))
	}
	if f.HighestUsedPort != num(cl["highest_used_port"]) {
		t.Errorf("highest_used_port %v, facts %d", cl["highest_used_port"], f.HighestUsedPort)
	}
}

// TestDeterministic checks that a seed gives the same cluster every time,
// and another seed another one.
func TestDeterministic(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			a, fa, err := Generate(v.opts)
			if err != nil {
				t.Fatal(err)
			}
			b, fb, err := Generate(v.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Error("same options, different bytes")
			}
			if !reflect.DeepEqual(fa, fb) {
				t.Error("same options, different facts")
			}
			o := v.opts
			o.Seed++
			c, _, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a, c) {
				t.Error("another seed, same bytes")
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Options)
		wantErr string
	}{
		{"one link", func(o *Options) { o.Links = 1 }, "links"},
		{"too many links", func(o *Options) { o.Links = MaxLinks + 1 }, "links"},
		{"negative instances", func(o *Options) { o.Instances = -1 }, "instances"},
		{"too many nodes", func(o *Options) { o.Nodes = MaxNodes + 1 }, "nodes"},
		{"more groups than nodes", func(o *Options) { o.Nodes, o.NodeGroups = 3, 4 }, "node groups"},
		{"fractions above one", func(o *Options) { o.DRBDFraction, o.FileFraction = 0.7, 0.4 }, "fractions"},
		{"negative fraction", func(o *Options) { o.DRBDFraction = -0.1 }, "fractions"},
		{"bad hypervisor", func(o *Options) { o.Hypervisor = "vmware" }, "hypervisor"},
		{"roles do not fit", func(o *Options) { o.Nodes, o.Candidates, o.Drained = 4, 3, 2 }, "roles"},
		{"repeated names", func(o *Options) { o.NodeNames = []string{"a", "a"} }, "repeated"},
		{"too many names", func(o *Options) { o.Instances, o.InstanceNames = 1, []string{"a", "b"} }, "names"},
		{"too many disks", func(o *Options) { o.MaxDisks = 17 }, "max disks"},
		{"too many networks", func(o *Options) { o.Networks = MaxNetworks + 1 }, "networks"},
		{"negative size", func(o *Options) { o.TargetSize = -1 }, "target size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Default()
			tt.change(&o)
			_, _, err := Generate(o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Generate: error %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		name                                string
		nodes, cand, drained, offline, both int
		want                                [5]int // master, candidate, offline, drained, regular
	}{
		{"one node", 1, 0, 0, 0, 0, [5]int{1, 0, 0, 0, 0}},
		{"two nodes", 2, 0, 0, 0, 0, [5]int{1, 1, 0, 0, 0}},
		{"five nodes", 5, 0, 0, 0, 0, [5]int{1, 1, 1, 1, 1}},
		{"eight nodes", 8, 0, 0, 0, 0, [5]int{1, 2, 1, 1, 3}},
		{"ten nodes", 10, 0, 0, 0, 0, [5]int{1, 2, 1, 2, 4}},
		{"hundred nodes", 100, 0, 0, 0, 0, [5]int{1, 9, 4, 5, 81}},
		{"explicit", 7, 2, 1, 1, -1, [5]int{1, 2, 1, 1, 2}},
		{"none", 6, -1, -1, -1, -1, [5]int{1, 0, 0, 0, 5}},
		{"drained and offline", 6, 1, -1, -1, 2, [5]int{1, 1, 0, 2, 2}},
		{"all taken", 4, 1, 1, 1, 0, [5]int{1, 1, 1, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Default()
			o.Nodes, o.NodeGroups, o.Instances = tt.nodes, 1, 4
			o.Candidates, o.Drained, o.Offline, o.DrainedOffline = tt.cand, tt.drained, tt.offline, tt.both
			_, f, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			var got [5]int
			for _, n := range f.Nodes {
				got[n.Role]++
			}
			if got != tt.want {
				t.Errorf("roles (master, candidate, offline, drained, regular) = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCoverage checks that the default cluster shows every case a confd
// test wants to see.
func TestCoverage(t *testing.T) {
	for _, o := range []Options{Default(), Demo()} {
		_, f, err := Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, n := range f.Nodes {
			seen["role "+n.Role.String()] = true
			if !n.MasterCapable {
				seen["not master capable"] = true
			}
		}
		ipOnLink := map[string]bool{}
		for _, in := range f.Instances {
			seen["admin "+in.AdminState] = true
			for _, nic := range in.NICs {
				switch {
				case !nic.HasIP:
					seen["nic without ip"] = true
				case nic.Link == f.DefaultLink && nic.LinkSet:
					seen["ip on explicit default link"] = true
				case nic.Link == f.DefaultLink:
					seen["ip on implicit default link"] = true
				}
				if nic.HasIP {
					ipOnLink[nic.Link] = true
				}
				if nic.Network != "" {
					seen["nic on network"] = true
				}
				if nic.Mode == "routed" {
					seen["routed nic"] = true
				}
			}
			for _, d := range in.Disks {
				seen["disk "+d.DevType] = true
				if len(d.Children) == 2 {
					seen["drbd children"] = true
				}
			}
		}
		if len(ipOnLink) >= 2 {
			seen["ips on two links"] = true
		}
		if len(f.DuplicateIPs()[f.DefaultLink]) > 0 {
			seen["duplicate ip"] = true
		}
		links := map[string]bool{}
		for _, in := range f.Instances {
			for _, nic := range in.NICs {
				if nic.HasIP {
					links[nic.IP+" "+nic.Link] = true
				}
			}
		}
		for k := range links {
			ip, link, _ := strings.Cut(k, " ")
			for l := range ipOnLink {
				if l != link && links[ip+" "+l] {
					seen["same ip on two links"] = true
				}
			}
		}
		for _, want := range []string{"role master", "role candidate", "role drained", "role offline", "role regular",
			"not master capable", "admin up", "nic without ip", "ip on explicit default link", "ip on implicit default link",
			"ips on two links", "nic on network", "routed nic", "duplicate ip", "same ip on two links",
			"disk drbd", "disk plain", "disk file", "drbd children"} {
			if !seen[want] {
				t.Errorf("%s cluster: no case of %q", o.ClusterName, want)
			}
		}
	}
}

// TestFacts checks the prediction helpers on a hand-made cluster.
func TestFacts(t *testing.T) {
	f := &Facts{
		DefaultLink: "br0",
		Hypervisor:  "kvm",
		Nodes: []NodeFact{
			{UUID: "a", Name: "a.x", PrimaryIP: "1.1.1.1", MasterCandidate: true},
			{UUID: "c", Name: "c.x", PrimaryIP: "1.1.1.3"},
			{UUID: "b", Name: "b.x", PrimaryIP: "1.1.1.2", MasterCandidate: true},
		},
		Instances: []InstanceFact{
			{UUID: "i2", Name: "two", PrimaryNode: "c", NICs: []NICFact{{IP: "10.0.0.1", HasIP: true, Link: "br0"}},
				Disks: []DiskFact{{DevType: DevDRBD, NodeA: "c", NodeB: "a", MinorA: 4, MinorB: 7}}},
			{UUID: "i1", Name: "one", PrimaryNode: "a", NICs: []NICFact{{IP: "10.0.0.1", HasIP: true, Link: "br0"},
				{IP: "10.0.0.0", HasIP: true, Link: "br0"}, {Link: "br0"}}},
		},
		DataCollectors: []DataCollector{{Name: "lv", Active: false, Interval: time.Second}},
	}
	f.index()
	if got, want := f.NodePIPList(), []string{"1.1.1.3", "1.1.1.2", "1.1.1.1"}; !slices.Equal(got, want) {
		t.Errorf("NodePIPList = %v, want %v", got, want)
	}
	if got, want := f.MCPIPList(), []string{"1.1.1.2", "1.1.1.1"}; !slices.Equal(got, want) {
		t.Errorf("MCPIPList = %v, want %v", got, want)
	}
	if got, want := f.InstanceIPs("br0"), []string{"10.0.0.0", "10.0.0.1"}; !slices.Equal(got, want) {
		t.Errorf("InstanceIPs = %v, want %v", got, want)
	}
	if got := f.InstanceIPs("nosuch"); got == nil || len(got) != 0 {
		t.Errorf("InstanceIPs(nosuch) = %#v, want empty", got)
	}
	// i2 > i1, so instance "two" (on node c) owns the duplicate.
	if pip, ok := f.NodePIPByInstanceIP("br0", "10.0.0.1"); !ok || pip != "1.1.1.3" {
		t.Errorf("NodePIPByInstanceIP = %q, %v", pip, ok)
	}
	if _, ok := f.NodePIPByInstanceIP("br1", "10.0.0.1"); ok {
		t.Error("NodePIPByInstanceIP found an IP on the wrong link")
	}
	if got, want := f.DRBDRows("a"), []DRBDRow{{"a.x", 7, "two", "disk/0", "secondary", "c.x"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("DRBDRows(a) = %v, want %v", got, want)
	}
	if got, want := f.DRBDRows("c"), []DRBDRow{{"c.x", 4, "two", "disk/0", "primary", "a.x"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("DRBDRows(c) = %v, want %v", got, want)
	}
	if p, s := f.NodeInstances("a"); !slices.Equal(p, []string{"i1"}) || !slices.Equal(s, []string{"i2"}) {
		t.Errorf("NodeInstances(a) = %v, %v", p, s)
	}
	c := f.Collectors()
	if len(c) != 6 || c["lv"].Active || c["lv"].Interval != time.Second || c["inst-status-xen"].Active || !c["drbd"].Active {
		t.Errorf("Collectors = %v", c)
	}
}

// TestTargetSize checks that asking for a size gives about that size.
func TestTargetSize(t *testing.T) {
	sizes := []int{100 << 10, 1 << 20, 10 << 20}
	if !testing.Short() {
		sizes = append(sizes, 50<<20)
	}
	for _, size := range sizes {
		for _, indent := range []bool{false, true} {
			if indent && size > 1<<20 {
				continue
			}
			t.Run(fmt.Sprintf("%d/indent=%v", size, indent), func(t *testing.T) {
				o := Default()
				o.Nodes, o.TargetSize, o.Indent = 0, size, indent
				b, f, err := Generate(o)
				if err != nil {
					t.Fatal(err)
				}
				if r := float64(len(b)) / float64(size); r < 0.95 || r > 1.05 {
					t.Errorf("asked for %d bytes, got %d (%.3f), %d nodes, %d instances", size, len(b), r, len(f.Nodes), len(f.Instances))
				}
			})
		}
	}
}

// TestStableTime checks that generated timestamps are fixed points of
// Ganeti's read-and-write-back of times (tjson.TimeAsDouble, tested
// there).
func TestStableTime(t *testing.T) {
	r := newRNG(1, 99, 0)
	for range 100000 {
		st := r.stamps(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Unix())
		for _, v := range []float64{st.ctime, st.mtime} {
			if h := tjson.TimeAsDouble(v); h != v {
				t.Fatalf("%v is not stable: %v", v, h)
			}
		}
	}
	for _, v := range []float64{1694038761.717014, 1354038435.343601, 0, 1e9 + 0.5} {
		if s := stableTime(v); tjson.TimeAsDouble(s) != s {
			t.Errorf("stableTime(%v) = %v is not stable", v, s)
		}
	}
}
