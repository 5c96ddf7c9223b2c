package config

import (
	"bytes"
	"hash/maphash"
	"unsafe"

	"github.com/goconfd/goconfd/internal/tjson"
)

// Leaves.
//
// A snapshot does not keep config.data as a tree: a tree of tjson values
// takes about six times the memory of its text. It keeps the top two
// levels as a small tree, the skeleton (the top-level record, the
// cluster record and the node, instance, disk, … maps), and every
// object or array below them (one node, one instance, one disk, one
// cluster parameter map) as a leaf: its normalized value encoded, as
// CONFIG_QUERY answers it, plus the few facts the indexes need (a node's
// name and IP, an instance's disks, a disk's DRBD minors).
//
// Loading reads the file with tjson's RawDepth: the whole text is
// checked, but the containers at depth 2 stay text. Each is then parsed
// alone (reusing one parser's memory), normalized, encoded and dropped,
// so a load holds one small tree at a time.
//
// A leaf is a pure function of its schema type and its text, so a Loader
// keeps the leaves of the last good load, keyed by a 128-bit hash of the
// text: when Ganeti rewrites config.data to change one instance, only
// that instance's leaf is made again, and the new snapshot shares every
// other leaf with the live one.

// leafKey identifies a leaf: the type it was read as and its text.
type leafKey struct {
	t      *schemaType
	h1, h2 uint64
	n      int
}

// leaf is one container below the skeleton.
type leaf struct {
	// enc is the normalized value, encoded.
	enc []byte
	// tree is the normalized value, kept (detached from the file) when
	// CONFIG_QUERY cannot walk enc exactly or quickly: a leaf larger than
	// maxEncodedLeaf, or one whose encoding holds surrogate escapes (the
	// encoding of a character above U+FFFF and that of two lone
	// surrogates are the same escapes, but their names differ).
	tree *tjson.Value
	// The facts of a node, instance or disk leaf; nil otherwise.
	node *nodeFacts
	inst *instFacts
	disk *diskFacts
}

// maxEncodedLeaf bounds the leaves that CONFIG_QUERY walks in their
// encoding, which costs a scan per request; larger ones keep a tree with
// indexed objects.
const maxEncodedLeaf = 16 << 10

// nodeFacts is what the indexes need of a node.
type nodeFacts struct {
	uuid, name, primaryIP string
	mc, offline, drained  bool
	serial                int64
}

// instFacts is what the indexes need of an instance.
type instFacts struct {
	uuid, name          string
	hasName, hasPrimary bool
	primary             string
	serial              int64
	// disks are the disks member's strings.
	disks []string
	nics  []nicFacts
}

// nicFacts is what the link map needs of a NIC.
type nicFacts struct {
	ip, link       string
	hasIP, hasLink bool
}

// diskFacts is what NODE_DRBD and NODE_INSTANCES need of a disk.
type diskFacts struct {
	// drbd is set when the disk itself is DRBD, with nodes A and B of
	// its logical_id (when it has at least two elements).
	drbd         bool
	hasNodes     bool
	nodeA, nodeB string
	// devices are the DRBD devices of the disk and its children, in
	// pre-order, that have complete logical IDs.
	devices []drbdDevice
}

// drbdDevice is one DRBD device: its nodes and their minors.
type drbdDevice struct {
	nodeA, nodeB   string
	minorA, minorB int64
}

// Loader loads config.data again and again, reusing from each good load
// the parts that the next one has unchanged. Its methods must not be
// called concurrently; the snapshots it returns are independent of it.
type Loader struct {
	seed1, seed2 maphash.Seed
	seeded       bool
	// prev are the leaves of the last good load, by key.
	prev  map[leafKey]*leaf
	stats LoadStats
}

// LoadStats counts the leaves of a load: the containers below the top
// two levels of config.data (nodes, instances, disks, cluster
// parameters), and how many of them were read anew rather than reused
// from the load before.
type LoadStats struct {
	Leaves int
	Made   int
}

// Stats returns the counts of the last good load.
func (ld *Loader) Stats() LoadStats { return ld.stats }

// Parse reads data as the package's Parse does, reusing leaves from the
// last good load. data is only read, during the call: the snapshot
// keeps no part of it.
func (ld *Loader) Parse(data []byte) (*Snapshot, error) {
	if len(data) == 0 {
		return ld.parse("")
	}
	return ld.parse(unsafe.String(&data[0], len(data)))
}

// Forget drops the leaves kept for reuse; the next load makes all anew.
func (ld *Loader) Forget() { ld.prev = nil }

// parse loads text. The snapshot does not keep text: every string it
// holds is copied out of it.
func (ld *Loader) parse(text string) (*Snapshot, error) {
	if !ld.seeded {
		ld.seed1, ld.seed2, ld.seeded = maphash.MakeSeed(), maphash.MakeSeed(), true
	}
	raw, err := tjson.ParseString(text, tjson.Options{Container: true, RawDepth: 2})
	if err != nil {
		return nil, errParse(err)
	}
	lm := &leafMaker{ld: ld, made: make(map[leafKey]uint32, len(ld.prev))}
	w := walker{inPlace: true, leaves: lm}
	w.path = w.pathBuf[:0]
	doc, err := w.walk(configSchema, &raw)
	if err != nil {
		return nil, errParse(err)
	}
	s := &Snapshot{leaves: lm.leaves}
	var a arena
	s.doc = a.detach(&doc)
	s.build()
	prev := make(map[leafKey]*leaf, len(lm.made))
	for k, i := range lm.made {
		prev[k] = lm.leaves[i]
	}
	ld.prev = prev
	ld.stats = LoadStats{Leaves: len(lm.leaves), Made: lm.madeNew}
	return s, nil
}

// leafMaker makes (or finds) the leaves of one load.
type leafMaker struct {
	ld *Loader
	// made maps the keys of this load's leaves to their index in leaves,
	// which Encoded values carry in Aux.
	made   map[leafKey]uint32
	leaves []*leaf
	parser tjson.Parser
	enc    []byte
	// madeNew counts the leaves made, not reused.
	madeNew int
}

// walkRaw reads the container text v (a Raw value) as a t: a leaf, or,
// for what makes no leaf (an empty container, or a container read as a
// scalar), the normalized value itself.
func (w *walker) walkRaw(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	lm := w.leaves
	if lm == nil {
		return tjson.Value{}, w.errorf("internal error: unread text")
	}
	k := leafKey{
		t:  t,
		h1: maphash.String(lm.ld.seed1, v.Str),
		h2: maphash.String(lm.ld.seed2, v.Str),
		n:  len(v.Str),
	}
	if i, ok := lm.made[k]; ok {
		return lm.value(i), nil
	}
	if l, ok := lm.ld.prev[k]; ok {
		return lm.add(k, l), nil
	}
	tree, err := lm.parser.ParseString(v.Str, tjson.Options{})
	if err != nil {
		// The text was checked with the rest of the file.
		return tjson.Value{}, w.errorf("internal error: %v", err)
	}
	out, err := w.walk(t, &tree)
	if err != nil {
		return tjson.Value{}, err
	}
	switch out.Kind {
	case tjson.Object, tjson.Array:
		if len(out.Obj) == 0 && len(out.Arr) == 0 {
			return tjson.Value{Kind: out.Kind}, nil
		}
	default:
		// A scalar: its strings are copied out when the skeleton is.
		return out, nil
	}
	lm.madeNew++
	return lm.add(k, lm.makeLeaf(t, &out)), nil
}

// value returns the skeleton's value for leaf i.
func (lm *leafMaker) value(i uint32) tjson.Value {
	l := lm.leaves[i]
	return tjson.Value{Kind: tjson.Encoded, Str: unsafe.String(&l.enc[0], len(l.enc)), Aux: i}
}

// add records l as this load's leaf for k.
func (lm *leafMaker) add(k leafKey, l *leaf) tjson.Value {
	i := uint32(len(lm.leaves))
	lm.leaves = append(lm.leaves, l)
	lm.made[k] = i
	return lm.value(i)
}

// makeLeaf makes the leaf of the normalized value v, a non-empty
// container read as t. v's memory is the parser's and the file's: the
// leaf copies what it keeps.
func (lm *leafMaker) makeLeaf(t *schemaType, v *tjson.Value) *leaf {
	lm.enc = tjson.AppendValue(lm.enc[:0], v)
	l := &leaf{}
	var strs []*string
	switch t.facts {
	case nodeFactsKind:
		l.node = readNodeFacts(v)
		strs = l.node.strings(strs)
	case instFactsKind:
		l.inst = readInstFacts(v)
		strs = l.inst.strings(strs)
	case diskFactsKind:
		l.disk = readDiskFacts(v)
		strs = l.disk.strings(strs)
	}
	// One allocation holds the encoding and every string of the facts.
	size := len(lm.enc)
	for _, p := range strs {
		size += len(*p)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, lm.enc...)
	l.enc = buf[:len(lm.enc):len(lm.enc)]
	for _, p := range strs {
		if len(*p) == 0 {
			continue
		}
		start := len(buf)
		buf = append(buf, *p...)
		*p = unsafe.String(&buf[start], len(*p))
	}
	if len(l.enc) > maxEncodedLeaf || hasSurrogateEscape(l.enc) {
		var a arena
		tree := a.detach(v)
		l.tree = &tree
	}
	return l
}

// hasSurrogateEscape reports whether enc holds a \uD800..\uDFFF escape.
func hasSurrogateEscape(enc []byte) bool {
	for {
		i := bytes.Index(enc, []byte(`\ud`))
		if i < 0 {
			return false
		}
		if i+3 < len(enc) && enc[i+3] >= '8' && enc[i+3] <= 'f' && !(enc[i+3] > '9' && enc[i+3] < 'a') {
			return true
		}
		enc = enc[i+3:]
	}
}

// Facts, read from a normalized value.

func readNodeFacts(v *tjson.Value) *nodeFacts {
	f := &nodeFacts{}
	// One pass over the members; a normalized object has no duplicate
	// keys.
	for j := range objMembers(v) {
		m := &v.Obj[j]
		switch m.Key {
		case "uuid":
			f.uuid = str(&m.Val)
		case "name":
			f.name = str(&m.Val)
		case "primary_ip":
			f.primaryIP = str(&m.Val)
		case "master_candidate":
			f.mc = boolean(&m.Val)
		case "offline":
			f.offline = boolean(&m.Val)
		case "drained":
			f.drained = boolean(&m.Val)
		case "serial_no":
			f.serial = integer(&m.Val)
		}
	}
	return f
}

func (f *nodeFacts) strings(dst []*string) []*string {
	return append(dst, &f.uuid, &f.name, &f.primaryIP)
}

func readInstFacts(v *tjson.Value) *instFacts {
	f := &instFacts{}
	for j := range objMembers(v) {
		m := &v.Obj[j]
		switch m.Key {
		case "uuid":
			f.uuid = str(&m.Val)
		case "serial_no":
			f.serial = integer(&m.Val)
		case "name":
			if m.Val.Kind == tjson.String {
				f.name, f.hasName = m.Val.Str, true
			}
		case "primary_node":
			if m.Val.Kind == tjson.String {
				f.primary, f.hasPrimary = m.Val.Str, true
			}
		case "disks":
			if m.Val.Kind == tjson.Array {
				f.disks = make([]string, len(m.Val.Arr))
				for i := range m.Val.Arr {
					f.disks[i] = m.Val.Arr[i].Str
				}
			}
		case "nics":
			if m.Val.Kind == tjson.Array {
				f.nics = make([]nicFacts, len(m.Val.Arr))
				for i := range m.Val.Arr {
					nic := &m.Val.Arr[i]
					n := &f.nics[i]
					if ip, ok := getMember(nic, "ip"); ok && ip.Kind == tjson.String {
						n.ip, n.hasIP = ip.Str, true
					}
					if l, ok := getMember(member(nic, "nicparams"), "link"); ok && l.Kind == tjson.String {
						n.link, n.hasLink = l.Str, true
					}
				}
			}
		}
	}
	return f
}

func (f *instFacts) strings(dst []*string) []*string {
	dst = append(dst, &f.uuid, &f.name, &f.primary)
	for i := range f.disks {
		dst = append(dst, &f.disks[i])
	}
	for i := range f.nics {
		dst = append(dst, &f.nics[i].ip, &f.nics[i].link)
	}
	return dst
}

func readDiskFacts(v *tjson.Value) *diskFacts {
	f := &diskFacts{}
	if strMember(v, "dev_type") == "drbd" {
		f.drbd = true
		if lid := arrMember(v, "logical_id"); len(lid) >= 2 {
			f.hasNodes, f.nodeA, f.nodeB = true, lid[0].Str, lid[1].Str
		}
	}
	var walk func(d *tjson.Value)
	walk = func(d *tjson.Value) {
		if strMember(d, "dev_type") == "drbd" {
			if lid := arrMember(d, "logical_id"); len(lid) >= 5 {
				ma, _ := tjson.Int([]byte(lid[3].Str))
				mb, _ := tjson.Int([]byte(lid[4].Str))
				f.devices = append(f.devices, drbdDevice{lid[0].Str, lid[1].Str, ma, mb})
			}
		}
		children := arrMember(d, "children")
		for i := range children {
			walk(&children[i])
		}
	}
	walk(v)
	return f
}

func (f *diskFacts) strings(dst []*string) []*string {
	dst = append(dst, &f.nodeA, &f.nodeB)
	for i := range f.devices {
		dst = append(dst, &f.devices[i].nodeA, &f.devices[i].nodeB)
	}
	return dst
}

// arena copies strings into shared chunks, so that a tree copied out of
// a file's memory costs few allocations.
type arena struct {
	chunk []byte
}

const arenaChunk = 64 << 10

// str returns a copy of s.
func (a *arena) str(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > cap(a.chunk)-len(a.chunk) {
		if len(s) > arenaChunk/4 {
			return string(bytes.Clone([]byte(s)))
		}
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, s...)
	return unsafe.String(&a.chunk[start], len(s))
}

// detach returns a deep copy of v whose strings are the arena's; an
// Encoded value's encoding (a leaf's) is kept as it is.
func (a *arena) detach(v *tjson.Value) tjson.Value {
	switch v.Kind {
	case tjson.String, tjson.Number:
		out := *v
		out.Str = a.str(v.Str)
		return out
	case tjson.Array:
		if len(v.Arr) == 0 {
			return tjson.Value{Kind: tjson.Array}
		}
		arr := make([]tjson.Value, len(v.Arr))
		for i := range v.Arr {
			arr[i] = a.detach(&v.Arr[i])
		}
		return tjson.Value{Kind: tjson.Array, Arr: arr}
	case tjson.Object:
		if len(v.Obj) == 0 {
			return tjson.Value{Kind: tjson.Object}
		}
		obj := make([]tjson.Member, len(v.Obj))
		for i := range v.Obj {
			obj[i] = tjson.Member{Key: a.str(v.Obj[i].Key), Val: a.detach(&v.Obj[i].Val)}
		}
		return tjson.Value{Kind: tjson.Object, Obj: obj}
	}
	return *v
}
