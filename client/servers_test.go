package client

// The typed helpers against real servers: goconfd's daemon, and Ganeti
// 3.0.2's own when installed, each alone and both together. Expected
// answers come from reading the config with encoding/json.

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// richFacts is what the tests need to know of config/testdata/rich.json.
type richFacts struct {
	Version int64 `json:"version"`
	Cluster struct {
		Name       string `json:"cluster_name"`
		MasterNode string `json:"master_node"`
		MasterIP   string `json:"master_ip"`
		Serial     int64  `json:"serial_no"`
		NICParams  map[string]struct {
			Link string `json:"link"`
		} `json:"nicparams"`
	} `json:"cluster"`
	Nodes map[string]struct {
		Name      string `json:"name"`
		PrimaryIP string `json:"primary_ip"`
		MC        bool   `json:"master_candidate"`
		Offline   bool   `json:"offline"`
		Drained   bool   `json:"drained"`
		Serial    int64  `json:"serial_no"`
	} `json:"nodes"`
	Instances map[string]struct {
		Name        string   `json:"name"`
		PrimaryNode string   `json:"primary_node"`
		Disks       []string `json:"disks"`
		Serial      int64    `json:"serial_no"`
		NICs        []struct {
			IP        *string           `json:"ip"`
			NICParams map[string]string `json:"nicparams"`
		} `json:"nics"`
	} `json:"instances"`
}

func loadRich(t *testing.T) *richFacts {
	t.Helper()
	data, err := os.ReadFile(richConfig)
	if err != nil {
		t.Fatal(err)
	}
	var f richFacts
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func readKey(t testing.TB) []byte {
	t.Helper()
	key, err := os.ReadFile(refKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestHelpersGoconfd runs every typed helper against goconfd.
func TestHelpersGoconfd(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, "goconfd", goconfdBin(t), richConfig, refKeyFile)
	checkHelpers(t, d)
}

// TestHelpersReference runs every typed helper against Ganeti 3.0.2.
func TestHelpersReference(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, "ganeti-confd 3.0.2", referenceBin(t), richConfig, refKeyFile)
	checkHelpers(t, d)
}

// TestBothServers asks goconfd and Ganeti 3.0.2 together: every request
// type gets valid, equal answers from both.
func TestBothServers(t *testing.T) {
	t.Parallel()
	ref := startDaemon(t, "ganeti-confd 3.0.2", referenceBin(t), richConfig, refKeyFile)
	got := startDaemon(t, "goconfd", goconfdBin(t), richConfig, refKeyFile)
	c := newTestClient(t, Options{Key: readKey(t), MinReplies: AllPeers, Timeout: 5 * time.Second}, ref.peer(), got.peer())
	f := loadRich(t)
	queries := []struct {
		typ   protocol.Type
		query json.RawMessage
	}{
		{protocol.TypePing, nil},
		{protocol.TypeNodeRoleByName, PlainQuery("node2")},
		{protocol.TypeNodePipByInstanceIP, DictQuery{IPList: []string{"192.0.2.101", "10.9.9.9"}}.JSON()},
		{protocol.TypeClusterMaster, DictQuery{Fields: []protocol.Field{0, 1, 2}}.JSON()},
		{protocol.TypeNodePipList, nil},
		{protocol.TypeMcPipList, nil},
		{protocol.TypeInstancesIPsList, nil},
		{protocol.TypeNodeDrbd, PlainQuery(f.Nodes[f.Cluster.MasterNode].Name)},
		{protocol.TypeNodeInstances, PlainQuery(f.Nodes[f.Cluster.MasterNode].Name)},
		{protocol.TypeInstanceDisks, PlainQuery("instance1")},
		{protocol.TypeConfigQuery, PlainQuery("/cluster/nicparams")},
		{protocol.TypeDataCollectors, nil},
		{protocol.TypeNodeDrbd, PlainQuery("nosuchnode")},
	}
	for _, q := range queries {
		res, err := c.Query(context.Background(), q.typ, q.query)
		if err != nil {
			t.Errorf("%v %s: %v", q.typ, q.query, err)
			continue
		}
		if res.Valid != 2 || !res.Consistent {
			t.Errorf("%v %s: %d valid replies, consistent %v:\n%s\n%s", q.typ, q.query, res.Valid, res.Consistent, res.Replies[0].Reply.Answer, res.Replies[1].Reply.Answer)
		}
		if a, b := res.Replies[0].Reply, res.Replies[1].Reply; a.Serial != b.Serial || a.Status != b.Status {
			t.Errorf("%v %s: serial/status %d/%d vs %d/%d", q.typ, q.query, a.Serial, a.Status, b.Serial, b.Status)
		}
	}
}

func checkHelpers(t *testing.T, d *daemon) {
	f := loadRich(t)
	c := newTestClient(t, Options{Key: readKey(t), Timeout: 5 * time.Second}, d.peer())
	ctx := context.Background()
	master := f.Nodes[f.Cluster.MasterNode]

	if v, err := c.Ping(ctx); err != nil || v != f.Version {
		t.Errorf("Ping = %d, %v; want %d", v, err, f.Version)
	}
	if m, err := c.ClusterMaster(ctx); err != nil || m != master.Name {
		t.Errorf("ClusterMaster = %q, %v; want %q", m, err, master.Name)
	}
	wantInfo := MasterInfo{Name: master.Name, IP: netip.MustParseAddr(f.Cluster.MasterIP), NodeIP: netip.MustParseAddr(master.PrimaryIP)}
	if m, err := c.MasterInfo(ctx); err != nil || m != wantInfo {
		t.Errorf("MasterInfo = %+v, %v; want %+v", m, err, wantInfo)
	}

	// Roles, IP lists.
	var uuids []string
	for u := range f.Nodes {
		uuids = append(uuids, u)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(uuids))) // Ganeti's order
	var wantIPs, wantMCs []netip.Addr
	for _, u := range uuids {
		n := f.Nodes[u]
		want := RoleRegular
		switch {
		case u == f.Cluster.MasterNode:
			want = RoleMaster
		case n.Drained:
			want = RoleDrained
		case n.Offline:
			want = RoleOffline
		case n.MC:
			want = RoleCandidate
		}
		if r, err := c.NodeRole(ctx, n.Name); err != nil || r != want {
			t.Errorf("NodeRole(%s) = %v, %v; want %v", n.Name, r, err, want)
		}
		wantIPs = append(wantIPs, netip.MustParseAddr(n.PrimaryIP))
		if n.MC {
			wantMCs = append(wantMCs, netip.MustParseAddr(n.PrimaryIP))
		}
	}
	if _, err := c.NodeRole(ctx, "nosuchnode"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NodeRole(nosuchnode): err = %v, want ErrNotFound", err)
	}
	if ips, err := c.NodeIPs(ctx); err != nil || !slices.Equal(ips, wantIPs) {
		t.Errorf("NodeIPs = %v, %v; want %v", ips, err, wantIPs)
	}
	if ips, err := c.MasterCandidateIPs(ctx); err != nil || !slices.Equal(ips, wantMCs) {
		t.Errorf("MasterCandidateIPs = %v, %v; want %v", ips, err, wantMCs)
	}

	// Instance IPs on the default link, and their nodes.
	defLink := f.Cluster.NICParams["default"].Link
	ipNode := map[string]netip.Addr{}
	var instUUIDs []string
	for u := range f.Instances {
		instUUIDs = append(instUUIDs, u)
	}
	sort.Strings(instUUIDs)
	for _, u := range instUUIDs {
		in := f.Instances[u]
		for _, nic := range in.NICs {
			link, ok := nic.NICParams["link"]
			if !ok {
				link = defLink
			}
			if nic.IP != nil && link == defLink {
				ipNode[*nic.IP] = netip.MustParseAddr(f.Nodes[in.PrimaryNode].PrimaryIP)
			}
		}
	}
	var wantInstIPs []string
	for ip := range ipNode {
		wantInstIPs = append(wantInstIPs, ip)
	}
	sort.Strings(wantInstIPs)
	if ips, err := c.InstanceIPs(ctx, ""); err != nil || !slices.Equal(ips, wantInstIPs) {
		t.Errorf("InstanceIPs = %v, %v; want %v", ips, err, wantInstIPs)
	}
	if ips, err := c.InstanceIPs(ctx, "nosuchlink"); err != nil || len(ips) != 0 {
		t.Errorf("InstanceIPs(nosuchlink) = %v, %v", ips, err)
	}
	ask := append(slices.Clone(wantInstIPs), "203.0.113.99")
	maps, err := c.NodeIPsByInstanceIPs(ctx, "", ask)
	if err != nil || len(maps) != len(ask) {
		t.Fatalf("NodeIPsByInstanceIPs = %v, %v", maps, err)
	}
	for i, m := range maps {
		want := IPMapping{InstanceIP: ask[i]}
		if n, ok := ipNode[ask[i]]; ok {
			want.Found, want.NodeIP, want.Serial = true, n, f.Cluster.Serial
		}
		if m != want {
			t.Errorf("mapping %d = %+v, want %+v", i, m, want)
		}
	}
	if len(wantInstIPs) > 0 {
		ip := wantInstIPs[0]
		if n, err := c.NodeIPByInstanceIP(ctx, "", ip); err != nil || n != ipNode[ip] {
			t.Errorf("NodeIPByInstanceIP(%s) = %v, %v; want %v", ip, n, err, ipNode[ip])
		}
	}
	if _, err := c.NodeIPByInstanceIP(ctx, "", "203.0.113.99"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NodeIPByInstanceIP(unknown): err = %v, want ErrNotFound", err)
	}

	// Per node: DRBD minors and instances.
	var nMinors, nSecondary, nDRBD int
	for _, u := range uuids {
		n := f.Nodes[u]
		minors, err := c.NodeDRBD(ctx, n.Name)
		if err != nil {
			t.Errorf("NodeDRBD(%s): %v", n.Name, err)
		}
		nMinors += len(minors)
		for _, m := range minors {
			if m.Node != n.Name || m.Peer == "" || m.Peer == n.Name || m.DiskIndex < 0 || (m.Role != DRBDPrimary && m.Role != DRBDSecondary) {
				t.Errorf("NodeDRBD(%s): odd row %+v", n.Name, m)
			}
		}
		ni, err := c.NodeInstances(ctx, n.Name)
		if err != nil {
			t.Errorf("NodeInstances(%s): %v", n.Name, err)
			continue
		}
		var want, got []string
		for _, iu := range instUUIDs {
			if f.Instances[iu].PrimaryNode == u {
				want = append(want, f.Instances[iu].Name)
			}
		}
		for _, in := range ni.Primary {
			got = append(got, in.Name)
			if in.PrimaryNode != u || in.UUID == "" || in.SerialNo != f.Instances[in.UUID].Serial {
				t.Errorf("NodeInstances(%s): instance %s: primary %s, uuid %s, serial %d", n.Name, in.Name, in.PrimaryNode, in.UUID, in.SerialNo)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("NodeInstances(%s).Primary = %v, want %v", n.Name, got, want)
		}
		nSecondary += len(ni.Secondary)
		for _, in := range ni.Secondary {
			if in.PrimaryNode == u {
				t.Errorf("NodeInstances(%s): %s is secondary here but has it as primary", n.Name, in.Name)
			}
		}
	}
	if _, err := c.NodeDRBD(ctx, "nosuchnode"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NodeDRBD(nosuchnode): err = %v, want ErrNotFound", err)
	}

	// Per instance: disks.
	for _, iu := range instUUIDs {
		in := f.Instances[iu]
		disks, err := c.InstanceDisks(ctx, iu)
		if err != nil {
			t.Errorf("InstanceDisks(%s): %v", in.Name, err)
			continue
		}
		var got []string
		for _, dk := range disks {
			got = append(got, dk.UUID)
			if dk.DevType == DiskDRBD {
				nDRBD++
				drbd, ok := dk.DRBD()
				if !ok || drbd.Secret == "" || len(dk.Children) != 2 {
					t.Errorf("InstanceDisks(%s): DRBD disk %s: %+v, %v, %d children", in.Name, dk.UUID, drbd, ok, len(dk.Children))
				}
			} else if _, _, ok := dk.Volume(); !ok {
				t.Errorf("InstanceDisks(%s): disk %s of type %s has no volume", in.Name, dk.UUID, dk.DevType)
			}
		}
		if !slices.Equal(got, in.Disks) {
			t.Errorf("InstanceDisks(%s) = %v, want %v", in.Name, got, in.Disks)
		}
	}
	if _, err := c.InstanceDisks(ctx, "nosuchinstance"); !errors.Is(err, ErrNotFound) {
		t.Errorf("InstanceDisks(nosuchinstance): err = %v, want ErrNotFound", err)
	}

	if nMinors == 0 || nSecondary == 0 || nDRBD == 0 {
		t.Errorf("the config exercises too little: %d DRBD minors, %d secondary instances, %d DRBD disks", nMinors, nSecondary, nDRBD)
	}

	// Config pointers.
	var name string
	if err := c.ConfigQuery(ctx, "/cluster/cluster_name", &name); err != nil || name != f.Cluster.Name {
		t.Errorf("ConfigQuery(/cluster/cluster_name) = %q, %v; want %q", name, err, f.Cluster.Name)
	}
	var nodes map[string]json.RawMessage
	if err := c.ConfigQuery(ctx, "/nodes", &nodes); err != nil || len(nodes) != len(f.Nodes) {
		t.Errorf("ConfigQuery(/nodes): %d nodes, %v", len(nodes), err)
	}
	if err := c.ConfigQuery(ctx, "/nosuch", &name); !errors.Is(err, ErrArgument) {
		t.Errorf("ConfigQuery(/nosuch): err = %v, want ErrArgument", err)
	}

	// Data collectors.
	dc, err := c.DataCollectors(ctx)
	if err != nil || len(dc) != 6 {
		t.Errorf("DataCollectors = %v, %v", dc, err)
	}
	for name, col := range dc {
		if col.Interval <= 0 {
			t.Errorf("collector %s: interval %v", name, col.Interval)
		}
	}

	// Raw query with every reply, and the serial rules of §3.13.
	res, err := c.Query(ctx, protocol.TypeNodeDrbd, PlainQuery(master.Name))
	if err != nil || res.Best.Reply.Serial != master.Serial {
		t.Errorf("Query(node-drbd %s): serial %v, %v; want the node's serial %d", master.Name, res.Best.Reply.Serial, err, master.Serial)
	}
	if res != nil && !reflect.DeepEqual(res.Best.Peer, d.peer()) {
		t.Errorf("best from %v", res.Best.Peer)
	}
}
