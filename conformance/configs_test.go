package conformance

// The configurations the suite runs: the reference's own (copied into
// testdata/), synthetic ones from internal/clustergen (generated at start,
// never stored), and one the real server refuses.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/goconfd/goconfd/internal/clustergen"
)

// source is one configuration before its daemons start.
type source struct {
	name string
	data []byte
	// origin says where the bytes come from, for messages and repro
	// lines: a file under the module root, or a clustergen command line.
	origin string
	// refused: the real server cannot load it, so both daemons start
	// without a configuration and answer every request with status 1.
	refused bool
	// sample, when set, bounds the model and the cases (see sampling).
	sample *sampling
	// budget, when positive, is about how many generated cases are sent
	// (a seeded, stratified sample); 0 sends them all.
	budget int
	// workers, when positive, bounds the cases in flight: the real server
	// answers one request at a time, and on a big configuration a
	// NODE_DRBD or INSTANCE_DISKS request takes it a fifth of a second.
	workers int
	// caps bounds, by request type, the configuration-dependent cases
	// sent (after the budget), for the types that are costly for the real
	// server on a big configuration.
	caps map[int]int
}

// generated is a clustergen configuration, given as the arguments of
// `go run ./internal/clustergen/cmd/clustergen`, so that its repro line
// is the very command that writes it.
type generated struct {
	name    string
	args    []string
	sample  *sampling
	budget  int
	workers int
	caps    map[int]int
}

// Sampling of the big configurations: how many nodes, instances, NIC IPs
// and pointers the case generators see (docs/protocol.md's rules do not depend
// on the count, and every kind of object is kept).
var (
	sampleMedium = &sampling{entities: 30, nics: 40, paths: 900}
	sampleLarge  = &sampling{entities: 8, nics: 30, paths: 500, maxValue: 4 << 20}
)

// generatedConfigs are the synthetic configurations: the small default
// cluster (8 nodes with every role, 24 instances with DRBD, plain and file
// disks, two links, a network), the same with IPv6 nodes, with non-ASCII
// names (raw UTF-8 and \u-escaped), with every optional member left out,
// and two big ones.
var generatedConfigs = []generated{
	{name: "gen-small"},
	{name: "gen-ipv6", args: []string{"-ipv6"}},
	{name: "gen-nonascii", args: []string{"-non-ascii"}},
	{name: "gen-nonascii-escaped", args: []string{"-non-ascii", "-ascii-only"}},
	{name: "gen-omit-optional", args: []string{"-omit-optional"}},
	{name: "gen-100x2000", args: []string{"-seed", "7", "-nodes", "100", "-instances", "2000", "-groups", "4", "-links", "3", "-networks", "2"}, sample: sampleMedium, budget: 2400},
	{name: "gen-1000x20000", args: []string{"-seed", "11", "-nodes", "1000", "-instances", "20000"}, sample: sampleLarge, budget: 1000, workers: 2,
		caps: map[int]int{7: 20, 8: 20, 9: 20}},
}

// refusedName is the configuration the real server refuses: gen-small
// without cluster.ssh_key_type, which is how the 2.14–2.16 test-suite
// files fail in 3.0 (conformance/reference/README.md).
const refusedName = "refused-no-ssh-key-type"

// shortConfig is the one configuration -short runs.
const shortConfig = "rich"

// clustergenOptions turns the clustergen command's flags into Options,
// as the command reads them (clustergen.Flags).
func clustergenOptions(args []string) (clustergen.Options, error) {
	fs := flag.NewFlagSet("clustergen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	options := clustergen.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return clustergen.Options{}, fmt.Errorf("clustergen %q: %w", args, err)
	}
	if fs.NArg() > 0 {
		return clustergen.Options{}, fmt.Errorf("clustergen %q: unexpected arguments %q", args, fs.Args())
	}
	o, err := options()
	if err != nil {
		return o, fmt.Errorf("clustergen %q: %w", args, err)
	}
	return o, nil
}

// clustergenLine is the command that writes a generated configuration.
func clustergenLine(g generated) string {
	return strings.Join(append(append([]string{"go run ./internal/clustergen/cmd/clustergen"}, g.args...), "-o", g.name+".json"), " ")
}

// loadSources returns every configuration of the suite in a fixed order:
// the testdata files, the generated ones, the refused one. With short, only
// shortConfig.
func loadSources(short bool) ([]source, error) {
	files, err := configFiles()
	if err != nil {
		return nil, err
	}
	var out []source
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if short && name != shortConfig {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, source{name: name, data: data, origin: filepath.Join("conformance", f)})
	}
	if short {
		if len(out) == 0 {
			return nil, fmt.Errorf("no testdata/%s.json for -short", shortConfig)
		}
		return out, nil
	}
	var small []byte
	for _, g := range generatedConfigs {
		o, err := clustergenOptions(g.args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		data, _, err := clustergen.Generate(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.name, err)
		}
		if g.name == "gen-small" {
			small = data
		}
		out = append(out, source{name: g.name, data: data, origin: clustergenLine(g), sample: g.sample, budget: g.budget, workers: g.workers, caps: g.caps})
	}
	bad, err := withoutClusterKey(small, "ssh_key_type")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", refusedName, err)
	}
	out = append(out, source{
		name: refusedName, data: bad, refused: true, budget: 700,
		origin: clustergenLine(generatedConfigs[0]) + ", then cluster.ssh_key_type deleted",
	})
	return out, nil
}

// withoutClusterKey returns a configuration with one member of its cluster
// object removed, otherwise byte for byte the same (the member is cut out
// of the text, so nothing else is re-encoded).
func withoutClusterKey(data []byte, key string) ([]byte, error) {
	var doc struct {
		Cluster map[string]json.RawMessage `json:"cluster"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	v, ok := doc.Cluster[key]
	if !ok {
		return nil, fmt.Errorf("no cluster.%s", key)
	}
	member := []byte(`"` + key + `":` + string(v))
	if bytes.Count(data, member) != 1 {
		return nil, errors.New("the member is not written compactly exactly once")
	}
	out := bytes.Replace(data, append(member, ','), nil, 1)
	if len(out) == len(data) {
		out = bytes.Replace(data, append([]byte{','}, member...), nil, 1)
	}
	if !json.Valid(out) {
		return nil, errors.New("cutting the member out left invalid JSON")
	}
	return out, nil
}

// shortBudget is about how many cases -short sends.
const shortBudget = 300

// sampleSpecs keeps about budget of specs, in their order. The cases are
// grouped by category (the name up to its first "=": "type10/path",
// "type2/ip", "transport/salt", …); each category keeps a share
// proportional to its size, but at least a few, drawn with a seed from
// the category and seed. With keepFixed, the cases that do not depend on
// the configuration (transport, shapes, unknown types) and the
// regressions are all kept and only the rest is sampled.
func sampleSpecs(specs []Spec, budget int, seed uint64, keepFixed bool) []Spec {
	if budget <= 0 || len(specs) <= budget {
		return specs
	}
	const minShare = 3
	fixed := func(s Spec) bool { return keepFixed && configFree(s) }
	groups := map[string][]int{}
	nFixed := 0
	for i, s := range specs {
		if fixed(s) {
			nFixed++
			continue
		}
		cat, _, _ := strings.Cut(s.Name, "=")
		groups[cat] = append(groups[cat], i)
	}
	rest := len(specs) - nFixed
	room := max(budget-nFixed, 0)
	keep := make([]bool, len(specs))
	for _, cat := range sortedKeys(groups) {
		idx := groups[cat]
		share := max(min(len(idx), minShare), len(idx)*room/max(rest, 1))
		h := fnv.New64a()
		h.Write([]byte(cat))
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		for _, j := range r.Perm(len(idx))[:min(share, len(idx))] {
			keep[idx[j]] = true
		}
	}
	var out []Spec
	for i, s := range specs {
		if keep[i] || fixed(s) {
			out = append(out, s)
		}
	}
	return out
}

// configFree tells the cases that do not depend on the configuration
// (transport, query shapes, unknown types) and the regressions.
func configFree(s Spec) bool {
	return strings.HasPrefix(s.Name, "transport/") || strings.HasPrefix(s.Name, "regression/") ||
		strings.Contains(s.Name, "/shape=") || strings.HasSuffix(s.Name, "/no-such-type")
}

// capTypes keeps, for each type in caps, at most that many of its
// configuration-dependent cases (a seeded choice), in their order.
func capTypes(specs []Spec, caps map[int]int, seed uint64) []Spec {
	if len(caps) == 0 {
		return specs
	}
	byType := map[int][]int{}
	for i, s := range specs {
		if _, ok := caps[s.Type]; ok && !configFree(s) {
			byType[s.Type] = append(byType[s.Type], i)
		}
	}
	drop := map[int]bool{}
	for typ, idx := range byType {
		if len(idx) <= caps[typ] {
			continue
		}
		r := rand.New(rand.NewPCG(seed, uint64(typ)))
		for _, j := range r.Perm(len(idx))[caps[typ]:] {
			drop[idx[j]] = true
		}
	}
	var out []Spec
	for i, s := range specs {
		if !drop[i] {
			out = append(out, s)
		}
	}
	return out
}
