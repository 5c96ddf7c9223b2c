package config

import (
	"slices"

	"github.com/goconfd/goconfd/internal/tjson"
)

// nicLinks is Ganeti's link → IP → instance map (buildLinkIpInstnameMap
// in src/Ganeti/Config.hs), resolved further to what types 2 and 6
// answer.
type nicLinks struct {
	defaultLink []byte
	hasDefault  bool
	// broken is true when the map cannot be built because NICs with IPs
	// exist but cluster.nicparams has no "default" entry; the 3.0 server's
	// request thread dies then, and no reply is sent.
	broken bool
	// pip maps link → IP → the encoded primary IP of the primary node of
	// the instance holding that IP; an IP whose instance or node cannot
	// be resolved maps to nil (unknown entry).
	pip map[string]map[string][]byte
	// ipsJSON maps link → the encoded INSTANCES_IPS_LIST answer.
	ipsJSON map[string][]byte
}

var emptyListJSON = []byte("[]")

func buildNicLinks(s *Snapshot, cluster *tjson.Value) nicLinks {
	var nl nicLinks
	if def, ok := getMember(member(cluster, "nicparams"), "default"); ok {
		if l, ok := getMember(def, "link"); ok && l.Kind == tjson.String {
			nl.defaultLink, nl.hasDefault = []byte(l.Str), true
		}
	}
	owner := make(map[string]map[string]string) // link → ip → instance name
	for _, inst := range s.instances {
		name := inst.UUID
		if inst.HasName {
			name = inst.Name
		}
		for _, nic := range inst.facts.nics {
			if !nic.hasIP {
				continue
			}
			if !nl.hasDefault {
				nl.broken = true
				continue
			}
			link := string(nl.defaultLink)
			if nic.hasLink {
				link = nic.link
			}
			if owner[link] == nil {
				owner[link] = make(map[string]string)
			}
			owner[link][nic.ip] = name
		}
	}
	nl.pip = make(map[string]map[string][]byte, len(owner))
	nl.ipsJSON = make(map[string][]byte, len(owner))
	for link, ips := range owner {
		m := make(map[string][]byte, len(ips))
		keys := make([]string, 0, len(ips))
		for ip, iname := range ips {
			keys = append(keys, ip)
			m[ip] = s.primaryIPOf(iname)
		}
		// M.keys: ascending by String, i.e. by code point, which is the
		// byte order of UTF-8.
		slices.Sort(keys)
		out := []byte{'['}
		for _, ip := range keys {
			out = appendListItem(out, ip)
		}
		nl.pip[link] = m
		nl.ipsJSON[link] = append(out, ']')
	}
	return nl
}

// primaryIPOf resolves Ganeti's getInstPrimaryNode for an instance name:
// the first instance (by key) with exactly that name, its primary node
// looked up as getNode does, and that node's primary IP, encoded. It
// returns nil when any step fails.
func (s *Snapshot) primaryIPOf(iname string) []byte {
	inst, ok := s.instByExactName[iname]
	if !ok || !inst.HasPrimary {
		return nil
	}
	n, lerr := s.node(inst.Primary)
	if lerr != nil {
		return nil
	}
	return n.pipJSON
}

// DefaultLink returns cluster.nicparams["default"].link and whether the
// cluster has one. The caller must not modify the slice.
func (s *Snapshot) DefaultLink() ([]byte, bool) {
	return s.nicLinks.defaultLink, s.nicLinks.hasDefault
}

// LinkMapBroken reports whether Ganeti could not build its link → IP map
// for this config (NICs with IPs but no default NIC parameters). The 3.0
// server then sends no reply to types 2 and 6.
func (s *Snapshot) LinkMapBroken() bool { return s.nicLinks.broken }

// NodePipByInstanceIP returns the encoded primary IP of the primary node
// of the instance that has ip on link, or nil when there is none.
func (s *Snapshot) NodePipByInstanceIP(link, ip []byte) []byte {
	return s.nicLinks.pip[string(link)][string(ip)]
}

// InstancesIPsJSON returns the encoded INSTANCES_IPS_LIST answer for link:
// its IPs sorted as strings, or [] for an unknown link.
func (s *Snapshot) InstancesIPsJSON(link []byte) []byte {
	if b, ok := s.nicLinks.ipsJSON[string(link)]; ok {
		return b
	}
	return emptyListJSON
}
