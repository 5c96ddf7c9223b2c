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
