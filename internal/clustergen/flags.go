package clustergen

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// Flags defines on fs the flags of the clustergen command that choose
// the Options (-demo, -seed, -nodes, -instances, -size and the others),
// and returns the function that gives the Options once fs is parsed:
// Default, or Demo with -demo, with every flag given on the command line
// applied over it. Its error is a bad -size. The command reads its
// command line with it, and the conformance suite the clustergen command
// lines its documentation lists, so both make the same cluster of the
// same words.
func Flags(fs *flag.FlagSet) func() (Options, error) {
	d := Default()
	demo := fs.Bool("demo", false, "start from the demo cluster of examples/ instead of the defaults")
	size := fs.String("size", "", "aim at this output `size` (e.g. 1MB, 50MB; K, M, G are powers of 1024); overrides -instances")
	seed := fs.Uint64("seed", d.Seed, "random `seed`")
	nodes := fs.Int("nodes", d.Nodes, "number of nodes (0: one per 20 instances, at least 8)")
	instances := fs.Int("instances", d.Instances, "number of instances")
	groups := fs.Int("groups", d.NodeGroups, "number of node groups")
	links := fs.Int("links", d.Links, "number of NIC links (at least 2)")
	networks := fs.Int("networks", d.Networks, "number of Ganeti networks")
	drbd := fs.Float64("drbd", d.DRBDFraction, "fraction of instances with DRBD disks")
	file := fs.Float64("file", d.FileFraction, "fraction of instances with file disks (the rest are plain)")
	maxDisks := fs.Int("max-disks", d.MaxDisks, "largest number of disks per instance")
	flat := fs.Bool("flat-drbd", false, "leave out the data/meta children of DRBD disks")
	ipv6 := fs.Bool("ipv6", false, "IPv6 node addresses")
	nonASCII := fs.Bool("non-ascii", false, "some node and instance names with non-ASCII letters")
	asciiOnly := fs.Bool("ascii-only", false, `write non-ASCII characters as \u escapes`)
	omit := fs.Bool("omit-optional", false, "leave out the members Ganeti can do without")
	indent := fs.Bool("indent", false, "indent the JSON")
	clusterSerial := fs.Int("cluster-serial", d.ClusterSerial, "cluster serial_no")
	serial := fs.Int("serial", 0, "top-level serial_no (0: cluster serial + 1000)")
	hv := fs.String("hypervisor", "kvm", "the enabled hypervisor: kvm, xen-pvm or xen-hvm")
	return func() (Options, error) {
		o := Default()
		if *demo {
			o = Demo()
		}
		// Flags given explicitly override the starting point.
		var err error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "seed":
				o.Seed = *seed
			case "nodes":
				o.Nodes = *nodes
			case "instances":
				o.Instances = *instances
			case "groups":
				o.NodeGroups = *groups
			case "links":
				o.Links = *links
			case "networks":
				o.Networks = *networks
			case "drbd":
				o.DRBDFraction = *drbd
			case "file":
				o.FileFraction = *file
			case "max-disks":
				o.MaxDisks = *maxDisks
			case "flat-drbd":
				o.FlatDRBD = *flat
			case "ipv6":
				o.IPv6 = *ipv6
			case "non-ascii":
				o.NonASCII = *nonASCII
			case "ascii-only":
				o.ASCIIOnly = *asciiOnly
			case "omit-optional":
				o.OmitOptional = *omit
			case "indent":
				o.Indent = *indent
			case "cluster-serial":
				o.ClusterSerial = *clusterSerial
			case "serial":
				o.Serial = *serial
			case "hypervisor":
				o.Hypervisor = *hv
			case "size":
				o.TargetSize, err = parseSize(*size)
				if !isSet(fs, "nodes") {
					o.Nodes = 0
				}
			}
		})
		return o, err
	}
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseSize reads "123", "64K", "1.5MB", "2GiB" (powers of 1024).
func parseSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	upper := strings.ToUpper(t)
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(upper, u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional K, M or G suffix", s)
	}
	return int(v * mult), nil
}
