package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
)

// Summary describes a generated cluster in a few lines.
func Summary(f *clustergen.Facts, path string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %s: %d bytes in %v\n", path, f.Size, took.Round(time.Microsecond))
	fmt.Fprintf(&b, "cluster %s, master %s (%s), master IP %s, cluster serial %d\n",
		f.ClusterName, f.MasterName, f.MasterPrimaryIP, f.MasterIP, f.ClusterSerial)
	roles := map[clustergen.Role]int{}
	for _, n := range f.Nodes {
		roles[n.Role]++
	}
	fmt.Fprintf(&b, "nodes: %d (master %d, candidate %d, drained %d, offline %d, regular %d) in %d groups\n",
		len(f.Nodes), roles[clustergen.RoleMaster], roles[clustergen.RoleCandidate], roles[clustergen.RoleDrained],
		roles[clustergen.RoleOffline], roles[clustergen.RoleRegular], len(f.Groups))
	nics, withIP := 0, 0
	disks := map[string]int{}
	nDisks := 0
	for _, in := range f.Instances {
		for _, nic := range in.NICs {
			nics++
			if nic.HasIP {
				withIP++
			}
		}
		for _, d := range in.Disks {
			disks[d.DevType]++
			nDisks++
		}
	}
	fmt.Fprintf(&b, "instances: %d with %d NICs (%d with an IP) on links %s (default %s), %d networks\n",
		len(f.Instances), nics, withIP, strings.Join(f.Links, ", "), f.DefaultLink, len(f.Networks))
	fmt.Fprintf(&b, "disks: %d (drbd %d, plain %d, file %d), highest used port %d\n",
		nDisks, disks[clustergen.DevDRBD], disks[clustergen.DevPlain], disks[clustergen.DevFile], f.HighestUsedPort)
	return b.String()
}

// Markdown renders the node and instance tables of examples/README.md. The
// examples test parses them back, so keep the cell formats in step with
// examples/readme_test.go.
func Markdown(f *clustergen.Facts) string {
	var b strings.Builder
	name := func(uuid string) string {
		n, _ := f.Node(uuid)
		return n.Name
	}
	groupName := map[string]string{}
	for _, g := range f.Groups {
		groupName[g.UUID] = g.Name
	}
	netName := map[string]string{}
	for _, n := range f.Networks {
		netName[n.UUID] = n.Name
	}
	b.WriteString("| node | uuid | role | primary IP | secondary IP | group | flags | serial |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, n := range f.Nodes {
		var flags []string
		if n.MasterCandidate {
			flags = append(flags, "master_candidate")
		}
		if n.Drained {
			flags = append(flags, "drained")
		}
		if n.Offline {
			flags = append(flags, "offline")
		}
		if !n.MasterCapable {
			flags = append(flags, "not master_capable")
		}
		if len(flags) == 0 {
			flags = append(flags, "none")
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s (%d) | %s | %s | %s | %s | %d |\n", n.Name, n.UUID, n.Role, int(n.Role),
			n.PrimaryIP, n.SecondaryIP, groupName[n.Group], strings.Join(flags, ", "), n.Serial)
	}
	b.WriteString("\n| instance | uuid | primary node | state | NICs | disks | serial |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, in := range f.Instances {
		var nics []string
		for _, nic := range in.NICs {
			s := "no IP on " + nic.Link
			if nic.HasIP {
				s = nic.IP + " on " + nic.Link
			}
			var notes []string
			if !nic.LinkSet {
				notes = append(notes, "default link")
			}
			if nic.Mode != "" {
				notes = append(notes, nic.Mode)
			}
			if nic.Network != "" {
				notes = append(notes, "network "+netName[nic.Network])
			}
			if len(notes) > 0 {
				s += " (" + strings.Join(notes, ", ") + ")"
			}
			nics = append(nics, s)
		}
		var disks []string
		for _, d := range in.Disks {
			s := fmt.Sprintf("%s %d GiB", d.DevType, d.Size/1024)
			if d.DevType == clustergen.DevDRBD {
				s += fmt.Sprintf(" %s:%d / %s:%d port %d", name(d.NodeA), d.MinorA, name(d.NodeB), d.MinorB, d.Port)
			}
			disks = append(disks, s)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %d |\n", in.Name, in.UUID, name(in.PrimaryNode), in.AdminState,
			strings.Join(nics, "; "), strings.Join(disks, "; "), in.Serial)
	}
	return b.String()
}
