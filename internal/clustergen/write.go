package clustergen

import (
	"cmp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/goconfd/goconfd/internal/tjson"
)

// enc appends compact JSON to a byte slice. The document's shape is known,
// so members are written in a fixed order with their separators, which
// makes a 50 MB config a matter of tens of milliseconds.
type enc struct {
	b     []byte
	ascii bool // escape non-ASCII as \uXXXX
}

func (e *enc) raw(s string) { e.b = append(e.b, s...) }

// safe writes s as a JSON string without looking at it: for the UUIDs,
// addresses, MACs and hex strings the generator made itself.
func (e *enc) safe(s string) {
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

func (e *enc) int(v int) { e.b = strconv.AppendInt(e.b, int64(v), 10) }

func (e *enc) bool(v bool) { e.b = strconv.AppendBool(e.b, v) }

// time writes a timestamp the way Ganeti stores it: seconds as a float.
func (e *enc) time(v float64) { e.b = strconv.AppendFloat(e.b, v, 'f', -1, 64) }

// str writes s as a JSON string: quotes, backslashes and control
// characters escaped, everything else raw (or \u-escaped when ascii).
func (e *enc) str(s string) {
	e.b = append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if !e.ascii {
				i++
				continue
			}
			e.b = append(e.b, s[start:i]...)
			r, size := utf8.DecodeRuneInString(s[i:])
			e.b = tjson.AppendUnicodeEscape(e.b, r)
			i += size
			start = i
			continue
		}
		e.b = append(e.b, s[start:i]...)
		switch c {
		case '"', '\\':
			e.b = append(e.b, '\\', c)
		case '\n':
			e.b = append(e.b, '\\', 'n')
		case '\t':
			e.b = append(e.b, '\\', 't')
		case '\r':
			e.b = append(e.b, '\\', 'r')
		default:
			e.b = tjson.AppendUnicodeEscape(e.b, rune(c))
		}
		i++
		start = i
	}
	e.b = append(e.b, s[start:]...)
	e.b = append(e.b, '"')
}

func (e *enc) strs(ss []string) {
	e.b = append(e.b, '[')
	for i, s := range ss {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(s)
	}
	e.b = append(e.b, ']')
}

func (e *enc) ints(vs []int) {
	e.b = append(e.b, '[')
	for i, v := range vs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.int(v)
	}
	e.b = append(e.b, ']')
}

// tail writes the members every object ends with, in the order of the
// object model: ctime, mtime, uuid, serial_no, tags (src/Ganeti/THH/Field.hs
// timeStampFields, uuidFields, serialFields, tagsFields). Networks put the
// uuid first; the caller says so.
func (e *enc) tail(t stamps, uuid string, serial int, tags []string, omit, uuidFirst bool) {
	if uuidFirst {
		e.raw(`,"uuid":`)
		e.safe(uuid)
	}
	if !omit {
		e.raw(`,"ctime":`)
		e.time(t.ctime)
		e.raw(`,"mtime":`)
		e.time(t.mtime)
	}
	if !uuidFirst {
		e.raw(`,"uuid":`)
		e.safe(uuid)
	}
	e.raw(`,"serial_no":`)
	e.int(serial)
	if !omit || len(tags) > 0 {
		e.raw(`,"tags":`)
		if tags == nil {
			tags = []string{}
		}
		e.strs(tags)
	}
}

// sizeHint guesses the output size (a little high) to allocate once.
func (m *model) sizeHint() int {
	n := 16384 + 800*len(m.f.Nodes) + 600*len(m.f.Groups) + 800*len(m.f.Networks)
	for _, in := range m.f.Instances {
		n += 620 + 190*len(in.NICs) + len(in.Name)
		for _, d := range in.Disks {
			n += 400 + 2*len(d.Path) + 360*len(d.Children)
		}
	}
	return n
}

// write appends the config document to b, members in the order the 3.0
// object model writes them (src/Ganeti/Objects.hs), maps in ascending key
// order.
func (m *model) write(b []byte) []byte {
	e := &enc{b: b, ascii: m.o.ASCIIOnly}
	f, o := m.f, m.o
	omit := o.OmitOptional

	e.raw(`{"version":`)
	e.int(f.Version)
	e.raw(`,"cluster":`)
	m.writeCluster(e)

	e.raw(`,"nodes":{`)
	for k, i := range sortedBy(len(f.Nodes), func(i int) string { return f.Nodes[i].UUID }) {
		n := f.Nodes[i]
		if k > 0 {
			e.raw(`,`)
		}
		e.safe(n.UUID)
		e.raw(`:{"name":`)
		e.str(n.Name)
		e.raw(`,"primary_ip":`)
		e.safe(n.PrimaryIP)
		e.raw(`,"secondary_ip":`)
		e.safe(n.SecondaryIP)
		e.raw(`,"master_candidate":`)
		e.bool(n.MasterCandidate)
		e.raw(`,"offline":`)
		e.bool(n.Offline)
		e.raw(`,"drained":`)
		e.bool(n.Drained)
		e.raw(`,"group":`)
		e.safe(n.Group)
		e.raw(`,"master_capable":`)
		e.bool(n.MasterCapable)
		e.raw(`,"vm_capable":true,"ndparams":{},"powered":true`)
		e.tail(m.nodes[i].t, n.UUID, n.Serial, n.Tags, omit, false)
		e.raw(`}`)
	}

	e.raw(`},"nodegroups":{`)
	for k, i := range sortedBy(len(f.Groups), func(i int) string { return f.Groups[i].UUID }) {
		g := f.Groups[i]
		if k > 0 {
			e.raw(`,`)
		}
		e.safe(g.UUID)
		e.raw(`:{"name":`)
		e.str(g.Name)
		if !omit {
			e.raw(`,"members":[]`)
		}
		e.raw(`,"ndparams":{},"alloc_policy":`)
		e.str(m.groups[i].policy)
		e.raw(`,"ipolicy":{},"diskparams":{},"networks":{`)
		for j, ni := range sortedBy(len(f.Networks), func(i int) string { return f.Networks[i].UUID }) {
			if j > 0 {
				e.raw(`,`)
			}
			e.safe(f.Networks[ni].UUID)
			e.raw(`:{"mode":"bridged","link":`)
			e.str(f.Networks[ni].Link)
			e.raw(`,"vlan":""}`)
		}
		e.raw(`}`)
		e.tail(m.groups[i].t, g.UUID, g.Serial, nil, omit, false)
		e.raw(`}`)
	}

	e.raw(`},"instances":{`)
	for k, i := range sortedBy(len(f.Instances), func(i int) string { return f.Instances[i].UUID }) {
		if k > 0 {
			e.raw(`,`)
		}
		m.writeInstance(e, i)
	}

	e.raw(`},"networks":{`)
	for k, i := range sortedBy(len(f.Networks), func(i int) string { return f.Networks[i].UUID }) {
		nw, ne := f.Networks[i], m.networks[i]
		if k > 0 {
			e.raw(`,`)
		}
		e.safe(nw.UUID)
		e.raw(`:{"name":`)
		e.str(nw.Name)
		if !omit {
			e.raw(`,"mac_prefix":"aa:00:01"`)
		}
		e.raw(`,"network":`)
		e.safe(nw.Network)
		if !omit {
			e.raw(`,"gateway":`)
			e.safe(nw.Gateway)
			e.raw(`,"reservations":"`)
			e.b = append(e.b, ne.reservations...)
			e.raw(`","ext_reservations":"`)
			e.b = append(e.b, ne.external...)
			e.raw(`"`)
		}
		e.tail(ne.t, nw.UUID, nw.Serial, nil, omit, true)
		e.raw(`}`)
	}

	e.raw(`},"disks":{`)
	type ref struct {
		uuid       string
		inst, disk int
	}
	var disks []ref
	for i, in := range f.Instances {
		for d := range in.Disks {
			disks = append(disks, ref{in.Disks[d].UUID, i, d})
		}
	}
	slices.SortFunc(disks, func(a, b ref) int { return cmp.Compare(a.uuid, b.uuid) })
	for k, r := range disks {
		if k > 0 {
			e.raw(`,`)
		}
		d := &f.Instances[r.inst].Disks[r.disk]
		e.safe(d.UUID)
		e.raw(`:`)
		m.writeDisk(e, d, &m.instances[r.inst].disks[r.disk], false)
	}

	e.raw(`},"filters":{}`)
	if !omit {
		e.raw(`,"ctime":`)
		e.time(m.top.ctime)
		e.raw(`,"mtime":`)
		e.time(m.top.mtime)
	}
	e.raw(`,"serial_no":`)
	e.int(f.Serial)
	e.raw("}")
	return e.b
}

func (m *model) writeCluster(e *enc) {
	f, o := m.f, m.o
	omit := o.OmitOptional
	e.raw(`{"rsahostkeypub":`)
	e.str(m.rsaKey)
	e.raw(`,"highest_used_port":`)
	e.int(f.HighestUsedPort)
	e.raw(`,"tcpudp_port_pool":`)
	e.ints(f.PortPool)
	e.raw(`,"mac_prefix":"aa:00:00","volume_group_name":"xenvg","reserved_lvs":[]`)
	if !omit {
		e.raw(`,"drbd_usermode_helper":"/bin/true"`)
	}
	e.raw(`,"master_node":`)
	e.safe(f.MasterUUID)
	e.raw(`,"master_ip":`)
	e.safe(f.MasterIP)
	e.raw(`,"master_netdev":"eth0","master_netmask":`)
	if o.IPv6 {
		e.raw(`128`)
	} else {
		e.raw(`32`)
	}
	e.raw(`,"use_external_mip_script":false,"cluster_name":`)
	e.str(f.ClusterName)
	e.raw(`,"file_storage_dir":"/srv/ganeti/file-storage","shared_file_storage_dir":"/srv/ganeti/shared-file-storage","gluster_storage_dir":"/var/run/ganeti/gluster","enabled_hypervisors":[`)
	e.str(f.Hypervisor)
	e.raw(`],"hvparams":`)
	e.raw(hvparamsJSON)
	e.raw(`,"os_hvp":{},"beparams":`)
	e.raw(beparamsJSON)
	e.raw(`,"osparams":{},"osparams_private_cluster":{},"nicparams":{"default":{"mode":"bridged","link":`)
	e.str(f.DefaultLink)
	e.raw(`,"vlan":""}},"ndparams":`)
	e.raw(ndparamsJSON)
	e.raw(`,"diskparams":`)
	e.raw(diskparamsJSON)
	e.raw(`,"candidate_pool_size":10,"modify_etc_hosts":true,"modify_ssh_setup":true,"maintain_node_health":false,"uid_pool":[],"default_iallocator":"hail","default_iallocator_params":{},"hidden_os":[],"blacklisted_os":[],"primary_ip_family":`)
	e.int(f.IPFamily)
	e.raw(`,"prealloc_wipe_disks":false,"ipolicy":`)
	e.raw(ipolicyJSON)
	if !omit {
		e.raw(`,"hv_state_static":{},"disk_state_static":{}`)
	}
	e.raw(`,"enabled_disk_templates":["drbd","plain","file"],"candidate_certs":{`)
	k := 0
	for _, i := range sortedBy(len(f.Nodes), func(i int) string { return f.Nodes[i].UUID }) {
		n := f.Nodes[i]
		digest, ok := m.certs[n.UUID]
		if !ok {
			continue
		}
		if k > 0 {
			e.raw(`,`)
		}
		k++
		e.safe(n.UUID)
		e.raw(`:`)
		e.safe(digest)
	}
	e.raw(`},"max_running_jobs":20,"max_tracked_jobs":25,"install_image":"","instance_communication_network":"","zeroing_image":"","compression_tools":["gzip","gzip-fast","gzip-slow"],"enabled_user_shutdown":false,"data_collectors":{`)
	dcs := slices.Clone(f.DataCollectors)
	slices.SortStableFunc(dcs, func(a, b DataCollector) int { return cmp.Compare(a.Name, b.Name) })
	for i, dc := range dcs {
		if i > 0 {
			e.raw(`,`)
		}
		e.str(dc.Name)
		e.raw(`:{"active":`)
		e.bool(dc.Active)
		e.raw(`,"interval":`)
		e.int(int(dc.Interval.Microseconds()))
		e.raw(`}`)
	}
	e.raw(`},"ssh_key_type":"rsa","ssh_key_bits":2048`)
	e.tail(m.cluster, f.ClusterUUID, f.ClusterSerial, f.Tags, omit, false)
	e.raw(`}`)
}

func (m *model) writeInstance(e *enc, i int) {
	in, ex := &m.f.Instances[i], &m.instances[i]
	omit := m.o.OmitOptional
	e.safe(in.UUID)
	e.raw(`:{"name":`)
	e.str(in.Name)
	e.raw(`,"primary_node":`)
	e.safe(in.PrimaryNode)
	e.raw(`,"os":`)
	e.safe(in.OS)
	e.raw(`,"hypervisor":`)
	e.str(m.f.Hypervisor)
	if !omit {
		e.raw(`,"hvparams":{},"beparams":{`)
		if ex.maxmem > 0 {
			e.raw(`"maxmem":`)
			e.int(ex.maxmem)
			e.raw(`,"minmem":`)
			e.int(ex.maxmem)
			e.raw(`,"vcpus":`)
			e.int(ex.vcpus)
		}
		e.raw(`},"osparams":{},"osparams_private":{}`)
	}
	e.raw(`,"admin_state":`)
	e.safe(in.AdminState)
	e.raw(`,"admin_state_source":"admin","nics":[`)
	for k, nic := range in.NICs {
		if k > 0 {
			e.raw(`,`)
		}
		e.raw(`{"mac":`)
		e.safe(nic.MAC)
		if nic.HasIP {
			e.raw(`,"ip":`)
			e.safe(nic.IP)
		}
		e.raw(`,"nicparams":{`)
		sep := ""
		if nic.Mode != "" {
			e.raw(`"mode":`)
			e.str(nic.Mode)
			sep = ","
		}
		if nic.LinkSet {
			e.raw(sep + `"link":`)
			e.str(nic.Link)
		}
		e.raw(`}`)
		if nic.Network != "" {
			e.raw(`,"network":`)
			e.safe(nic.Network)
		}
		e.raw(`,"uuid":`)
		e.safe(nic.UUID)
		e.raw(`}`)
	}
	e.raw(`],"disks":[`)
	for k, d := range in.Disks {
		if k > 0 {
			e.raw(`,`)
		}
		e.safe(d.UUID)
	}
	e.raw(`],"disks_active":`)
	e.bool(in.AdminState == "up")
	if in.NetworkPort != 0 {
		e.raw(`,"network_port":`)
		e.int(in.NetworkPort)
	}
	e.tail(ex.t, in.UUID, in.Serial, in.Tags, omit, false)
	e.raw(`}`)
}

// writeDisk writes one disk object with its children (src/Ganeti/Objects/
// Disk.hs): logical_id, dev_type, children, nodes, iv_name, size, mode,
// params, uuid, serial_no, ctime, mtime.
func (m *model) writeDisk(e *enc, d *DiskFact, de *diskExtra, child bool) {
	omit := m.o.OmitOptional
	e.raw(`{"logical_id":[`)
	switch d.DevType {
	case DevDRBD:
		e.safe(d.NodeA)
		e.raw(`,`)
		e.safe(d.NodeB)
		e.raw(`,`)
		e.int(d.Port)
		e.raw(`,`)
		e.int(d.MinorA)
		e.raw(`,`)
		e.int(d.MinorB)
		e.raw(`,`)
		e.safe(d.Secret)
	case DevPlain:
		e.safe(d.VG)
		e.raw(`,`)
		e.safe(d.LV)
	case DevFile:
		e.str(d.Driver)
		e.raw(`,`)
		e.str(d.Path)
	}
	e.raw(`],"dev_type":`)
	e.safe(d.DevType)
	if !omit || len(d.Children) > 0 {
		e.raw(`,"children":[`)
		for k := range d.Children {
			if k > 0 {
				e.raw(`,`)
			}
			m.writeDisk(e, &d.Children[k], &de.children[k], true)
		}
		e.raw(`]`)
	}
	e.raw(`,"nodes":[`)
	for k, n := range d.Nodes {
		if k > 0 {
			e.raw(`,`)
		}
		e.safe(n)
	}
	e.raw(`]`)
	if !omit || !child {
		e.raw(`,"iv_name":`)
		e.str(d.IVName)
	}
	e.raw(`,"size":`)
	e.int(d.Size)
	if !omit {
		e.raw(`,"mode":"rw","params":{}`)
	}
	e.raw(`,"uuid":`)
	e.safe(d.UUID)
	e.raw(`,"serial_no":`)
	e.int(de.serial)
	if !omit {
		e.raw(`,"ctime":`)
		e.time(de.t.ctime)
		e.raw(`,"mtime":`)
		e.time(de.t.mtime)
	}
	e.raw(`}`)
}

// sortedBy returns 0..n-1 ordered by key.
func sortedBy(n int, key func(int) string) []int {
	type kv struct {
		k string
		i int
	}
	kvs := make([]kv, n)
	for i := range kvs {
		kvs[i] = kv{key(i), i}
	}
	slices.SortFunc(kvs, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
	idx := make([]int, n)
	for i, x := range kvs {
		idx[i] = x.i
	}
	return idx
}
