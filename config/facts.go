package config

import (
	"github.com/goconfd/goconfd/internal/tjson"
)

// Facts: what the indexes need of a leaf, read from its normalized value.

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

// factStrings lists the strings of a leaf's facts as they are read: they
// come from the normalized value, whose memory is the parser's and the
// file's, and makeLeaf copies them, with the leaf's encoding, into memory
// the leaf owns. Each string is listed where it is read (set), so no
// separate list of a facts type's strings can fall out of step with it.
type factStrings []*string

// set stores s in *dst and lists dst for copying.
func (fs *factStrings) set(dst *string, s string) {
	*dst = s
	if s != "" {
		*fs = append(*fs, dst)
	}
}

// readFacts reads into l the facts its type keeps (schemaType.facts)
// from v, its normalized value, listing their strings in fs.
func (l *leaf) readFacts(v *tjson.Value, fs *factStrings) {
	switch l.t.facts {
	case nodeFactsKind:
		l.node = readNodeFacts(v, fs)
	case instFactsKind:
		l.inst = readInstFacts(v, fs)
	case diskFactsKind:
		l.disk = readDiskFacts(v, fs)
	}
}

// optString reads an optional string fact: ok is false when v is absent
// or not a string.
func optString(v *tjson.Value, ok bool) (string, bool) {
	if !ok || v.Kind != tjson.String {
		return "", false
	}
	return v.Str, true
}

func readNodeFacts(v *tjson.Value, fs *factStrings) *nodeFacts {
	f := &nodeFacts{}
	// One pass over the members; a normalized object has no duplicate
	// keys.
	for j := range objMembers(v) {
		m := &v.Obj[j]
		switch m.Key {
		case "uuid":
			fs.set(&f.uuid, str(&m.Val))
		case "name":
			fs.set(&f.name, str(&m.Val))
		case "primary_ip":
			fs.set(&f.primaryIP, str(&m.Val))
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

func readInstFacts(v *tjson.Value, fs *factStrings) *instFacts {
	f := &instFacts{}
	for j := range objMembers(v) {
		m := &v.Obj[j]
		switch m.Key {
		case "uuid":
			fs.set(&f.uuid, str(&m.Val))
		case "serial_no":
			f.serial = integer(&m.Val)
		case "name":
			var name string
			name, f.hasName = optString(&m.Val, true)
			fs.set(&f.name, name)
		case "primary_node":
			var primary string
			primary, f.hasPrimary = optString(&m.Val, true)
			fs.set(&f.primary, primary)
		case "disks":
			if m.Val.Kind == tjson.Array {
				f.disks = make([]string, len(m.Val.Arr))
				for i := range m.Val.Arr {
					fs.set(&f.disks[i], m.Val.Arr[i].Str)
				}
			}
		case "nics":
			if m.Val.Kind == tjson.Array {
				f.nics = make([]nicFacts, len(m.Val.Arr))
				for i := range m.Val.Arr {
					nic := &m.Val.Arr[i]
					n := &f.nics[i]
					var ip, link string
					ip, n.hasIP = optString(getMember(nic, "ip"))
					link, n.hasLink = optString(getMember(member(nic, "nicparams"), "link"))
					fs.set(&n.ip, ip)
					fs.set(&n.link, link)
				}
			}
		}
	}
	return f
}

func readDiskFacts(v *tjson.Value, fs *factStrings) *diskFacts {
	f := &diskFacts{}
	if strMember(v, "dev_type") == "drbd" {
		f.drbd = true
		if lid := arrMember(v, "logical_id"); len(lid) >= 2 {
			f.hasNodes = true
			fs.set(&f.nodeA, lid[0].Str)
			fs.set(&f.nodeB, lid[1].Str)
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
	// Listed once the devices are all appended: append moves them.
	for i := range f.devices {
		dev := &f.devices[i]
		fs.set(&dev.nodeA, dev.nodeA)
		fs.set(&dev.nodeB, dev.nodeB)
	}
	return f
}
