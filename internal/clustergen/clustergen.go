// Package clustergen builds synthetic but valid Ganeti 3.0 config.data
// documents of any size, for tests, benchmarks and the demo cluster of
// examples/. The output is deterministic for given Options (the seed
// included) and loads in the real Ganeti 3.0.2 ganeti-confd.
//
// Alongside the bytes, Generate returns Facts: the master, every node's
// role and addresses, every instance's NICs (IP and effective link) and
// disks (with DRBD minors and ports), and helpers that predict confd's
// answers from them, so a test need not parse the config it asked for.
//
// What a generated cluster contains:
//
//   - Nodes with roles in index order: the master (also a master
//     candidate), master candidates, drained, offline, drained+offline,
//     then regular nodes (some not master_capable). Nodes are split into
//     node groups in contiguous blocks. Primary IPs count up from
//     192.168.0.11 (master IP 192.168.0.10), secondaries from 172.16.0.11;
//     with IPv6, 2001:db8:0:1::b and 2001:db8:0:2::b.
//   - Links br0 (the cluster default), br100, br101, …. Instance addresses
//     on link k come from 10.(16k).0.0/12 (half of them from
//     2001:db8:100:k::/64 with IPv6).
//   - Instances whose NICs follow fixed patterns, so a small cluster shows
//     all of them: NIC 0 is on the default link, with nicparams.link
//     written for every fourth instance and no IP for every fifth; every
//     tenth instance reuses an earlier instance's default-link IP (a
//     duplicate); every third instance has a second NIC on another link
//     (mode routed for half of them, without an IP for a fifth of them),
//     and on every twelfth instance that NIC reuses the NIC 0 address (one
//     IP on two links); every sixth instance has a NIC on a Ganeti network.
//   - Disks: DRBD (with data and meta LVs as children, minors unique per
//     node, ports from the cluster's port allocator, which KVM instances'
//     network_port shares), plain and file, in the asked proportions,
//     spread evenly over the instances.
//
// Members are written in the order of the 3.0 object model
// (src/Ganeti/Objects.hs), maps in ascending key order, and every
// defaulted member is present, so the document is what Ganeti 3.0 itself
// would write: confd's CONFIG_QUERY answers are then parts of the file.
package clustergen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Generate builds a config.data document for o and the facts about it.
func Generate(o Options) ([]byte, *Facts, error) {
	o, err := o.normalized()
	if err != nil {
		return nil, nil, fmt.Errorf("clustergen: %w", err)
	}
	if o.TargetSize > 0 {
		o, err = o.sized()
		if err != nil {
			return nil, nil, fmt.Errorf("clustergen: sizing for %d bytes: %w", o.TargetSize, err)
		}
	}
	m := build(o)
	b := m.write(make([]byte, 0, m.sizeHint()))
	if o.Indent {
		var buf bytes.Buffer
		buf.Grow(len(b) * 2)
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return nil, nil, fmt.Errorf("clustergen: indenting: %w", err)
		}
		buf.WriteByte('\n')
		b = buf.Bytes()
	}
	m.f.Size = len(b)
	return b, m.f, nil
}

// measure returns the output size for o (normalized) with n instances.
func (o Options) measure(n int) (int, Options, error) {
	o.Instances = n
	o.TargetSize = 0
	if o.nodesAuto {
		o.Nodes = 0
	}
	if len(o.InstanceNames) > n {
		o.InstanceNames = o.InstanceNames[:n]
	}
	no, err := o.normalized()
	if err != nil {
		return 0, no, err
	}
	m := build(no)
	b := m.write(make([]byte, 0, m.sizeHint()))
	if no.Indent {
		// Indentation adds a roughly constant share; measure it on the
		// sample too.
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return 0, no, err
		}
		return buf.Len() + 1, no, nil
	}
	return len(b), no, nil
}

// sized picks the instance count (and the node count, if it was derived)
// for o.TargetSize, from the sizes of two small samples: the size grows
// linearly with the instances.
func (o Options) sized() (Options, error) {
	target := o.TargetSize
	const sample = 400
	base, _, err := o.measure(0)
	if err != nil {
		return o, err
	}
	s, _, err := o.measure(sample)
	if err != nil {
		return o, err
	}
	per := float64(s-base) / sample
	n := 0
	if target > base && per > 0 {
		n = int(float64(target-base) / per)
	}
	// A second, larger sample corrects for names and addresses growing
	// with the count, at a tenth of the final cost.
	if n > 10*sample {
		big := n / 10
		got, _, err := o.measure(big)
		if err != nil {
			return o, err
		}
		perBig := float64(got-base) / float64(big)
		// Extrapolate the per-instance growth linearly in log10(count).
		grow := (perBig - per) / math.Log10(float64(big)/sample)
		per = perBig + grow*math.Log10(float64(n)/float64(big))
		n = int(float64(target-base) / per)
	}
	// Small counts are cheap to measure: correct the estimate on the
	// real thing.
	for range 3 {
		if n <= 0 || n > 20*sample {
			break
		}
		got, _, err := o.measure(n)
		if err != nil {
			return o, err
		}
		diff := target - got
		if diff > -target/100 && diff < target/100 {
			break
		}
		n += int(float64(diff) / per)
	}
	o.Instances = max(n, 0)
	o.TargetSize = 0
	if o.nodesAuto {
		o.Nodes = 0
	}
	if len(o.InstanceNames) > o.Instances {
		o.InstanceNames = o.InstanceNames[:o.Instances]
	}
	return o.normalized()
}
