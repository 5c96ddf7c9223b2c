package clustergen

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Role is a node's role as confd reports it (CONFD_NODE_ROLE_* in Ganeti's
// constants; src/Ganeti/Confd/Server.hs decides it).
type Role int

// The roles, with their wire values.
const (
	// RoleMaster is the master node (asked by its exact full name).
	RoleMaster Role = 0
	// RoleCandidate is a master candidate.
	RoleCandidate Role = 1
	// RoleOffline is an offline node that is not drained.
	RoleOffline Role = 2
	// RoleDrained is a drained node (offline or not).
	RoleDrained Role = 3
	// RoleRegular is a node with none of the flags.
	RoleRegular Role = 4
)

// String returns the role's name, e.g. "candidate".
func (r Role) String() string {
	switch r {
	case RoleMaster:
		return "master"
	case RoleCandidate:
		return "candidate"
	case RoleOffline:
		return "offline"
	case RoleDrained:
		return "drained"
	case RoleRegular:
		return "regular"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// Disk templates (dev_type values) the generator writes.
const (
	// DevDRBD is a DRBD8 disk mirrored between two nodes.
	DevDRBD = "drbd"
	// DevPlain is an LVM logical volume on one node.
	DevPlain = "plain"
	// DevFile is a file-backed disk on one node.
	DevFile = "file"
)

// Facts describe a generated cluster, so that a test can predict confd's
// answers without parsing the config. Names are Go (UTF-8) strings; with
// Options.NonASCII and raw UTF-8 output, note that Ganeti 3.0 reads the file
// as Latin-1 (see docs/protocol.md §1.5).
type Facts struct {
	// Size is the length of the generated document in bytes.
	Size int
	// Version is the top-level "version" (the answer to a ping).
	Version int
	// Serial is the top-level serial_no (never reported by confd).
	Serial int
	// ClusterSerial is cluster.serial_no, the serial of most answers.
	ClusterSerial int
	// ClusterName and ClusterUUID identify the cluster.
	ClusterName, ClusterUUID string
	// MasterUUID and MasterName identify the master node.
	MasterUUID, MasterName string
	// MasterIP is cluster.master_ip (field 1 of CLUSTER_MASTER).
	MasterIP string
	// MasterPrimaryIP is the master node's primary_ip (field 2).
	MasterPrimaryIP string
	// IPFamily is cluster.primary_ip_family: 2 (IPv4) or 10 (IPv6).
	IPFamily int
	// Links are the NIC links; Links[0] is the cluster default link.
	Links []string
	// DefaultLink is cluster.nicparams.default.link.
	DefaultLink string
	// Hypervisor is the only enabled hypervisor.
	Hypervisor string
	// HighestUsedPort and PortPool are the cluster's port allocator state;
	// the ports in the pool are free.
	HighestUsedPort int
	// PortPool is cluster.tcpudp_port_pool (free ports below
	// HighestUsedPort).
	PortPool []int
	// Tags are the cluster's tags, sorted.
	Tags []string
	// DataCollectors is cluster.data_collectors as written.
	DataCollectors []DataCollector
	// Groups are the node groups; Groups[0] holds the master.
	Groups []GroupFact
	// Nodes are the nodes; Nodes[0] is the master.
	Nodes []NodeFact
	// Instances are the instances in generation order.
	Instances []InstanceFact
	// Networks are the Ganeti networks.
	Networks []NetworkFact

	nodeByUUID map[string]int
}

// GroupFact describes a node group.
type GroupFact struct {
	// UUID and Name identify the group.
	UUID, Name string
	// Nodes are the UUIDs of the group's nodes.
	Nodes []string
	// Serial is the group's serial_no.
	Serial int
}

// NodeFact describes a node.
type NodeFact struct {
	// UUID and Name identify the node.
	UUID, Name string
	// PrimaryIP is the address confd's node lists report.
	PrimaryIP string
	// SecondaryIP is the replication address.
	SecondaryIP string
	// Group is the node group's UUID.
	Group string
	// The flags as written in the config.
	MasterCandidate, Offline, Drained, MasterCapable bool
	// Role is what NODE_ROLE_BYNAME answers when asked by the exact name.
	Role Role
	// Serial is the node's serial_no (the serial of NODE_DRBD and
	// NODE_INSTANCES answers).
	Serial int
	// Tags are the node's tags.
	Tags []string
}

// InstanceFact describes an instance.
type InstanceFact struct {
	// UUID and Name identify the instance.
	UUID, Name string
	// PrimaryNode is the primary node's UUID.
	PrimaryNode string
	// OS is the instance's OS definition.
	OS string
	// AdminState is "up" or "down".
	AdminState string
	// Serial is the instance's serial_no (the serial of INSTANCE_DISKS).
	Serial int
	// NetworkPort is the instance's network_port, 0 if it has none.
	NetworkPort int
	// NICs are the instance's NICs in order.
	NICs []NICFact
	// Disks are the instance's disks in order ("disk/0", "disk/1", …).
	Disks []DiskFact
	// Tags are the instance's tags.
	Tags []string
}

// NICFact describes a NIC of an instance.
type NICFact struct {
	// UUID and MAC identify the NIC.
	UUID, MAC string
	// IP is the NIC's address; HasIP is false when the NIC has none.
	IP    string
	HasIP bool
	// Link is the effective link: nicparams.link if set, else the cluster
	// default link.
	Link string
	// LinkSet says whether nicparams.link is written (it may still equal
	// the default link).
	LinkSet bool
	// Mode is nicparams.mode, "" when not written.
	Mode string
	// Network is the UUID of the NIC's network, "" if none.
	Network string
}

// DiskFact describes a disk (or a child of one).
type DiskFact struct {
	// UUID identifies the disk.
	UUID string
	// DevType is DevDRBD, DevPlain or DevFile.
	DevType string
	// Size is the disk's size in MiB.
	Size int
	// Nodes are the UUIDs of the nodes holding the disk.
	Nodes []string
	// IVName is "disk/N" for top-level disks, "" for children.
	IVName string
	// VG and LV name a plain disk.
	VG, LV string
	// Driver and Path name a file disk.
	Driver, Path string
	// NodeA, NodeB, Port, MinorA, MinorB and Secret are a DRBD disk's
	// logical_id.
	NodeA, NodeB   string
	Port           int
	MinorA, MinorB int
	Secret         string
	// Children are the data and meta volumes of a DRBD disk.
	Children []DiskFact
}

// NetworkFact describes a Ganeti network.
type NetworkFact struct {
	// UUID and Name identify the network.
	UUID, Name string
	// Network is the IPv4 prefix, e.g. "172.20.0.0/24".
	Network string
	// Gateway is the network's gateway address.
	Gateway string
	// Link is the link the network is connected on in every group.
	Link string
	// Serial is the network's serial_no.
	Serial int
}

// DRBDRow is one row of a NODE_DRBD answer (docs/protocol.md §3.8).
type DRBDRow struct {
	// Node is the queried node's name.
	Node string
	// Minor is the node's DRBD minor for the device.
	Minor int
	// Instance is the instance's name.
	Instance string
	// Disk is "disk/N", N the index of the top-level disk.
	Disk string
	// Role is "primary" if the node is the instance's primary node, else
	// "secondary".
	Role string
	// Peer is the name of the device's other node.
	Peer string
}

// Tuple returns the row as confd encodes it: a 6-element array.
func (r DRBDRow) Tuple() []any {
	return []any{r.Node, r.Minor, r.Instance, r.Disk, r.Role, r.Peer}
}

func (f *Facts) index() {
	f.nodeByUUID = make(map[string]int, len(f.Nodes))
	for i, n := range f.Nodes {
		f.nodeByUUID[n.UUID] = i
	}
}

// Node returns the node with the given UUID or exact name.
func (f *Facts) Node(uuidOrName string) (NodeFact, bool) {
	if i, ok := f.nodeByUUID[uuidOrName]; ok {
		return f.Nodes[i], true
	}
	for _, n := range f.Nodes {
		if n.Name == uuidOrName {
			return n, true
		}
	}
	return NodeFact{}, false
}

// Instance returns the instance with the given UUID or exact name.
func (f *Facts) Instance(uuidOrName string) (InstanceFact, bool) {
	for _, in := range f.Instances {
		if in.UUID == uuidOrName || in.Name == uuidOrName {
			return in, true
		}
	}
	return InstanceFact{}, false
}

// nodesDesc returns the nodes ordered by UUID, descending, as confd lists
// them (src/Ganeti/Confd/Server.hs walks the node map backwards).
func (f *Facts) nodesDesc() []NodeFact {
	ns := slices.Clone(f.Nodes)
	slices.SortFunc(ns, func(a, b NodeFact) int { return -cmp.Compare(a.UUID, b.UUID) })
	return ns
}

// NodePIPList predicts the NODE_PIP_LIST answer: every node's primary IP,
// ordered by node UUID, descending.
func (f *Facts) NodePIPList() []string {
	var ips []string
	for _, n := range f.nodesDesc() {
		ips = append(ips, n.PrimaryIP)
	}
	return ips
}

// MCPIPList predicts the MC_PIP_LIST answer: the primary IPs of the nodes
// flagged master_candidate, ordered by node UUID, descending.
func (f *Facts) MCPIPList() []string {
	ips := []string{}
	for _, n := range f.nodesDesc() {
		if n.MasterCandidate {
			ips = append(ips, n.PrimaryIP)
		}
	}
	return ips
}

// instancesAsc returns the instances ordered by UUID, the order in which
// confd walks them.
func (f *Facts) instancesAsc() []InstanceFact {
	is := slices.Clone(f.Instances)
	slices.SortFunc(is, func(a, b InstanceFact) int { return cmp.Compare(a.UUID, b.UUID) })
	return is
}

// ipOwners builds confd's link → IP → instance map (docs/protocol.md §4.3): a
// later instance in UUID order wins a duplicate IP.
func (f *Facts) ipOwners() map[string]map[string]InstanceFact {
	m := make(map[string]map[string]InstanceFact)
	for _, in := range f.instancesAsc() {
		for _, nic := range in.NICs {
			if !nic.HasIP {
				continue
			}
			if m[nic.Link] == nil {
				m[nic.Link] = make(map[string]InstanceFact)
			}
			m[nic.Link][nic.IP] = in
		}
	}
	return m
}

// InstanceIPs predicts the INSTANCES_IPS_LIST answer for link: the IPs of
// the NICs on that link, sorted as strings, without repeats. It is never
// nil.
func (f *Facts) InstanceIPs(link string) []string {
	ips := []string{}
	for ip := range f.ipOwners()[link] {
		ips = append(ips, ip)
	}
	slices.Sort(ips)
	return ips
}

// NodePIPByInstanceIP predicts a single NODE_PIP_BY_INSTANCE_IP lookup: the
// primary IP of the primary node of the instance owning ip on link.
func (f *Facts) NodePIPByInstanceIP(link, ip string) (string, bool) {
	in, ok := f.ipOwners()[link][ip]
	if !ok {
		return "", false
	}
	n, ok := f.Node(in.PrimaryNode)
	if !ok {
		return "", false
	}
	return n.PrimaryIP, true
}

// DuplicateIPs returns, per link, the IPs that more than one NIC uses.
func (f *Facts) DuplicateIPs() map[string][]string {
	count := make(map[[2]string]int)
	for _, in := range f.Instances {
		for _, nic := range in.NICs {
			if nic.HasIP {
				count[[2]string{nic.Link, nic.IP}]++
			}
		}
	}
	out := make(map[string][]string)
	for k, c := range count {
		if c > 1 {
			out[k[0]] = append(out[k[0]], k[1])
		}
	}
	for _, ips := range out {
		slices.Sort(ips)
	}
	return out
}

// DRBDRows predicts the NODE_DRBD answer for the node with the given UUID
// (docs/protocol.md §3.8). It is never nil.
func (f *Facts) DRBDRows(nodeUUID string) []DRBDRow {
	rows := []DRBDRow{}
	self, ok := f.Node(nodeUUID)
	if !ok {
		return rows
	}
	var walk func(in InstanceFact, idx int, d DiskFact)
	walk = func(in InstanceFact, idx int, d DiskFact) {
		if d.DevType == DevDRBD && (d.NodeA == nodeUUID || d.NodeB == nodeUUID) {
			minor, peer := d.MinorA, d.NodeB
			if d.NodeA != nodeUUID {
				minor, peer = d.MinorB, d.NodeA
			}
			role := "secondary"
			if in.PrimaryNode == nodeUUID {
				role = "primary"
			}
			p, _ := f.Node(peer)
			rows = append(rows, DRBDRow{Node: self.Name, Minor: minor, Instance: in.Name,
				Disk: "disk/" + strconv.Itoa(idx), Role: role, Peer: p.Name})
		}
		for _, c := range d.Children {
			walk(in, idx, c)
		}
	}
	for _, in := range f.instancesAsc() {
		for i, d := range in.Disks {
			walk(in, i, d)
		}
	}
	return rows
}

// NodeInstances predicts the NODE_INSTANCES answer for a node as instance
// UUIDs: the instances it is primary for and those for which it is the
// other node of a top-level DRBD disk, both in UUID order.
func (f *Facts) NodeInstances(nodeUUID string) (primaries, secondaries []string) {
	primaries, secondaries = []string{}, []string{}
	for _, in := range f.instancesAsc() {
		if in.PrimaryNode == nodeUUID {
			primaries = append(primaries, in.UUID)
		}
		for _, d := range in.Disks {
			if d.DevType != DevDRBD {
				continue
			}
			other := d.NodeA
			if in.PrimaryNode == d.NodeA {
				other = d.NodeB
			}
			if other == nodeUUID {
				secondaries = append(secondaries, in.UUID)
				break
			}
		}
	}
	return primaries, secondaries
}

// Collectors predicts the DATA_COLLECTORS answer: for each of the six
// built-in collectors, whether it is active and its interval in
// microseconds. inst-status-xen is active only on a Xen cluster.
func (f *Facts) Collectors() map[string]DataCollector {
	out := make(map[string]DataCollector, len(CollectorNames))
	for _, n := range CollectorNames {
		c := DataCollector{Name: n, Active: true, Interval: 5 * time.Second}
		for _, dc := range f.DataCollectors {
			if dc.Name == n {
				c = dc
			}
		}
		if n == "inst-status-xen" && f.Hypervisor != "xen-pvm" && f.Hypervisor != "xen-hvm" {
			c.Active = false
		}
		out[n] = c
	}
	return out
}
