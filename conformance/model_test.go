package conformance

// What the case generators need to know about a configuration, read from
// config.data with encoding/json only.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// entity is a node or an instance.
type entity struct {
	uuid, name string
	hasName    bool
}

// nic is one instance NIC that has an "ip" member.
type nic struct {
	ip, link string
}

// model is the parsed configuration.
type model struct {
	name        string
	data        []byte
	doc         any // numbers as json.Number
	defaultLink string
	master      string   // cluster.master_node
	nodes       []entity // by UUID (a sample of them when sampled)
	instances   []entity // by UUID (a sample of them when sampled)
	nics        []nic    // (a sample of them when sampled)
	links       []string // every effective NIC link and the default, sorted
	paths       []string // every JSON pointer into doc, in document order (or a sample)

	// allNodes and allInstances are every node and instance, for telling
	// unique from ambiguous prefixes.
	allNodes, allInstances []entity
	// sample is how the model was cut down (nil: it was not), and
	// skipped the pointers left out because their value is too big.
	sample  *sampling
	skipped []string
}

// sampling cuts a big configuration down to what a case table can send in
// reasonable time. The choice is seeded by the configuration's name, so it
// is the same on every run.
type sampling struct {
	// entities is how many nodes and how many instances are kept (the
	// master always is).
	entities int
	// nics is how many NICs with an IP are kept, spread over the links.
	nics int
	// paths is how many pointers are drawn at random besides those always
	// kept: every top-level member, everything under /cluster, and the
	// whole subtree of the first and the last member of each top-level
	// object.
	paths int
	// maxValue, when positive, leaves out the top-level pointers whose
	// value serialises to more bytes: the real server spends seconds of
	// CPU on each only to find the reply too big for UDP.
	maxValue int
}

// seed is the sampling seed of a configuration.
func (s *sampling) seed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

func newModel(name string, data []byte, sample *sampling) (*model, error) {
	m := &model{name: name, data: data, sample: sample}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&m.doc); err != nil {
		return nil, err
	}
	top, ok := m.doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	m.defaultLink = str(dig(top, "cluster", "nicparams", "default", "link"))
	m.master = str(dig(top, "cluster", "master_node"))
	links := map[string]bool{m.defaultLink: true}
	for _, k := range sortedKeys(obj2(top["nodes"])) {
		n := obj2(obj2(top["nodes"])[k])
		name, ok := n["name"].(string)
		m.nodes = append(m.nodes, entity{uuid: k, name: name, hasName: ok})
	}
	for _, k := range sortedKeys(obj2(top["instances"])) {
		in := obj2(obj2(top["instances"])[k])
		name, ok := in["name"].(string)
		m.instances = append(m.instances, entity{uuid: k, name: name, hasName: ok})
		nics, _ := in["nics"].([]any)
		for _, x := range nics {
			n := obj2(x)
			ip, ok := n["ip"].(string)
			if !ok {
				continue
			}
			link := m.defaultLink
			if l, ok := obj2(n["nicparams"])["link"].(string); ok {
				link = l
			}
			links[link] = true
			m.nics = append(m.nics, nic{ip: ip, link: link})
		}
	}
	m.links = sortedKeys(links)
	m.allNodes, m.allInstances = m.nodes, m.instances
	if sample == nil {
		walkPaths(m.doc, "", &m.paths)
		return m, nil
	}
	r := rand.New(rand.NewPCG(sample.seed(name), 0x73616d706c65))
	m.nodes = sampleEntities(r, m.nodes, sample.entities, m.master)
	m.instances = sampleEntities(r, m.instances, sample.entities, "")
	m.nics = sampleNICs(r, m.nics, sample.nics)
	m.samplePaths(r, top)
	return m, nil
}

// sampleEntities keeps n of list (and always the one with UUID keep),
// in their original order.
func sampleEntities(r *rand.Rand, list []entity, n int, keep string) []entity {
	if len(list) <= n {
		return list
	}
	idx := r.Perm(len(list))[:n]
	chosen := map[int]bool{}
	for _, i := range idx {
		chosen[i] = true
	}
	var out []entity
	for i, e := range list {
		if chosen[i] || e.uuid == keep {
			out = append(out, e)
		}
	}
	return out
}

// sampleNICs keeps about n NICs, as many from each link as it has to
// offer up to an equal share, in their original order.
func sampleNICs(r *rand.Rand, list []nic, n int) []nic {
	if len(list) <= n {
		return list
	}
	byLink := map[string][]int{}
	for i, x := range list {
		byLink[x.link] = append(byLink[x.link], i)
	}
	links := sortedKeys(byLink)
	chosen := map[int]bool{}
	for left := n; left > 0; {
		progress := false
		for _, l := range links {
			if left == 0 {
				break
			}
			if idx := byLink[l]; len(idx) > 0 {
				j := r.IntN(len(idx))
				chosen[idx[j]] = true
				byLink[l] = append(idx[:j], idx[j+1:]...)
				left--
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	var out []nic
	for i, x := range list {
		if chosen[i] {
			out = append(out, x)
		}
	}
	return out
}

// samplePaths fills m.paths for a sampled model: the pointers always kept
// (see sampling.paths) and a reservoir sample of the others, in document
// order; top-level values larger than maxValue are left out.
func (m *model) samplePaths(r *rand.Rand, top map[string]any) {
	var all []string
	walkPaths(m.doc, "", &all)
	keepUnder := []string{"/cluster"}
	for _, k := range sortedKeys(top) {
		p := "/" + escapePointer(k)
		if m.sample.maxValue > 0 {
			if b, err := json.Marshal(top[k]); err == nil && len(b) > m.sample.maxValue {
				m.skipped = append(m.skipped, fmt.Sprintf("%s (%d bytes)", p, len(b)))
			}
		}
		if keys := sortedKeys(obj2(top[k])); len(keys) > 0 {
			keepUnder = append(keepUnder, p+"/"+escapePointer(keys[0]), p+"/"+escapePointer(keys[len(keys)-1]))
		}
	}
	keep := func(p string) bool {
		if strings.Count(p, "/") == 1 {
			return true
		}
		for _, u := range keepUnder {
			if p == u || strings.HasPrefix(p, u+"/") {
				return true
			}
		}
		return false
	}
	// Reservoir sampling (Algorithm R) over the pointers not kept anyway.
	var reservoir []int
	seen := 0
	for i, p := range all {
		if keep(p) {
			continue
		}
		seen++
		if len(reservoir) < m.sample.paths {
			reservoir = append(reservoir, i)
		} else if j := r.IntN(seen); j < m.sample.paths {
			reservoir[j] = i
		}
	}
	chosen := make(map[int]bool, len(reservoir))
	for _, i := range reservoir {
		chosen[i] = true
	}
	for i, p := range all {
		if (chosen[i] || keep(p)) && !m.isSkipped(p) {
			m.paths = append(m.paths, p)
		}
	}
}

// isSkipped tells whether p is a pointer left out for its size.
func (m *model) isSkipped(p string) bool {
	for _, s := range m.skipped {
		if q, _, _ := strings.Cut(s, " "); q == p {
			return true
		}
	}
	return false
}

// walkPaths appends the pointer of every member and element below v, with
// "~" and "/" in keys escaped as ~0 and ~1 (RFC 6901).
func walkPaths(v any, at string, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			p := at + "/" + escapePointer(k)
			*out = append(*out, p)
			walkPaths(v[k], p, out)
		}
	case []any:
		for i, e := range v {
			p := fmt.Sprintf("%s/%d", at, i)
			*out = append(*out, p)
			walkPaths(e, p, out)
		}
	}
}

func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		v = obj2(v)[k]
	}
	return v
}

func obj2(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dottedPrefixes returns the proper prefixes of name that end before a dot:
// "a.b.c" gives "a" and "a.b" (the partial names Ganeti matches).
func dottedPrefixes(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == '.' && i > 0 {
			out = append(out, name[:i])
		}
	}
	return out
}

// prefixMatches counts the names a query matches partially (4.1).
func prefixMatches(list []entity, q string) int {
	n := 0
	for _, e := range list {
		if e.hasName && strings.HasPrefix(e.name, q+".") {
			n++
		}
	}
	return n
}

// The variant configuration. rich-variant.json is rich.json with edits that
// the three shipped configurations lack: an ambiguous dotted prefix among
// nodes and among instances, non-ASCII names (one of them above U+FFFF,
// written raw, which the 3.0 server cannot find by an escaped name), a NIC
// with an empty IP, and hypervisor parameter keys with "/", "~", non-ASCII
// and control characters. It is generated (TestVariantConfig checks it is
// current; -conformance.update rewrites it), never edited by hand.
const variantFile = "rich-variant.json"

func deriveVariant(rich []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(rich))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, err
	}
	nodes := obj2(doc["nodes"])
	instances := obj2(doc["instances"])
	rename := func(m map[string]any, from, to string) error {
		for _, v := range m {
			if o := obj2(v); o["name"] == from {
				o["name"] = to
				return nil
			}
		}
		return fmt.Errorf("no %q to rename", from)
	}
	for _, r := range []struct {
		m        map[string]any
		from, to string
	}{
		{nodes, "node4.example.com", "node5.example.org"},                      // "node5", "node5.example" ambiguous
		{nodes, "node2.example.com", "n\u00f6d\u00e92.example.com"},            // non-ASCII node
		{instances, "instance3.example.com", "instance1.example.com.au"},       // "instance1.example" ambiguous
		{instances, "instance4.example.com", "inst\U0001F600nce4.example.com"}, // above U+FFFF
	} {
		if err := rename(r.m, r.from, r.to); err != nil {
			return nil, err
		}
	}
	for _, v := range instances {
		in := obj2(v)
		if in["name"] != "inst\U0001F600nce4.example.com" {
			continue
		}
		nics, _ := in["nics"].([]any)
		if len(nics) == 0 {
			return nil, fmt.Errorf("instance4 has no NIC")
		}
		obj2(nics[0])["ip"] = ""
	}
	xen := obj2(dig(doc, "cluster", "hvparams", "xen-pvm"))
	if xen == nil {
		return nil, fmt.Errorf("no cluster.hvparams.xen-pvm")
	}
	xen["a/b~c"] = "x/y"
	xen["caf\u00e9"] = "\u00e9\u20ac\U0001F600"
	xen["ctl"] = "\u0001\u007f\t"
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func TestVariantConfig(t *testing.T) {
	rich, err := os.ReadFile(filepath.Join("..", "config", "testdata", "rich.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := deriveVariant(rich)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", variantFile)
	if *flagUpdate {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./conformance/ -run TestVariantConfig -conformance.update)", err)
	}
	if !bytes.Equal(have, want) {
		t.Errorf("%s is not what deriveVariant makes of rich.json; rerun with -conformance.update", path)
	}
}

func TestDottedPrefixes(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"node1.example.com", []string{"node1", "node1.example"}},
		{"node1", nil},
		{".a.b", []string{".a"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dottedPrefixes(tt.name)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("dottedPrefixes(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
