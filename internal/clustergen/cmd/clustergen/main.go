// Command clustergen writes a synthetic Ganeti 3.0 config.data and prints
// a summary of it, for benchmarks and demos.
//
//	clustergen -size 50MB -o /tmp/big.data
//	clustergen -nodes 100 -instances 2000 -o medium.data
//	clustergen -demo -o examples/config.data
//	clustergen -demo -markdown -o /dev/null   # the tables of examples/README.md
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "clustergen:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "clustergen:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line.
type usageError struct{ error }

// run parses args, writes the config and prints the summary to stdout.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clustergen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out      = fs.String("o", "config.data", "write the config to this `file` (- for standard output)")
		demo     = fs.Bool("demo", false, "start from the demo cluster of examples/ instead of the defaults")
		markdown = fs.Bool("markdown", false, "print the summary as the Markdown tables of examples/README.md")
		size     = fs.String("size", "", "aim at this output `size` (e.g. 1MB, 50MB; K, M, G are powers of 1024); overrides -instances")
	)
	o := clustergen.Default()
	seed := fs.Uint64("seed", o.Seed, "random `seed`")
	nodes := fs.Int("nodes", o.Nodes, "number of nodes (0: one per 20 instances, at least 8)")
	instances := fs.Int("instances", o.Instances, "number of instances")
	groups := fs.Int("groups", o.NodeGroups, "number of node groups")
	links := fs.Int("links", o.Links, "number of NIC links (at least 2)")
	networks := fs.Int("networks", o.Networks, "number of Ganeti networks")
	drbd := fs.Float64("drbd", o.DRBDFraction, "fraction of instances with DRBD disks")
	file := fs.Float64("file", o.FileFraction, "fraction of instances with file disks (the rest are plain)")
	maxDisks := fs.Int("max-disks", o.MaxDisks, "largest number of disks per instance")
	flat := fs.Bool("flat-drbd", false, "leave out the data/meta children of DRBD disks")
	ipv6 := fs.Bool("ipv6", false, "IPv6 node addresses")
	nonASCII := fs.Bool("non-ascii", false, "some node and instance names with non-ASCII letters")
	asciiOnly := fs.Bool("ascii-only", false, `write non-ASCII characters as \u escapes`)
	omit := fs.Bool("omit-optional", false, "leave out the members Ganeti can do without")
	indent := fs.Bool("indent", false, "indent the JSON")
	clusterSerial := fs.Int("cluster-serial", o.ClusterSerial, "cluster serial_no")
	serial := fs.Int("serial", 0, "top-level serial_no (0: cluster serial + 1000)")
	hv := fs.String("hypervisor", "kvm", "the enabled hypervisor: kvm, xen-pvm or xen-hvm")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %v", fs.Args())}
	}
	if *demo {
		o = clustergen.Demo()
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
	if err != nil {
		return usageError{err}
	}

	start := time.Now()
	data, facts, err := clustergen.Generate(o)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if *out == "-" {
		_, err = stdout.Write(data)
		stdout = stderr
	} else {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if *markdown {
		_, err = io.WriteString(stdout, Markdown(facts))
	} else {
		_, err = io.WriteString(stdout, Summary(facts, *out, took))
	}
	return err
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
