package clustergen

import (
	"errors"
	"fmt"
	"time"
)

// Limits of the generator. They keep the address plans and the name widths
// simple; none of them is a limit of Ganeti.
const (
	// MaxLinks is the largest number of NIC links (each link gets its own
	// /12 of 10.0.0.0/8 for instance addresses).
	MaxLinks = 16
	// MaxNetworks is the largest number of Ganeti networks (each is a /24
	// of 172.20.0.0/16).
	MaxNetworks = 256
	// MaxNodes is the largest number of nodes (primary addresses are taken
	// from 192.168.0.0/16).
	MaxNodes = 60000
)

// Options describe the cluster to build. The zero value of a count means
// "choose for me" where a cluster cannot do without the thing (nodes, node
// groups, links) and "none" where it can (instances, networks). Start from
// Default (or Demo) and change what the test cares about.
type Options struct {
	// Seed makes the output reproducible: the same Options give the same
	// bytes and the same Facts.
	Seed uint64

	// ClusterName is the cluster's name; default "cluster.<Domain>".
	ClusterName string
	// Domain is appended to generated node and instance names; default
	// "example.org".
	Domain string

	// Nodes is the number of nodes; 0 derives it from the instance count
	// (one node per 20 instances, at least 8).
	Nodes int
	// Instances is the number of instances. Ignored when TargetSize is set.
	Instances int
	// NodeGroups is the number of node groups (default 1). Nodes are split
	// into contiguous blocks; the master is in the first group.
	NodeGroups int
	// Links is the number of NIC links, at least 2 (default 2). Links[0]
	// ("br0") is the cluster default link.
	Links int
	// Networks is the number of Ganeti networks (IPv4 /24s, each connected
	// to every node group on a non-default link). Some NICs are attached to
	// them.
	Networks int

	// Candidates is the number of master candidates besides the master;
	// 0 means a default (about one node in ten, at least 2, at most 9, as
	// many as fit), negative means none.
	Candidates int
	// Drained, Offline and DrainedOffline are the numbers of nodes that are
	// drained only, offline only, and both drained and offline (confd
	// reports the latter as drained). 0 means a default (about one node in
	// 25, at least one, as many as fit; DrainedOffline defaults to one when
	// the cluster has at least 10 nodes), negative means none. The nodes
	// left over are regular (no flag).
	Drained, Offline, DrainedOffline int

	// DRBDFraction is the fraction of instances whose disks are DRBD (the
	// rest are file or plain). DRBD needs two nodes; on a one-node cluster
	// those instances get plain disks.
	DRBDFraction float64
	// FileFraction is the fraction of instances whose disks are file disks.
	// DRBDFraction+FileFraction must not exceed 1; the rest are plain.
	FileFraction float64
	// MaxDisks is the largest number of disks of one instance (default 2);
	// each instance has between 1 and MaxDisks.
	MaxDisks int
	// FlatDRBD leaves out the data and meta LVs under each DRBD disk. 3.0
	// always writes them (as "children"), so this is a stress case only.
	FlatDRBD bool

	// IPv6 gives nodes IPv6 primary and secondary addresses, an IPv6 master
	// IP and primary_ip_family 10; about half of the instance addresses are
	// IPv6 too.
	IPv6 bool
	// NonASCII gives every fourth node and instance a name with non-ASCII
	// letters, one of them outside the Basic Multilingual Plane.
	NonASCII bool
	// ASCIIOnly writes non-ASCII characters as \uXXXX escapes (surrogate
	// pairs above U+FFFF) instead of raw UTF-8.
	ASCIIOnly bool
	// OmitOptional leaves out every member the 3.0 object model can do
	// without (defaulted or optional members such as tags, ctime, mtime,
	// children, iv_name, mode, params, members, beparams). The result still
	// loads, but it is no longer what the object model writes back.
	OmitOptional bool
	// Indent writes indented JSON (two spaces) instead of compact JSON.
	Indent bool

	// TargetSize, when positive, chooses the number of instances (and, if
	// Nodes is 0, nodes) so that the output is about this many bytes
	// (within a few per cent above 100 kB).
	TargetSize int

	// Serial is the top-level serial_no; default ClusterSerial+1000.
	Serial int
	// ClusterSerial is cluster.serial_no, the serial of most confd
	// answers; default 42.
	ClusterSerial int
	// MaxObjectSerial bounds the serial_no of nodes, instances, node
	// groups, networks and disks, drawn from 1..MaxObjectSerial; default 25.
	MaxObjectSerial int

	// Hypervisor is the only enabled hypervisor, "kvm" (default),
	// "xen-pvm" or "xen-hvm". KVM instances get a network_port.
	Hypervisor string
	// Epoch is the latest ctime/mtime written; default 2024-05-01 UTC.
	Epoch time.Time

	// NodeNames, GroupNames and InstanceNames override the generated names
	// of the first len(...) objects. Names must be unique.
	NodeNames, GroupNames, InstanceNames []string
	// ClusterTags are the cluster's tags.
	ClusterTags []string
	// DataCollectors overrides cluster.data_collectors; nil means the six
	// built-in collectors, active, every five seconds.
	DataCollectors []DataCollector

	// nodesAuto records that Nodes was derived from the instance count.
	nodesAuto bool
}

// DataCollector is one entry of cluster.data_collectors.
type DataCollector struct {
	// Name is the collector's name, e.g. "cpu-avg-load".
	Name string
	// Active says whether the collector runs.
	Active bool
	// Interval is how often it runs; written in microseconds.
	Interval time.Duration
}

// CollectorNames are the six data collectors Ganeti 3.0 knows, in the order
// confd reports them.
var CollectorNames = []string{"cpu-avg-load", "diskstats", "drbd", "inst-status-xen", "lv", "xen-cpu-avg-load"}

// Default returns options for a small but complete cluster: eight nodes
// with every role, two groups, two links, a network, and 24 instances with
// DRBD, plain and file disks.
func Default() Options {
	return Options{
		Seed:            1,
		Nodes:           8,
		Instances:       24,
		NodeGroups:      2,
		Links:           2,
		Networks:        1,
		DRBDFraction:    0.5,
		FileFraction:    0.1,
		MaxDisks:        2,
		ClusterSerial:   42,
		MaxObjectSerial: 25,
	}
}

// Demo returns the options that build the demo cluster of examples/: seven
// nodes with every role in two groups, ten instances with plausible names,
// two links and a network. examples/config.data is Generate(Demo()).
func Demo() Options {
	o := Default()
	o.Seed = 3000002
	o.ClusterName = "demo.example.org"
	o.Domain = "example.org"
	o.Nodes = 7
	o.Candidates = 2
	o.Drained = 1
	o.Offline = 1
	o.DrainedOffline = -1
	o.NodeGroups = 2
	o.GroupNames = []string{"default", "rack-b"}
	o.Instances = 10
	o.InstanceNames = []string{
		"web1.example.org", "web2.example.org", "db1.example.org", "db2.example.org",
		"mail.example.org", "dns1.example.org", "dns2.example.org", "build.example.org",
		"monitor.example.org", "backup.example.org",
	}
	o.DRBDFraction = 0.5
	o.FileFraction = 0.1
	o.ClusterSerial = 128
	o.Serial = 1337
	o.Indent = true
	o.ClusterTags = []string{"env:demo", "owner:ops"}
	o.DataCollectors = []DataCollector{
		{Name: "cpu-avg-load", Active: true, Interval: 5 * time.Second},
		{Name: "diskstats", Active: true, Interval: 5 * time.Second},
		{Name: "drbd", Active: true, Interval: 5 * time.Second},
		{Name: "inst-status-xen", Active: true, Interval: 5 * time.Second},
		{Name: "lv", Active: true, Interval: 10 * time.Second},
		{Name: "xen-cpu-avg-load", Active: false, Interval: 5 * time.Second},
	}
	return o
}

// roleCounts is how many nodes of each role a cluster gets.
type roleCounts struct {
	candidates, drained, offline, drainedOffline int
}

// normalized returns o with defaults filled in and checks it.
func (o Options) normalized() (Options, error) {
	if o.Domain == "" {
		o.Domain = "example.org"
	}
	if o.ClusterName == "" {
		o.ClusterName = "cluster." + o.Domain
	}
	if o.Instances < 0 {
		return o, fmt.Errorf("instances: %d is negative", o.Instances)
	}
	if o.Nodes < 0 || o.Nodes > MaxNodes {
		return o, fmt.Errorf("nodes: %d is not in 0..%d", o.Nodes, MaxNodes)
	}
	if o.Nodes == 0 {
		o.nodesAuto = true
		o.Nodes = max(8, (o.Instances+19)/20)
		if o.Nodes > MaxNodes {
			o.Nodes = MaxNodes
		}
	}
	if o.NodeGroups == 0 {
		o.NodeGroups = 1
	}
	if o.NodeGroups < 0 || o.NodeGroups > o.Nodes {
		return o, fmt.Errorf("node groups: %d is not in 1..%d (the node count)", o.NodeGroups, o.Nodes)
	}
	if o.Links == 0 {
		o.Links = 2
	}
	if o.Links < 2 || o.Links > MaxLinks {
		return o, fmt.Errorf("links: %d is not in 2..%d", o.Links, MaxLinks)
	}
	if o.Networks < 0 || o.Networks > MaxNetworks {
		return o, fmt.Errorf("networks: %d is not in 0..%d", o.Networks, MaxNetworks)
	}
	if o.DRBDFraction < 0 || o.DRBDFraction > 1 || o.FileFraction < 0 || o.FileFraction > 1 ||
		o.DRBDFraction+o.FileFraction > 1 {
		return o, fmt.Errorf("disk fractions: drbd %g and file %g must be in [0,1] and add up to at most 1",
			o.DRBDFraction, o.FileFraction)
	}
	if o.MaxDisks == 0 {
		o.MaxDisks = 2
	}
	if o.MaxDisks < 1 || o.MaxDisks > 16 {
		return o, fmt.Errorf("max disks: %d is not in 1..16", o.MaxDisks)
	}
	if o.ClusterSerial == 0 {
		o.ClusterSerial = 42
	}
	if o.Serial == 0 {
		o.Serial = o.ClusterSerial + 1000
	}
	if o.MaxObjectSerial <= 0 {
		o.MaxObjectSerial = 25
	}
	switch o.Hypervisor {
	case "":
		o.Hypervisor = "kvm"
	case "kvm", "xen-pvm", "xen-hvm":
	default:
		return o, fmt.Errorf("hypervisor: %q is not one of kvm, xen-pvm, xen-hvm", o.Hypervisor)
	}
	if o.Epoch.IsZero() {
		o.Epoch = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.TargetSize < 0 {
		return o, fmt.Errorf("target size: %d is negative", o.TargetSize)
	}
	if len(o.NodeNames) > o.Nodes || len(o.GroupNames) > o.NodeGroups || len(o.InstanceNames) > o.Instances {
		return o, errors.New("more names given than objects asked for")
	}
	for what, names := range map[string][]string{"node": o.NodeNames, "group": o.GroupNames, "instance": o.InstanceNames} {
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if n == "" || seen[n] {
				return o, fmt.Errorf("%s names: %q is empty or repeated", what, n)
			}
			seen[n] = true
		}
	}
	if o.DataCollectors == nil {
		for _, n := range CollectorNames {
			o.DataCollectors = append(o.DataCollectors, DataCollector{Name: n, Active: true, Interval: 5 * time.Second})
		}
	}
	if _, err := o.roles(); err != nil {
		return o, err
	}
	return o, nil
}

// roles decides how many nodes get each role. The master always exists;
// defaulted counts shrink, in the order below, until one regular node is
// left, but a second node is a candidate rather than a regular node.
func (o Options) roles() (roleCounts, error) {
	n := o.Nodes
	pick := func(asked, def int) int {
		switch {
		case asked < 0:
			return 0
		case asked > 0:
			return asked
		}
		return def
	}
	defBoth := 0
	if n >= 10 {
		defBoth = 1
	}
	r := roleCounts{
		candidates:     pick(o.Candidates, min(9, max(2, n/10))),
		drained:        pick(o.Drained, max(1, n/25)),
		offline:        pick(o.Offline, max(1, n/25)),
		drainedOffline: pick(o.DrainedOffline, defBoth),
	}
	total := func() int { return 1 + r.candidates + r.drained + r.offline + r.drainedOffline }
	// Shrink the defaulted counts (never the asked ones) until a regular
	// node is left or nothing more can shrink.
	shrink := []struct {
		v     *int
		asked int
		floor int
	}{
		{&r.drainedOffline, o.DrainedOffline, 0},
		{&r.candidates, o.Candidates, 1},
		{&r.offline, o.Offline, 0},
		{&r.drained, o.Drained, 0},
	}
	for _, s := range shrink {
		for total() > n-1 && s.asked == 0 && *s.v > s.floor {
			*s.v--
		}
	}
	for total() > n && o.Candidates == 0 && r.candidates > 0 {
		r.candidates--
	}
	if total() > n {
		return r, fmt.Errorf("roles: master, %d candidates, %d drained, %d offline and %d drained+offline nodes do not fit in %d nodes",
			r.candidates, r.drained, r.offline, r.drainedOffline, n)
	}
	return r, nil
}
