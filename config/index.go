package config

import (
	"cmp"
	"slices"
	"strconv"
	"sync"

	"github.com/goconfd/goconfd/internal/tjson"
)

// build fills the indexes of s from its normalized document.
func (s *Snapshot) build() {
	d := &s.doc
	s.version = intMember(d, "version")
	s.serial = intMember(d, "serial_no")
	// The cluster record is small: its leaves are read back as trees.
	cluster := s.expandMembers(member(d, "cluster"))
	s.clusterSerial = intMember(&cluster, "serial_no")
	s.versionJSON = strconv.AppendInt(nil, s.version, 10)
	// Index the large maps first: the steps below look instances and
	// disks up by key.
	s.indexBigObjects(d)
	for _, l := range s.leaves {
		if l != nil && l.tree != nil {
			s.indexBigObjects(l.tree)
		}
	}

	s.buildNodes(member(d, "nodes"))
	disks := member(d, "disks")
	s.buildInstances(member(d, "instances"), disks)
	s.buildMaster(&cluster)
	// Three independent steps over what is built so far; each writes its
	// own fields.
	var wg sync.WaitGroup
	wg.Go(func() { s.nicLinks = buildNicLinks(s, &cluster) })
	wg.Go(s.buildDRBD)
	s.buildNodeInstances()
	s.dataCollectorsJSON = dataCollectorsJSON(&cluster)
	wg.Wait()
}

func (s *Snapshot) buildNodes(nodes *tjson.Value) {
	s.nodeByKey = make(map[string]*Node, len(objMembers(nodes)))
	s.nodeByName = make(map[string]*Node, len(objMembers(nodes)))
	all := make([]Node, len(objMembers(nodes)))
	for i := range objMembers(nodes) {
		m := &nodes.Obj[i]
		if _, dup := s.nodeByKey[m.Key]; dup {
			continue
		}
		n := &all[i]
		n.Key = m.Key
		if l := s.leaf(&m.Val); l != nil && l.node != nil {
			f := l.node
			n.UUID, n.Name, n.PrimaryIP = f.uuid, f.name, f.primaryIP
			n.MasterCandidate, n.Offline, n.Drained = f.mc, f.offline, f.drained
			n.Serial = f.serial
		}
		s.nodes = append(s.nodes, n)
		s.nodeByKey[n.Key] = n
	}
	slices.SortFunc(s.nodes, func(a, b *Node) int { return cmp.Compare(a.Key, b.Key) })
	var enc []byte
	for _, n := range s.nodes {
		start := len(enc)
		enc = tjson.AppendString(enc, n.Name)
		mid := len(enc)
		enc = tjson.AppendString(enc, n.PrimaryIP)
		n.nameJSON, n.pipJSON = enc[start:mid:mid], enc[mid:len(enc):len(enc)]
	}
	// M.mapKeys keeps the value of the greatest original key when names
	// collide: the nodes are in ascending key order, so later wins.
	for _, n := range s.nodes {
		s.nodeByName[n.Name] = n
	}
	s.nodePartial = partialIndex(s.nodeByName)

	// NODE_PIP_LIST and MC_PIP_LIST: foldlWithKey prepending, so by key
	// descending.
	all2 := []byte{'['}
	mc := []byte{'['}
	for i := len(s.nodes) - 1; i >= 0; i-- {
		n := s.nodes[i]
		all2 = appendListItem(all2, n.PrimaryIP)
		if n.MasterCandidate {
			mc = appendListItem(mc, n.PrimaryIP)
		}
	}
	s.nodePipListJSON = append(all2, ']')
	s.mcPipListJSON = append(mc, ']')
}

func appendListItem(dst []byte, s string) []byte {
	if len(dst) > 1 {
		dst = append(dst, ',')
	}
	return tjson.AppendString(dst, s)
}

// noInstFacts stands for an instance that is not an object.
var noInstFacts = &instFacts{}

func (s *Snapshot) buildInstances(instances, disks *tjson.Value) {
	n := len(objMembers(instances))
	s.instByKey = make(map[string]*Instance, n)
	s.instByName = make(map[string]*Instance, n)
	s.instByExactName = make(map[string]*Instance, n)
	s.instances = make([]*Instance, 0, n)
	all := make([]Instance, n)
	for i := range objMembers(instances) {
		m := &instances.Obj[i]
		if _, dup := s.instByKey[m.Key]; dup {
			continue
		}
		inst := &all[i]
		inst.Key = m.Key
		inst.facts = noInstFacts
		if l := s.leaf(&m.Val); l != nil && l.inst != nil {
			f := l.inst
			inst.facts = f
			inst.UUID, inst.Serial = f.uuid, f.serial
			inst.Name, inst.HasName = f.name, f.hasName
			inst.Primary, inst.HasPrimary = f.primary, f.hasPrimary
			inst.json = l.enc
		} else {
			inst.json = tjson.AppendValue(nil, &m.Val)
		}
		s.instances = append(s.instances, inst)
		s.instByKey[inst.Key] = inst
	}
	slices.SortFunc(s.instances, func(a, b *Instance) int { return cmp.Compare(a.Key, b.Key) })
	for _, inst := range s.instances {
		// getInstance's by-name map: the name, or "" when there is none,
		// with "" deleted; greatest key wins on collisions.
		if inst.HasName && inst.Name != "" {
			s.instByName[inst.Name] = inst
		}
		// getInstanceByName: the first instance in key order.
		if _, seen := s.instByExactName[inst.Name]; inst.HasName && !seen {
			s.instByExactName[inst.Name] = inst
		}
	}
	s.instPartial = partialIndex(s.instByName)

	// Each instance's disks member resolved once, by exact key; nil for
	// a disk that does not exist.
	for _, inst := range s.instances {
		if len(inst.facts.disks) == 0 {
			continue
		}
		inst.ownDisks = make([]*leaf, len(inst.facts.disks))
		for i, key := range inst.facts.disks {
			if dv, ok := s.get(disks, key); ok {
				inst.ownDisks[i] = s.diskLeaf(dv)
			}
		}
	}
	// INSTANCE_DISKS: getInstDisks looks the instance up again by its own
	// uuid member and then every disk by exact key.
	for _, inst := range s.instances {
		// An instance's uuid is its key in every config Ganeti writes:
		// then it is its own owner (keys are unique in instByKey).
		owner, lerr := inst, (*LookupError)(nil)
		if inst.UUID != inst.Key {
			owner, lerr = s.instance(inst.UUID)
		}
		if lerr != nil {
			inst.disksErr = &DisksError{Instance: lerr}
			continue
		}
		for i, d := range owner.ownDisks {
			if d == nil {
				inst.disksErr = &DisksError{Disk: owner.facts.disks[i]}
				break
			}
		}
		if inst.disksErr == nil {
			inst.disks = owner.ownDisks
		}
	}
}

// diskLeaf returns the leaf of a disk of the disks map. A disk is a
// non-empty object, so it always has one.
func (s *Snapshot) diskLeaf(v *tjson.Value) *leaf {
	if l := s.leaf(v); l != nil && l.disk != nil {
		return l
	}
	return &leaf{enc: tjson.AppendValue(nil, v), disk: &diskFacts{}}
}

func (s *Snapshot) buildMaster(cluster *tjson.Value) {
	s.master.ip = strMember(cluster, "master_ip")
	n, lerr := s.node(strMember(cluster, "master_node"))
	s.master.node, s.master.err = n, lerr
	if n != nil {
		s.master.nameJSON = tjson.AppendString(nil, n.Name)
	}
}

// buildNodeInstances computes the NODE_INSTANCES lists (Ganeti's
// getNodeInstances): primaries by primary_node; secondaries through the
// top-level DRBD disks that exist, the "other" node of each being node B
// when the primary is node A and node A otherwise.
func (s *Snapshot) buildNodeInstances() {
	byUUID := make(map[string][]*Node, len(s.nodes))
	for _, n := range s.nodes {
		byUUID[n.UUID] = append(byUUID[n.UUID], n)
	}
	for _, inst := range s.instances {
		if !inst.HasPrimary {
			continue
		}
		for _, n := range byUUID[inst.Primary] {
			n.primaries = append(n.primaries, inst)
		}
		var seen []string // the "other" nodes so far; instances have few disks
		for _, dl := range inst.ownDisks {
			if dl == nil {
				continue
			}
			d := dl.disk
			if !d.drbd || !d.hasNodes {
				continue
			}
			other := d.nodeA
			if inst.Primary == d.nodeA {
				other = d.nodeB
			}
			if slices.Contains(seen, other) {
				continue
			}
			seen = append(seen, other)
			for _, n := range byUUID[other] {
				n.secondaries = append(n.secondaries, inst)
			}
		}
	}
}

// indexBigObjects builds member indexes for the objects that CONFIG_QUERY
// would otherwise scan linearly: any object with many members.
func (s *Snapshot) indexBigObjects(v *tjson.Value) {
	const threshold = 32
	switch v.Kind {
	case tjson.Object:
		if len(v.Obj) >= threshold {
			if s.bigObjects == nil {
				s.bigObjects = make(map[*tjson.Value]map[string]int)
			}
			idx := make(map[string]int, len(v.Obj))
			for i := len(v.Obj) - 1; i >= 0; i-- {
				idx[v.Obj[i].Key] = i // first occurrence wins
			}
			s.bigObjects[v] = idx
		}
		for i := range v.Obj {
			s.indexBigObjects(&v.Obj[i].Val)
		}
	case tjson.Array:
		for i := range v.Arr {
			s.indexBigObjects(&v.Arr[i])
		}
	}
}
