package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/tjson"
)

// The Loader keeps a config as a skeleton and leaves (leaf.go). These
// tests hold it to the reference: parsing the whole text into a tree and
// normalizing that (normalizeDocument), the path that the golden files
// and cases.json check against the real server.

// referenceLoad is the reference: the normalized document, encoded, or
// the error.
func referenceLoad(text []byte) (tjson.Value, []byte, error) {
	raw, err := tjson.Parse(text, tjson.Options{Container: true})
	if err != nil {
		return tjson.Value{}, nil, errParse(err)
	}
	doc, err := normalizeDocument(&raw)
	if err != nil {
		return tjson.Value{}, nil, errParse(err)
	}
	return doc, tjson.Marshal(&doc), nil
}

// checkAgainstReference parses text with ld and checks the result
// against the reference: the same error, or the same document, and the
// same answer for every pointer into it (the first maxPointers, unless
// maxPointers is negative).
func checkAgainstReference(t *testing.T, ld *Loader, text []byte, maxPointers int) *Snapshot {
	t.Helper()
	ref, want, wantErr := referenceLoad(text)
	s, err := ld.Parse(text)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("Loader error %v, reference error %v", err, wantErr)
	case err != nil:
		if err.Error() != wantErr.Error() {
			t.Fatalf("Loader error %q, reference error %q", err, wantErr)
		}
		return nil
	}
	if got := tjson.Marshal(&s.doc); !bytes.Equal(got, want) {
		t.Fatalf("documents differ:\nLoader:    %.400s\nreference: %.400s", got, want)
	}
	checked := 0
	walkPointers(&ref, "", func(ptr string, v *tjson.Value) {
		if maxPointers >= 0 && checked >= maxPointers {
			return
		}
		checked++
		wantAns := tjson.Marshal(v)
		if len(wantAns) > MaxAnswerSize {
			return
		}
		got, ok := s.AppendQuery(nil, []byte(ptr))
		if !ok || !bytes.Equal(got, wantAns) {
			t.Errorf("pointer %q: got %.200s (found %v), want %.200s", ptr, got, ok, wantAns)
		}
	})
	return s
}

// walkPointers calls fn with the pointer to every value of v that the
// first member of its name names (Ganeti's lookup finds the first).
func walkPointers(v *tjson.Value, prefix string, fn func(string, *tjson.Value)) {
	if prefix != "" {
		fn(prefix, v)
	}
	switch v.Kind {
	case tjson.Object:
		seen := map[string]bool{}
		for i := range v.Obj {
			k := v.Obj[i].Key
			if seen[k] || k == "" {
				continue
			}
			seen[k] = true
			esc := strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
			walkPointers(&v.Obj[i].Val, prefix+"/"+esc, fn)
		}
	case tjson.Array:
		for i := range v.Arr {
			walkPointers(&v.Arr[i], prefix+"/"+strconv.Itoa(i), fn)
		}
	}
}

// testTexts returns the reference configs and every case of
// testdata/cases.json, compact and indented.
func testTexts(t testing.TB) map[string][]byte {
	texts := map[string][]byte{}
	add := func(name string, v tjson.Value) {
		compact := tjson.Marshal(&v)
		texts[name] = compact
		var ind bytes.Buffer
		if err := json.Indent(&ind, compact, "", " "); err == nil {
			texts[name+" indented"] = ind.Bytes()
		}
	}
	for _, name := range baseConfigs {
		add(name, readTestConfig(t, name))
	}
	for _, c := range loadCases(t) {
		add(c.Name, caseDocument(t, c))
	}
	return texts
}

func TestLoaderMatchesReference(t *testing.T) {
	for name, text := range testTexts(t) {
		t.Run(name, func(t *testing.T) {
			var ld Loader
			checkAgainstReference(t, &ld, text, -1)
		})
	}
}

func TestLoaderMatchesReferenceGenerated(t *testing.T) {
	variants := map[string]func(*clustergen.Options){
		"small":       func(o *clustergen.Options) {},
		"ipv6":        func(o *clustergen.Options) { o.IPv6 = true },
		"non-ASCII":   func(o *clustergen.Options) { o.NonASCII = true },
		"ASCII only":  func(o *clustergen.Options) { o.NonASCII, o.ASCIIOnly = true, true },
		"no optional": func(o *clustergen.Options) { o.OmitOptional = true },
		"indented":    func(o *clustergen.Options) { o.Indent = true },
		"flat DRBD":   func(o *clustergen.Options) { o.FlatDRBD = true },
	}
	for name, edit := range variants {
		t.Run(name, func(t *testing.T) {
			o := clustergen.Default()
			o.Nodes, o.Instances = 12, 40
			edit(&o)
			data, _, err := clustergen.Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			var ld Loader
			checkAgainstReference(t, &ld, data, -1)
		})
	}
}

// TestLoaderSyntaxErrors cuts a config short and breaks it at many
// places, inside leaves and out: every error must be the reference's, at
// the same offset.
func TestLoaderSyntaxErrors(t *testing.T) {
	base := testTexts(t)["rich.json indented"]
	// The Loader knows the good text: its leaves are taken as checked
	// where the broken text has the same bytes.
	var ld Loader
	if _, err := ld.Parse(base); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(base); i += 37 {
		checkAgainstReference(t, &ld, base[:i], 2000)
		for _, b := range []byte{'}', ',', '"', 'x', 0xFF, '\t', 0} {
			broken := bytes.Clone(base)
			broken[i] = b
			checkAgainstReference(t, &ld, broken, 2000)
		}
	}
}

// TestLoaderReuse loads versions of a config one after the other with
// one Loader: each result must be the reference's, and a version that
// changes one instance must make only that instance's leaf anew.
func TestLoaderReuse(t *testing.T) {
	o := clustergen.Default()
	o.Nodes, o.Instances = 12, 40
	data, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	var ld Loader
	first := checkAgainstReference(t, &ld, data, 2000)
	total := ld.Stats().Leaves
	if made := ld.Stats().Made; made != total || total < 100 {
		t.Fatalf("first load made %d of %d leaves", made, total)
	}

	// Rename one instance: its leaf alone is new.
	victim := first.Instances()[0]
	key := victim.Key
	old := []byte(`"name":"` + victim.Name + `"`)
	if bytes.Count(data, old) != 1 {
		t.Fatalf("%s appears %d times", old, bytes.Count(data, old))
	}
	edited := bytes.Replace(data, old, []byte(`"name":"renamed.example.org"`), 1)
	second := checkAgainstReference(t, &ld, edited, 2000)
	if st := ld.Stats(); st.Made != 1 || st.Leaves != total {
		t.Errorf("after renaming one instance: made %d of %d leaves, want 1 of %d", st.Made, st.Leaves, total)
	}
	inst, lerr := second.Instance([]byte("renamed.example.org"))
	if lerr != nil || inst.Key != key {
		t.Errorf("renamed instance: got %v, %v", inst, lerr)
	}
	if _, lerr := first.Instance([]byte("renamed.example.org")); lerr == nil {
		t.Error("the first snapshot sees the rename")
	}

	// Texts are found where the last load had them, around a text that
	// changed, one that was deleted and one that was inserted: all the
	// leaves but the new ones. (Empty containers make no leaves: they
	// are always looked for.)
	if st := ld.Stats(); st.Found != st.Leaves-1 {
		t.Errorf("after renaming one instance: %d of %d leaves found in place", st.Found, st.Leaves)
	}
	other := second.Instances()[len(second.Instances())/2]
	lazy, err := tjson.Parse(edited, tjson.Options{RawDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	insts, _ := lazy.Get("instances")
	raw, _ := insts.Get(other.Key)
	entry := []byte(`"` + other.Key + `":` + raw.Str + `,`)
	if bytes.Count(edited, entry) != 1 {
		t.Fatalf("instance %s not found as written", other.Key)
	}
	for _, v := range []struct {
		name string
		text []byte
	}{
		{"deleted", bytes.Replace(edited, entry, nil, 1)},
		{"inserted", bytes.Replace(edited, entry, []byte(string(entry)+`"`+other.Key+`-copy":`+raw.Str+`,`), 1)},
		{"back", edited},
	} {
		checkAgainstReference(t, &ld, v.text, 2000)
		// Inserted: the deleted instance comes back, with a copy. Where
		// texts were deleted, the first text after them is looked for.
		if st := ld.Stats(); st.Made > 2 || st.Found < st.Leaves-st.Made-1 {
			t.Errorf("%s: made %d, found %d of %d texts in place", v.name, st.Made, st.Found, st.Leaves)
		}
	}

	// A bad version changes nothing; the good one after it reuses the
	// leaves of the last good load.
	if _, err := ld.Parse(edited[:len(edited)/2]); err == nil {
		t.Fatal("half a config loaded")
	}
	checkAgainstReference(t, &ld, edited, 2000)
	if st := ld.Stats(); st.Made != 0 {
		t.Errorf("same content again: made %d leaves, want 0", st.Made)
	}
	// The same leaf text under another type is not reused: an instance
	// object is not read as a node.
	ld.Forget()
	checkAgainstReference(t, &ld, data, 2000)
	if st := ld.Stats(); st.Made != total {
		t.Errorf("after Forget: made %d of %d leaves", st.Made, st.Leaves)
	}
}

// TestLeafPointers checks CONFIG_QUERY inside leaves where the encoding
// needs care: escaped and non-ASCII names, names above U+FFFF (the leaf
// keeps a tree), duplicate names in free-form values (first wins), and a
// leaf too large to scan (a tree again).
func TestLeafPointers(t *testing.T) {
	v := readTestConfig(t, "rich.json")
	cluster, _ := v.Get("cluster")
	osp, _ := cluster.Get("osparams")
	big := tjson.Value{Kind: tjson.Object}
	for i := range 3000 {
		big.Obj = append(big.Obj, tjson.Member{Key: fmt.Sprintf("key%04d", i), Val: tjson.Value{Kind: tjson.String, Str: strings.Repeat("v", 10)}})
	}
	osp.Obj = append(osp.Obj, tjson.Member{Key: "big", Val: big})
	certs, _ := cluster.Get("candidate_certs")
	certs.Obj = append(certs.Obj,
		tjson.Member{Key: "esc\"aped\\/\u00e9\u1234\ud7ff", Val: tjson.Value{Kind: tjson.String, Str: "escaped"}},
		tjson.Member{Key: "a\nb", Val: tjson.Value{Kind: tjson.String, Str: "newline"}},
	)
	text := tjson.Marshal(&v)
	// Free-form values (default_iallocator_params is a Container
	// JSValue) keep duplicate names, and names as they are: a character
	// above U+FFFF, written raw, and two lone surrogates, written as
	// escapes, are two names with the same encoding.
	text = bytes.Replace(text, []byte(`"default_iallocator_params":{}`),
		[]byte("\"default_iallocator_params\":{\"dup\":{\"x\":1,\"x\":2},\"k\":{\"\U0001F600\":\"astral\",\"\\ud83d\\ude00\":\"pair\"}}"), 1)
	if _, _, err := referenceLoad(text); err != nil {
		t.Fatal(err)
	}
	var ld Loader
	s := checkAgainstReference(t, &ld, text, -1)
	for _, tt := range []struct{ ptr, want string }{
		{"/cluster/default_iallocator_params/dup/x", "1"},
		{"/cluster/default_iallocator_params/k/\U0001F600", `"astral"`},
		{"/cluster/default_iallocator_params/k/\xed\xa0\xbd\xed\xb8\x80", `"pair"`},
		{"/cluster/osparams/big/key2999", `"vvvvvvvvvv"`},
		{"/cluster/candidate_certs/esc\"aped\\~1\u00e9\u1234\ud7ff", `"escaped"`},
		{"/cluster/candidate_certs/a\nb", `"newline"`},
	} {
		got, ok := s.AppendQuery(nil, []byte(tt.ptr))
		if !ok || string(got) != tt.want {
			t.Errorf("%q: got %s (found %v), want %s", tt.ptr, got, ok, tt.want)
		}
	}
	// Which leaves keep trees: the large one and the one with
	// surrogate escapes, not the one with other escapes.
	for _, tt := range []struct {
		member string
		tree   bool
	}{{"osparams", true}, {"default_iallocator_params", true}, {"candidate_certs", false}} {
		c, _ := s.doc.Get("cluster")
		m, _ := c.Get(tt.member)
		if l := s.leaf(m); l == nil || (l.tree != nil) != tt.tree {
			t.Errorf("cluster.%s: leaf %v, want tree %v", tt.member, l, tt.tree)
		}
	}
}

// FuzzLoader checks the Loader against the reference on any text, alone
// and after a load of a reference config (so that leaves are reused).
//
// The seeds are the reference configs, compact: each execution loads its
// input three times and checks it against the reference, so a few seeds
// keep the fuzzer fast (every case of cases.json runs in the tests
// above).
func FuzzLoader(f *testing.F) {
	texts := testTexts(f)
	for _, name := range baseConfigs {
		f.Add(texts[name])
	}
	f.Add([]byte(`{"version":3000000,"cluster":{"a":[1]},"nodes":{"n":{}}}`))
	seed := texts["rich.json"]
	f.Fuzz(func(t *testing.T, data []byte) {
		var fresh Loader
		checkAgainstReference(t, &fresh, data, 100)
		var warm Loader
		if _, err := warm.Parse(seed); err != nil {
			t.Fatal(err)
		}
		checkAgainstReference(t, &warm, data, 100)
	})
}

// fingerprint encodes everything a snapshot answers from.
func fingerprint(s *Snapshot) []byte {
	out := tjson.Marshal(&s.doc)
	out = fmt.Appendf(out, "\n%d %d %d %s %s %s %s", s.Version(), s.Serial(), s.ClusterSerial(),
		s.NodePipListJSON(), s.McPipListJSON(), s.DataCollectorsJSON(), s.MasterNameJSON())
	for _, n := range s.Nodes() {
		a, e := n.DRBD()
		out = fmt.Appendf(out, "\nnode %q %q %q %q %v %v %v %d %s %s ", n.Key, n.UUID, n.Name, n.PrimaryIP,
			n.MasterCandidate, n.Offline, n.Drained, n.Serial, a, e)
		out = n.AppendInstancesJSON(out)
	}
	for _, inst := range s.Instances() {
		out = fmt.Appendf(out, "\ninstance %q %q %q %v %d %q %v %s ", inst.Key, inst.UUID, inst.Name, inst.HasName,
			inst.Serial, inst.Primary, inst.HasPrimary, inst.JSON())
		var e error
		if out, e = inst.AppendDisks(out); e != nil {
			out = append(out, e.Error()...)
		}
		for _, nic := range inst.facts.nics {
			link := nic.link
			if !nic.hasLink {
				l, _ := s.DefaultLink()
				link = string(l)
			}
			out = fmt.Appendf(out, " %s %s %s", link, s.InstancesIPsJSON([]byte(link)), s.NodePipByInstanceIP([]byte(link), []byte(nic.ip)))
		}
	}
	return out
}

// TestSnapshotKeepsNoData overwrites the text a snapshot was loaded from:
// nothing it answers may change (a mapped config.data is unmapped after
// the load).
func TestSnapshotKeepsNoData(t *testing.T) {
	o := clustergen.Default()
	o.Nodes, o.Instances = 12, 200 // enough leaves to make them in parallel
	o.NonASCII = true
	gen, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	texts := testTexts(t)
	for name, text := range map[string][]byte{"rich": texts["rich.json"], "rich indented": texts["rich.json indented"], "generated": gen} {
		t.Run(name, func(t *testing.T) {
			want, err := Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			for _, warm := range []bool{false, true} {
				var ld Loader
				if warm {
					if _, err := ld.Parse(text); err != nil {
						t.Fatal(err)
					}
				}
				buf := bytes.Clone(text)
				s, err := ld.Parse(buf)
				if err != nil {
					t.Fatal(err)
				}
				for i := range buf {
					buf[i] = 'X'
				}
				if ld.Stats().Made == 0 && !warm || ld.Stats().Made != 0 && warm {
					t.Errorf("warm %v: made %d leaves", warm, ld.Stats().Made)
				}
				if got, w := fingerprint(s), fingerprint(want); !bytes.Equal(got, w) {
					t.Fatalf("warm %v: answers changed with the text:\n%.300s\nwant\n%.300s", warm, got, w)
				}
			}
		})
	}
}

// TestHasSurrogateEscape checks which encoded leaves keep a tree because
// their escapes may be a surrogate pair or lone surrogates.
func TestHasSurrogateEscape(t *testing.T) {
	tests := []struct {
		enc  string
		want bool
	}{
		{`"\ud83d\ude00"`, true},
		{`"\udfff"`, true},
		{`"\ud800"`, true},
		{`"\ud7ff"`, false},
		{`"\u00e9 \ud"`, false},
		{`"\udc"`, true},
		{`"plain"`, false},
		{`"\\ud800"`, true}, // an escaped backslash: a false alarm only costs a tree
	}
	for _, tt := range tests {
		if got := hasSurrogateEscape([]byte(tt.enc)); got != tt.want {
			t.Errorf("hasSurrogateEscape(%s) = %v, want %v", tt.enc, got, tt.want)
		}
	}
}
