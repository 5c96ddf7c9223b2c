package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

// The golden files under testdata/golden are the real Ganeti 3.0.2
// server's CONFIG_QUERY answers, recorded by testdata/capture.py (see
// testdata/README). Comparisons are exact: member order, number literals
// and all.

var baseConfigs = []string{
	"rich.json",
	"cluster_config_2.14-upgraded.json",
	"cluster_config_2.16-upgraded.json",
}

func TestNormalizeReferenceConfigs(t *testing.T) {
	for _, name := range baseConfigs {
		t.Run(name, func(t *testing.T) {
			doc := readTestConfig(t, name)
			got, err := normalizeDocument(&doc)
			if err != nil {
				t.Fatalf("normalizeDocument: %v", err)
			}
			g := readGolden(t, name)
			if !g.loads {
				t.Fatal("golden file says the real server refused the config")
			}
			compareMembers(t, &got, g.answers, topMembers)
		})
	}
}

// compareMembers checks the named top-level members of got against want.
func compareMembers(t *testing.T, got *tjson.Value, want map[string]*tjson.Value, members []string) {
	t.Helper()
	if len(got.Obj) != len(topMembers) {
		t.Errorf("document has members %s, want %v", keys(got), topMembers)
	}
	for _, m := range members {
		w, ok := want[m]
		if !ok {
			t.Errorf("golden file has no answer for /%s", m)
			continue
		}
		g, ok := got.Get(m)
		if !ok {
			t.Errorf("document has no member %q", m)
			continue
		}
		if d := diffValues("/"+m, g, w); d != "" {
			t.Errorf("%s", d)
		}
	}
}

// TestNormalizeCases runs the table of testdata/cases.json: each case is an
// edit of a reference config, and the real server's verdict on it is in
// testdata/golden/cases/<name>.json.
func TestNormalizeCases(t *testing.T) {
	bases := map[string]golden{}
	for _, name := range baseConfigs {
		bases[name] = readGolden(t, name)
	}
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			doc := caseDocument(t, c)
			g := readGolden(t, filepath.Join("cases", c.Name+".json"))
			got, err := normalizeDocument(&doc)
			if !g.loads {
				if err == nil {
					t.Fatalf("normalizeDocument accepted the config; Ganeti 3.0 says: %s", g.err)
				}
				var se *SchemaError
				if !errors.As(err, &se) {
					t.Errorf("error %v is not a *SchemaError", err)
				}
				if c.WantErr == "" {
					t.Fatalf("cases.json has no wantErr for a refused config; got error %q (Ganeti 3.0: %s)", err, g.err)
				}
				if !strings.Contains(err.Error(), c.WantErr) {
					t.Errorf("error %q does not contain %q (Ganeti 3.0: %s)", err, c.WantErr, g.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("normalizeDocument: %v; Ganeti 3.0 loads this config", err)
			}
			if c.WantErr != "" {
				t.Errorf("cases.json wants error %q, but Ganeti 3.0 loads the config", c.WantErr)
			}
			base := c.Base
			if base == "" {
				base = "rich.json"
			}
			want := map[string]*tjson.Value{}
			for _, m := range g.same {
				want[m] = bases[base].answers[m]
			}
			for m, a := range g.answers {
				want[m] = a
			}
			compareMembers(t, &got, want, topMembers)
		})
	}
}

// TestNormalizeErrors covers inputs that are not edits of a reference
// config, and limits that are ours rather than Ganeti's.
func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		edit    *testEdit // applied to rich.json when doc is empty
		wantErr string
	}{
		{name: "array at the top", doc: `[]`, wantErr: "want object, got array"},
		{name: "empty object", doc: `{}`, wantErr: `missing key "version"`},
		{
			name:    "integer too long",
			edit:    &testEdit{Set: []any{"cluster", "data_collectors", "lv", "interval"}, Value: "1e5000"},
			wantErr: `cluster.data_collectors["lv"].interval: number 1e5000 has more than 1024 digits`,
		},
		{
			name:    "free-form integer too long",
			edit:    &testEdit{Set: []any{"cluster", "diskparams", "drbd", "x"}, Value: "-7e1024"},
			wantErr: `cluster.diskparams["drbd"]["x"]: number -7e1024 has more than 1024 digits`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc tjson.Value
			if tt.doc != "" {
				var err error
				if doc, err = decodeTestJSON([]byte(tt.doc)); err != nil {
					t.Fatal(err)
				}
			} else {
				doc = readTestConfig(t, "rich.json")
				if err := applyEdit(&doc, *tt.edit); err != nil {
					t.Fatal(err)
				}
			}
			_, err := normalizeDocument(&doc)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("normalizeDocument error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestNormalizeDeepNesting builds trees deeper than tjson.Parse allows, to
// check the walker's own limit.
func TestNormalizeDeepNesting(t *testing.T) {
	deepArray := tjson.Value{Kind: tjson.Array}
	for range maxDepth + 5 {
		deepArray = tjson.Value{Kind: tjson.Array, Arr: []tjson.Value{deepArray}}
	}
	child := func(c []tjson.Value) tjson.Value {
		return tjson.Value{Kind: tjson.Object, Obj: []tjson.Member{
			{Key: "forthcoming", Val: tjson.Value{Kind: tjson.Bool, Bool: true}},
			{Key: "uuid", Val: tjson.Value{Kind: tjson.String, Str: "u"}},
			{Key: "serial_no", Val: tjson.Value{Kind: tjson.Number, Str: "1"}},
			{Key: "children", Val: tjson.Value{Kind: tjson.Array, Arr: c}},
		}}
	}
	deepDisk := child(nil)
	for range maxDepth {
		deepDisk = child([]tjson.Value{deepDisk})
	}
	tests := []struct {
		name string
		path []string
		val  tjson.Value
	}{
		{"free-form value", []string{"cluster", "hvparams", "kvm", "x"}, deepArray},
		{"disk children", []string{"disks", "d"}, deepDisk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := readTestConfig(t, "rich.json")
			parent := &doc
			for _, k := range tt.path[:len(tt.path)-1] {
				parent, _ = parent.Get(k)
			}
			parent.Obj = append(parent.Obj, tjson.Member{Key: tt.path[len(tt.path)-1], Val: tt.val})
			_, err := normalizeDocument(&doc)
			if err == nil || !strings.Contains(err.Error(), "nested more than") {
				t.Fatalf("normalizeDocument error = %v, want nesting error", err)
			}
		})
	}
}

func TestNormalizeInvalidNumberLiteral(t *testing.T) {
	// tjson.Parse never produces such a literal; the walker must still
	// refuse it instead of misreading it.
	for _, lit := range []string{"", "1.", ".5", "01", "1e", "0x10", "NaN", "--1", "1_000"} {
		doc := readTestConfig(t, "rich.json")
		sn, _ := doc.Get("serial_no")
		*sn = tjson.Value{Kind: tjson.Number, Str: lit}
		if _, err := normalizeDocument(&doc); err == nil || !strings.Contains(err.Error(), "serial_no: invalid number") {
			t.Errorf("literal %q: error = %v, want serial_no: invalid number", lit, err)
		}
	}
}

func TestNormalizeDoesNotModifyInput(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "rich.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeTestJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	before := string(encodeTestJSON(&doc))
	if _, err := normalizeDocument(&doc); err != nil {
		t.Fatal(err)
	}
	if after := string(encodeTestJSON(&doc)); after != before {
		t.Error("normalizeDocument modified its input")
	}
}

func TestNormalizeIsStable(t *testing.T) {
	// The real server reads what it writes: normalizing a normalized
	// document gives it back unchanged.
	for _, name := range baseConfigs {
		doc := readTestConfig(t, name)
		once, err := normalizeDocument(&doc)
		if err != nil {
			t.Fatal(err)
		}
		twice, err := normalizeDocument(&once)
		if err != nil {
			t.Fatalf("%s: normalizing the normalized document: %v", name, err)
		}
		if d := diffValues(name, &twice, &once); d != "" {
			t.Errorf("second pass differs: %s", d)
		}
	}
}

func FuzzNormalizeDocument(f *testing.F) {
	for _, name := range baseConfigs {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, c := range loadCases(f) {
		doc := caseDocument(f, c)
		f.Add(encodeTestJSON(&doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := decodeTestJSON(data)
		if err != nil {
			return
		}
		out, err := normalizeDocument(&doc)
		if err != nil {
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SchemaError", err)
			}
			return
		}
		checkWellFormed(t, &out)
		// What the model writes, it reads back.
		if _, err := normalizeDocument(&out); err != nil {
			t.Fatalf("normalized document is refused: %v", err)
		}
	})
}

// checkWellFormed fails unless every number in v is a valid JSON literal.
func checkWellFormed(t *testing.T, v *tjson.Value) {
	t.Helper()
	switch v.Kind {
	case tjson.Number:
		if _, ok := tjson.ParseDecimal(v.Str); !ok {
			t.Fatalf("invalid number literal %q in output", v.Str)
		}
	case tjson.Array:
		for i := range v.Arr {
			checkWellFormed(t, &v.Arr[i])
		}
	case tjson.Object:
		for i := range v.Obj {
			checkWellFormed(t, &v.Obj[i].Val)
		}
	}
}

func BenchmarkNormalizeRich(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "rich.json"))
	if err != nil {
		b.Fatal(err)
	}
	doc, err := decodeTestJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := normalizeDocument(&doc); err != nil {
			b.Fatal(err)
		}
	}
}
