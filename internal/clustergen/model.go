package clustergen

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/internal/uuid"
)

// Ports start at Ganeti's FIRST_DRBD_PORT (src/Ganeti/Constants.hs).
// Ganeti stops at LAST_DRBD_PORT, 14999; synthetic clusters need more, so
// they keep counting up to 65535 and then wrap (ports stay unique up to
// 54536 allocations, about a 60 MB config).
const (
	firstPort = 11000
	lastPort  = 65535
)

// rng is SplitMix64: tiny, allocation-free and fully specified here, so a
// seed gives the same cluster with every Go version.
type rng struct{ s uint64 }

// Streams of the per-object generators.
const (
	kindCluster uint64 = iota + 1
	kindGroup
	kindNode
	kindInstance
	kindNetwork
)

func newRNG(seed, kind, i uint64) rng {
	r := rng{s: seed*0x9e3779b97f4a7c15 ^ kind<<56 ^ i*0xd1b54a32d192ed03}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// uuid returns a random (version 4) UUID.
func (r *rng) uuid() string {
	var b [16]byte
	a, c := r.next(), r.next()
	for i := range 8 {
		b[i] = byte(a >> (8 * i))
		b[8+i] = byte(c >> (8 * i))
	}
	return uuid.V4(b)
}

// hexString returns n random lowercase hex digits.
func (r *rng) hexString(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		if i%8 == 0 {
			v := r.next()
			for j := i; j < len(b) && j < i+8; j++ {
				b[j] = byte(v >> (8 * (j - i)))
			}
		}
	}
	return hex.EncodeToString(b)[:n]
}

// stamps are an object's ctime and mtime (seconds, microsecond resolution).
type stamps struct{ ctime, mtime float64 }

// stamps draws a ctime within two years before epoch and an mtime between it
// and epoch.
func (r *rng) stamps(epoch int64) stamps {
	const span = 2 * 365 * 86400
	c := epoch - int64(r.intn(span)) - 1
	m := c + int64(r.intn(int(epoch-c)))
	cu, mu := r.intn(1e6), r.intn(1e6)
	return stamps{stableTime(float64(c) + float64(cu)/1e6), stableTime(float64(m) + float64(mu)/1e6)}
}

// stableTime returns the timestamp nearest t that survives Ganeti's round
// trip (tjson.TimeAsDouble) unchanged, so that the config is exactly what the object model
// writes back (and CONFIG_QUERY answers equal the file's values).
func stableTime(t float64) float64 {
	for range 8 {
		h := tjson.TimeAsDouble(t)
		if h == t {
			break
		}
		t = h
	}
	return t
}

// Names with letters outside ASCII, one of them outside the BMP.
var (
	nonASCIINodeStems = []string{"nœud", "узел", "ノード", "n𝔬de"}
	nonASCIIInstStems = []string{"instância", "экземпляр", "インスタンス", "g𝔞neti-vm"}
	osNames           = []string{"debootstrap+default", "debootstrap+bookworm", "image+ubuntu-22.04", "noop"}
	diskSizes         = []int{10240, 20480, 30720, 51200, 102400, 204800}
	instanceTags      = []string{"backup:daily", "tier:gold", "owner:infra", "tier:silver", "backup:weekly"}
)

// model is everything the writer needs: the facts and a few details that
// only the JSON carries.
type model struct {
	o       Options
	f       *Facts
	cluster stamps
	top     stamps
	rsaKey  string
	certs   map[string]string // node UUID -> client certificate digest

	groups    []groupExtra
	nodes     []nodeExtra
	instances []instExtra
	networks  []netExtra
	ports     ports
}

type groupExtra struct {
	t      stamps
	policy string
}

type nodeExtra struct{ t stamps }

type instExtra struct {
	t      stamps
	maxmem int // 0: no beparams
	vcpus  int
	disks  []diskExtra
}

type diskExtra struct {
	t        stamps
	serial   int
	children []diskExtra
}

type netExtra struct {
	t            stamps
	reservations []byte // one '0'/'1' per address of the /24
	external     []byte
}

func digits(n int) int { return len(strconv.Itoa(max(n, 1))) }

// build decides the whole cluster from normalized options.
func build(o Options) *model {
	epoch := o.Epoch.Unix()
	f := &Facts{
		Version:       3000000,
		Serial:        o.Serial,
		ClusterSerial: o.ClusterSerial,
		ClusterName:   o.ClusterName,
		Hypervisor:    o.Hypervisor,
		IPFamily:      2,
		Tags:          sortedCopy(o.ClusterTags),
	}
	if o.IPv6 {
		f.IPFamily = 10
	}
	m := &model{o: o, f: f}
	cr := newRNG(o.Seed, kindCluster, 0)
	f.ClusterUUID = cr.uuid()
	m.cluster = cr.stamps(epoch)
	m.top = stamps{stableTime(m.cluster.ctime + 0.000639), stableTime(float64(epoch) + float64(cr.intn(1e6))/1e6)}
	for k := range o.Links {
		f.Links = append(f.Links, linkName(k))
	}
	f.DefaultLink = f.Links[0]
	f.DataCollectors = append(f.DataCollectors, o.DataCollectors...)

	// Node groups.
	for g := range o.NodeGroups {
		r := newRNG(o.Seed, kindGroup, uint64(g))
		name := "default"
		if g > 0 {
			name = fmt.Sprintf("group%d", g+1)
		}
		if g < len(o.GroupNames) {
			name = o.GroupNames[g]
		}
		f.Groups = append(f.Groups, GroupFact{UUID: r.uuid(), Name: name, Serial: 1 + r.intn(o.MaxObjectSerial)})
		policy := "preferred"
		if g > 0 && g == o.NodeGroups-1 && o.NodeGroups > 2 {
			policy = "last_resort"
		}
		m.groups = append(m.groups, groupExtra{t: r.stamps(epoch), policy: policy})
	}

	// Networks: 172.20.j.0/24, connected on a non-default link.
	for j := range o.Networks {
		r := newRNG(o.Seed, kindNetwork, uint64(j))
		nw := NetworkFact{
			UUID:    r.uuid(),
			Name:    fmt.Sprintf("net%d", j+1),
			Network: fmt.Sprintf("172.20.%d.0/24", j),
			Gateway: fmt.Sprintf("172.20.%d.1", j),
			Link:    f.Links[1+j%(o.Links-1)],
			Serial:  1 + r.intn(o.MaxObjectSerial),
		}
		f.Networks = append(f.Networks, nw)
		ne := netExtra{t: r.stamps(epoch), reservations: []byte(strings.Repeat("0", 256)), external: []byte(strings.Repeat("0", 256))}
		ne.external[0], ne.external[1], ne.external[255] = '1', '1', '1'
		m.networks = append(m.networks, ne)
	}

	// Nodes, with roles in index order: master, candidates, drained,
	// offline, drained+offline, regular.
	rc, _ := o.roles()
	width := digits(o.Nodes)
	m.certs = make(map[string]string)
	for i := range o.Nodes {
		r := newRNG(o.Seed, kindNode, uint64(i))
		n := NodeFact{UUID: r.uuid(), MasterCapable: true, Serial: 1 + r.intn(o.MaxObjectSerial)}
		n.Name = o.objectName(i, width, o.NodeNames, nonASCIINodeStems, "node")
		n.PrimaryIP, n.SecondaryIP = nodeAddrs(i, o.IPv6)
		g := i * o.NodeGroups / o.Nodes
		n.Group = f.Groups[g].UUID
		f.Groups[g].Nodes = append(f.Groups[g].Nodes, n.UUID)
		switch k := i - 1; {
		case i == 0:
			n.MasterCandidate, n.Role = true, RoleMaster
		case k < rc.candidates:
			n.MasterCandidate, n.Role = true, RoleCandidate
		case k < rc.candidates+rc.drained:
			n.Drained, n.Role = true, RoleDrained
		case k < rc.candidates+rc.drained+rc.offline:
			n.Offline, n.Role = true, RoleOffline
		case k < rc.candidates+rc.drained+rc.offline+rc.drainedOffline:
			n.Drained, n.Offline, n.Role = true, true, RoleDrained
		default:
			// Every fourth regular node, starting with the second, cannot
			// become a master candidate.
			n.Role = RoleRegular
			n.MasterCapable = (k-rc.candidates-rc.drained-rc.offline-rc.drainedOffline)%4 != 1
		}
		if i%5 == 2 {
			n.Tags = []string{"rack:" + f.Groups[g].Name}
		}
		if n.MasterCandidate {
			m.certs[n.UUID] = r.hexString(128)
		}
		f.Nodes = append(f.Nodes, n)
		m.nodes = append(m.nodes, nodeExtra{t: r.stamps(epoch)})
	}
	master := f.Nodes[0]
	f.MasterUUID, f.MasterName, f.MasterPrimaryIP = master.UUID, master.Name, master.PrimaryIP
	f.MasterIP = "192.168.0.10"
	if o.IPv6 {
		f.MasterIP = "2001:db8:0:1::a"
	}
	m.rsaKey = rsaKey(&cr, master.Name)

	m.buildInstances(epoch)
	f.HighestUsedPort = m.ports.highest
	f.PortPool = m.ports.pool
	if f.PortPool == nil {
		f.PortPool = []int{}
	}
	f.index()
	return m
}

// ports is Ganeti's port allocator (AllocatePort in lib/config): a pool of
// freed ports, then highest_used_port+1. Some ports are "freed" on the way
// so that the pool is not empty.
type ports struct {
	highest int
	pool    []int
	count   int
}

func (p *ports) alloc() int {
	for {
		p.count++
		p.highest++
		if p.highest > lastPort {
			p.highest = firstPort
		}
		if p.count%37 == 5 && len(p.pool) < 8 {
			p.pool = append(p.pool, p.highest)
			continue
		}
		return p.highest
	}
}

func linkName(k int) string {
	if k == 0 {
		return "br0"
	}
	return "br" + strconv.Itoa(99+k)
}

// nodeAddrs returns node i's primary and secondary addresses: the master
// IP is 192.168.0.10 and nodes count up from 192.168.0.11, skipping the .0
// and .255 of each /24; secondaries mirror them in 172.16.0.0/16.
func nodeAddrs(i int, v6 bool) (string, string) {
	k := i + 10
	if v6 {
		return fmt.Sprintf("2001:db8:0:1::%x", k+1), fmt.Sprintf("2001:db8:0:2::%x", k+1)
	}
	a, b := k/254, k%254+1
	return fmt.Sprintf("192.168.%d.%d", a, b), fmt.Sprintf("172.16.%d.%d", a, b)
}

// instanceAddr returns the c-th instance address on link k: link k owns
// 10.(16k).0.0/12, .0 and .255 skipped; with v6, 2001:db8:100:k::/64.
func instanceAddr(k, c int, v6 bool) string {
	b := make([]byte, 0, 40)
	if v6 {
		b = append(b, "2001:db8:100:"...)
		b = strconv.AppendInt(b, int64(k), 16)
		b = append(b, "::"...)
		b = strconv.AppendInt(b, int64(c+1), 16)
		return string(b)
	}
	c %= 16 * 256 * 254
	b = append(b, "10."...)
	b = strconv.AppendInt(b, int64(k*16+c/(256*254)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64((c/254)%256), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c%254+1), 10)
	return string(b)
}

// objectName is the name of the i-th node or instance: the one given in
// names, else with NonASCII every fourth a non-ASCII stem of stems, else
// prefix; numbered i+1 in width digits, in the domain.
func (o *Options) objectName(i, width int, names, stems []string, prefix string) string {
	switch {
	case i < len(names):
		return names[i]
	case o.NonASCII && i%4 == 3:
		return fmt.Sprintf("%s%0*d.%s", stems[(i/4)%len(stems)], width, i+1, o.Domain)
	}
	return padded(prefix, width, i+1, o.Domain)
}

// padded returns prefix, i zero-padded to width digits, a dot and domain.
func padded(prefix string, width, i int, domain string) string {
	b := make([]byte, 0, len(prefix)+width+1+len(domain))
	b = append(b, prefix...)
	d := strconv.Itoa(i)
	for range width - len(d) {
		b = append(b, '0')
	}
	b = append(b, d...)
	b = append(b, '.')
	b = append(b, domain...)
	return string(b)
}

func rsaKey(r *rng, host string) string {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var sb strings.Builder
	sb.WriteString("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")
	for range 342 {
		sb.WriteByte(b64[r.intn(64)])
	}
	sb.WriteString(" root@")
	sb.WriteString(host)
	return sb.String()
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// bresenham reports whether item i is one of the fraction frac of items,
// spreading them evenly: exactly floor(n*frac) of the first n items are.
func bresenham(i int, frac float64) bool {
	return math.Floor(float64(i+1)*frac+1e-9) > math.Floor(float64(i)*frac+1e-9)
}

func (m *model) buildInstances(epoch int64) {
	o, f := m.o, m.f
	m.ports = ports{highest: firstPort - 1}
	minors := make([]int, len(f.Nodes))
	linkCount := make([]int, o.Links)
	netUsed := make([]int, len(f.Networks))
	groupOf := make([]int, len(f.Nodes))
	for i := range f.Nodes {
		groupOf[i] = i * o.NodeGroups / o.Nodes
	}
	groupStart := func(g int) int { return (g*o.Nodes + o.NodeGroups - 1) / o.NodeGroups }
	width := digits(o.Instances)
	lastDefault := ""
	nonDRBD := 0
	macs := 0
	fileFrac := 0.0
	if o.DRBDFraction < 1 {
		fileFrac = o.FileFraction / (1 - o.DRBDFraction)
	}
	// MACs: the cluster prefix and a 24-bit counter times an odd number,
	// a bijection, so they are unique up to 2^24 NICs.
	newMAC := func() string {
		macs++
		v := uint32(macs) * 0x9e3779 & 0xffffff
		b := []byte("aa:00:00:00:00:00")
		for k, sh := range []uint32{16, 8, 0} {
			x := byte(v >> sh)
			hex.Encode(b[9+3*k:11+3*k], []byte{x})
		}
		return string(b)
	}
	f.Instances = make([]InstanceFact, 0, o.Instances)
	m.instances = make([]instExtra, 0, o.Instances)
	for i := range o.Instances {
		r := newRNG(o.Seed, kindInstance, uint64(i))
		in := InstanceFact{UUID: r.uuid(), OS: osNames[r.intn(len(osNames))], Serial: 1 + r.intn(o.MaxObjectSerial)}
		ex := instExtra{t: r.stamps(epoch)}
		in.Name = o.objectName(i, width, o.InstanceNames, nonASCIIInstStems, "instance")
		pi := r.intn(len(f.Nodes))
		in.PrimaryNode = f.Nodes[pi].UUID
		in.AdminState = "up"
		if f.Nodes[pi].Offline || i%11 == 10 {
			in.AdminState = "down"
		}
		if i%3 != 0 {
			ex.maxmem = 1024 << r.intn(4)
			ex.vcpus = 1 << r.intn(3)
		}
		if i%4 == 0 {
			in.Tags = []string{instanceTags[(i/4)%len(instanceTags)]}
		}
		if o.Hypervisor != "xen-pvm" {
			in.NetworkPort = m.ports.alloc()
		}

		// NICs (see the package comment for the patterns).
		addr := func(k int) string {
			c := linkCount[k]
			linkCount[k]++
			return instanceAddr(k, c, o.IPv6 && c%2 == 1)
		}
		in.NICs = make([]NICFact, 0, 3)
		nic0 := NICFact{UUID: r.uuid(), MAC: newMAC(), Link: f.DefaultLink}
		if i%4 == 1 {
			nic0.LinkSet = true
		}
		if i%5 != 4 {
			nic0.HasIP = true
			if i%10 == 8 && lastDefault != "" {
				nic0.IP = lastDefault
			} else {
				nic0.IP = addr(0)
				lastDefault = nic0.IP
			}
		}
		in.NICs = append(in.NICs, nic0)
		if i%3 == 1 {
			k := 1 + (i/3)%(o.Links-1)
			nic := NICFact{UUID: r.uuid(), MAC: newMAC(), Link: f.Links[k], LinkSet: true}
			if (i/3)%2 == 1 {
				nic.Mode = "routed"
			}
			if i%15 != 13 {
				nic.HasIP = true
				if i%12 == 7 && nic0.HasIP {
					nic.IP = nic0.IP
				} else {
					nic.IP = addr(k)
				}
			}
			in.NICs = append(in.NICs, nic)
		}
		if len(f.Networks) > 0 && i%6 == 5 {
			j := (i / 6) % len(f.Networks)
			nic := NICFact{UUID: r.uuid(), MAC: newMAC()}
			if netUsed[j] < 253 {
				nw := f.Networks[j]
				host := 2 + netUsed[j]
				netUsed[j]++
				m.networks[j].reservations[host] = '1'
				nic.Network, nic.Link, nic.LinkSet, nic.Mode = nw.UUID, nw.Link, true, "bridged"
				p := netip.MustParsePrefix(nw.Network).Addr().As4()
				p[3] = byte(host)
				nic.IP, nic.HasIP = netip.AddrFrom4(p).String(), true
			} else {
				nic.Link = f.DefaultLink
			}
			in.NICs = append(in.NICs, nic)
		}

		// Disks.
		tmpl := DevPlain
		switch {
		case bresenham(i, o.DRBDFraction) && len(f.Nodes) > 1:
			tmpl = DevDRBD
		default:
			if bresenham(nonDRBD, fileFrac) {
				tmpl = DevFile
			}
			nonDRBD++
		}
		secondary := -1
		if tmpl == DevDRBD {
			g := groupOf[pi]
			lo, hi := groupStart(g), groupStart(g+1)
			if hi-lo < 2 {
				lo, hi = 0, len(f.Nodes)
			}
			// pi is in [lo, hi): draw among the others.
			secondary = lo + r.intn(hi-lo-1)
			if secondary >= pi {
				secondary++
			}
		}
		nd := 1 + r.intn(o.MaxDisks)
		in.Disks = make([]DiskFact, 0, nd)
		ex.disks = make([]diskExtra, 0, nd)
		for d := range nd {
			disk := DiskFact{UUID: r.uuid(), DevType: tmpl, Size: diskSizes[r.intn(len(diskSizes))],
				IVName: "disk/" + strconv.Itoa(d)}
			de := diskExtra{t: stamps{ex.t.ctime, ex.t.ctime}, serial: 1 + r.intn(3)}
			lvBase := r.uuid() + ".disk" + strconv.Itoa(d)
			switch tmpl {
			case DevPlain:
				disk.Nodes = []string{in.PrimaryNode}
				disk.VG, disk.LV = "xenvg", lvBase
			case DevFile:
				disk.Nodes = []string{in.PrimaryNode}
				disk.Driver = "loop"
				disk.Path = "/srv/ganeti/file-storage/" + in.Name + "/" + disk.UUID + ".file.disk" + strconv.Itoa(d)
			case DevDRBD:
				a, b := f.Nodes[pi].UUID, f.Nodes[secondary].UUID
				disk.Nodes = []string{a, b}
				disk.NodeA, disk.NodeB = a, b
				disk.Port = m.ports.alloc()
				disk.MinorA, disk.MinorB = minors[pi], minors[secondary]
				minors[pi]++
				minors[secondary]++
				disk.Secret = r.hexString(40)
				if !o.FlatDRBD {
					disk.Children = make([]DiskFact, 0, 2)
					de.children = make([]diskExtra, 0, 2)
					for _, part := range []struct {
						suffix string
						size   int
					}{{"_data", disk.Size}, {"_meta", 128}} {
						disk.Children = append(disk.Children, DiskFact{UUID: r.uuid(), DevType: DevPlain,
							Size: part.size, Nodes: []string{a, b}, VG: "xenvg", LV: lvBase + part.suffix})
						de.children = append(de.children, diskExtra{t: de.t, serial: 1})
					}
				}
			}
			in.Disks = append(in.Disks, disk)
			ex.disks = append(ex.disks, de)
		}
		f.Instances = append(f.Instances, in)
		m.instances = append(m.instances, ex)
	}
}
