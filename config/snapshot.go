package config

import (
	"cmp"
	"slices"
	"strconv"
	"sync"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// Snapshot is one loaded config.data. It is never modified after Parse
// returns, so any number of goroutines may read it.
type Snapshot struct {
	// doc is the skeleton of the normalized document: its top two levels,
	// with Encoded values for the leaves below (see leaf.go).
	doc tjson.Value
	// leaves are the leaves that doc's Encoded values name by Aux.
	leaves []*leaf
	// bigObjects indexes the members of large objects (the node, instance
	// and disk maps) for CONFIG_QUERY.
	bigObjects map[*tjson.Value]map[string]int

	version       int64
	serial        int64
	clusterSerial int64

	nodes      []*Node // ascending by map key
	nodeByKey  map[string]*Node
	nodeByName map[string]*Node
	// nodePartial maps each dotted prefix of a node name to the only node
	// it names, or to nil when it names several.
	nodePartial map[string]*Node

	instances       []*Instance
	instByKey       map[string]*Instance
	instByName      map[string]*Instance // names as getInstance sees them
	instPartial     map[string]*Instance
	instByExactName map[string]*Instance // getInstanceByName: first by key

	master   masterInfo
	nicLinks nicLinks

	versionJSON        []byte
	nodePipListJSON    []byte
	mcPipListJSON      []byte
	dataCollectorsJSON []byte
}

// Node is a node as confd answers about it.
type Node struct {
	// Key is the node's key in the nodes map (its UUID in 2.9+ configs).
	Key string
	// UUID is the node's own uuid member, which Ganeti compares with
	// instances' primary_node and DRBD logical IDs.
	UUID            string
	Name            string
	PrimaryIP       string
	MasterCandidate bool
	Offline         bool
	Drained         bool
	Serial          int64

	// nameJSON and pipJSON are the name and primary IP, encoded.
	nameJSON, pipJSON []byte
	// drbdJSON is the NODE_DRBD answer, or drbdErr its error text.
	drbdJSON []byte
	drbdErr  string
	// primaries and secondaries are the NODE_INSTANCES lists.
	primaries, secondaries []*Instance
}

// Instance is an instance as confd answers about it.
type Instance struct {
	Key     string
	UUID    string
	Name    string
	HasName bool
	Serial  int64
	// Primary is the primary_node member; HasPrimary is false when it is
	// absent.
	Primary    string
	HasPrimary bool

	facts *instFacts
	json  []byte // the normalized object, encoded
	// disks are the INSTANCE_DISKS answer's disks, or disksErr its error
	// text.
	disks    []*leaf
	disksErr string
	// ownDisks are the disks its disks member names, nil where one does
	// not exist.
	ownDisks []*leaf
}

type masterInfo struct {
	node *Node
	// err is the lookup error when cluster.master_node names no node.
	err      *LookupError
	ip       string
	nameJSON []byte
}

// Version returns the config's top-level version (the PING answer).
func (s *Snapshot) Version() int64 { return s.version }

// Serial returns the top-level serial_no, which Ganeti logs on load but
// never sends.
func (s *Snapshot) Serial() int64 { return s.serial }

// ClusterSerial returns cluster.serial_no, the serial of most answers.
func (s *Snapshot) ClusterSerial() int64 { return s.clusterSerial }

// VersionJSON returns the encoded PING answer.
func (s *Snapshot) VersionJSON() []byte { return s.versionJSON }

// NodePipListJSON returns the encoded NODE_PIP_LIST answer: every node's
// primary IP, by node key descending (docs/protocol.md §3.5).
func (s *Snapshot) NodePipListJSON() []byte { return s.nodePipListJSON }

// McPipListJSON returns the encoded MC_PIP_LIST answer.
func (s *Snapshot) McPipListJSON() []byte { return s.mcPipListJSON }

// DataCollectorsJSON returns the encoded DATA_COLLECTORS answer.
func (s *Snapshot) DataCollectorsJSON() []byte { return s.dataCollectorsJSON }

// Nodes returns the nodes in ascending key order. The caller must not
// modify the slice.
func (s *Snapshot) Nodes() []*Node { return s.nodes }

// Instances returns the instances in ascending key order. The caller must
// not modify the slice.
func (s *Snapshot) Instances() []*Instance { return s.instances }

// Master returns the master node, or the error Ganeti gives when
// cluster.master_node names no node.
func (s *Snapshot) Master() (*Node, *LookupError) {
	return s.master.node, s.master.err
}

// MasterIP returns cluster.master_ip.
func (s *Snapshot) MasterIP() string { return s.master.ip }

// MasterNameJSON returns the master's name, encoded, or nil when there is
// no master node.
func (s *Snapshot) MasterNameJSON() []byte { return s.master.nameJSON }

// MaxAnswerSize bounds the answers assembled per request (CONFIG_QUERY,
// NODE_INSTANCES): past it no reply fits in a UDP datagram, so encoding
// stops early and the caller drops the request.
const MaxAnswerSize = protocol.MaxReplySize

// AppendInstancesJSON appends the NODE_INSTANCES answer for n:
// [[primary instances], [secondary instances]] as full objects. Like
// AppendQuery it stops once the output passes MaxAnswerSize.
func (n *Node) AppendInstancesJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for j, list := range [2][]*Instance{n.primaries, n.secondaries} {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for i, inst := range list {
			if len(dst) > MaxAnswerSize {
				return dst
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, inst.json...)
		}
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// AppendDisks appends the INSTANCE_DISKS answer for inst (encoded) to
// dst, or returns the error text that replaces it when a disk is
// missing. Like AppendQuery it stops once the output passes
// MaxAnswerSize.
func (inst *Instance) AppendDisks(dst []byte) (_ []byte, errText string) {
	if inst.disksErr != "" {
		return dst, inst.disksErr
	}
	dst = append(dst, '[')
	for i, d := range inst.disks {
		if len(dst) > MaxAnswerSize {
			return dst, ""
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, d.enc...)
	}
	return append(dst, ']'), ""
}

// JSON returns the instance's normalized object, encoded.
func (inst *Instance) JSON() []byte { return inst.json }

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

// leaf returns the leaf of an Encoded value, or nil.
func (s *Snapshot) leaf(v *tjson.Value) *leaf {
	if v == nil || v.Kind != tjson.Encoded {
		return nil
	}
	return s.leaves[v.Aux]
}

// expand returns v as a tree: a leaf's value read back from its
// encoding (exact: leaves whose encoding is not are kept as trees), or
// v itself.
func (s *Snapshot) expand(v *tjson.Value) *tjson.Value {
	l := s.leaf(v)
	if l == nil {
		return v
	}
	if l.tree != nil {
		return l.tree
	}
	t, err := tjson.Parse(l.enc, tjson.Options{})
	if err != nil {
		return &tjson.Value{}
	}
	return &t
}

// expandMembers returns the object v with its members' leaves expanded.
func (s *Snapshot) expandMembers(v *tjson.Value) tjson.Value {
	if v.Kind != tjson.Object {
		return *v
	}
	obj := make([]tjson.Member, len(v.Obj))
	for i, m := range v.Obj {
		obj[i] = tjson.Member{Key: m.Key, Val: *s.expand(&m.Val)}
	}
	return tjson.Value{Kind: tjson.Object, Obj: obj}
}

// get returns the first member of v named key, through the member index
// when v is a large object.
func (s *Snapshot) get(v *tjson.Value, key string) (*tjson.Value, bool) {
	return objectMember(s, v, key)
}

// objectMember is Snapshot.get for a name held in a string or, without
// copying it, in a byte slice (a pointer token).
func objectMember[K ~string | ~[]byte](s *Snapshot, v *tjson.Value, key K) (*tjson.Value, bool) {
	if v == nil || v.Kind != tjson.Object {
		return nil, false
	}
	if idx, ok := s.bigObjects[v]; ok {
		i, ok := idx[string(key)]
		if !ok {
			return nil, false
		}
		return &v.Obj[i].Val, true
	}
	for i := range v.Obj {
		if v.Obj[i].Key == string(key) {
			return &v.Obj[i].Val, true
		}
	}
	return nil, false
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
			inst.disksErr = "Could not retrieve disks: " + lerr.Error()
			continue
		}
		for i, d := range owner.ownDisks {
			if d == nil {
				inst.disksErr = "Could not retrieve disks: OpPrereqError " +
					hs.ShowString("Disk uuid "+owner.facts.disks[i]+" not found") + " ECodeNoEnt"
				break
			}
		}
		if inst.disksErr == "" {
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

// Helpers over the normalized document. The schema has already checked
// kinds, so a mismatch here only yields a zero value.

func member(v *tjson.Value, key string) *tjson.Value {
	if m, ok := getMember(v, key); ok {
		return m
	}
	return &tjson.Value{}
}

func getMember(v *tjson.Value, key string) (*tjson.Value, bool) {
	if v == nil || v.Kind != tjson.Object {
		return nil, false
	}
	return v.Get(key)
}

func objMembers(v *tjson.Value) []tjson.Member {
	if v == nil || v.Kind != tjson.Object {
		return nil
	}
	return v.Obj
}

func strMember(v *tjson.Value, key string) string {
	if m, ok := getMember(v, key); ok {
		return str(m)
	}
	return ""
}

func boolMember(v *tjson.Value, key string) bool {
	m, ok := getMember(v, key)
	return ok && boolean(m)
}

func intMember(v *tjson.Value, key string) int64 {
	if m, ok := getMember(v, key); ok {
		return integer(m)
	}
	return 0
}

// str, boolean and integer read a value of the kind the schema checked,
// or give the zero value.

func str(v *tjson.Value) string {
	if v.Kind == tjson.String {
		return v.Str
	}
	return ""
}

func boolean(v *tjson.Value) bool { return v.Kind == tjson.Bool && v.Bool }

func integer(v *tjson.Value) int64 {
	if v.Kind != tjson.Number {
		return 0
	}
	n, _ := tjson.Int([]byte(v.Str))
	return n
}

func arrMember(v *tjson.Value, key string) []tjson.Value {
	if m, ok := getMember(v, key); ok && m.Kind == tjson.Array {
		return m.Arr
	}
	return nil
}
