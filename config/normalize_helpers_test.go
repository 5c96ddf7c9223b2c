package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

// decodeTestJSON reads JSON text with the production reader, tjson.Parse,
// which keeps member order, duplicates and number literals.
func decodeTestJSON(data []byte) (tjson.Value, error) {
	return tjson.Parse(data, tjson.Options{})
}

// encodeTestJSON writes v compactly (for fuzz seeds and messages).
func encodeTestJSON(v *tjson.Value) []byte { return tjson.Marshal(v) }

// diffValues returns "" when got and want are the same tree (member order,
// number literals and all), else where and how they first differ. want is
// a golden answer, whose characters the 3.0 server cut to 8 bits on the
// wire; got is compared after the same cut.
func diffValues(path string, got, want *tjson.Value) string {
	if got.Kind != want.Kind {
		return fmt.Sprintf("%s: got %s %s, want %s %s", path, got.Kind, short(got), want.Kind, short(want))
	}
	switch got.Kind {
	case tjson.Bool:
		if got.Bool != want.Bool {
			return fmt.Sprintf("%s: got %v, want %v", path, got.Bool, want.Bool)
		}
	case tjson.Number:
		if got.Str != want.Str {
			return fmt.Sprintf("%s: got %q, want %q", path, got.Str, want.Str)
		}
	case tjson.String:
		// The golden answers are what the server sent: each character cut
		// to its low 8 bits (docs/protocol.md 1.5).
		if char8(got.Str) != want.Str {
			return fmt.Sprintf("%s: got %q, want %q", path, got.Str, want.Str)
		}
	case tjson.Array:
		for i := 0; i < len(got.Arr) && i < len(want.Arr); i++ {
			if d := diffValues(fmt.Sprintf("%s[%d]", path, i), &got.Arr[i], &want.Arr[i]); d != "" {
				return d
			}
		}
		if len(got.Arr) != len(want.Arr) {
			return fmt.Sprintf("%s: got %d elements, want %d", path, len(got.Arr), len(want.Arr))
		}
	case tjson.Object:
		for i := 0; i < len(got.Obj) && i < len(want.Obj); i++ {
			if char8(got.Obj[i].Key) != want.Obj[i].Key {
				return fmt.Sprintf("%s: member %d is %q, want %q (got keys %s, want %s)", path, i,
					got.Obj[i].Key, want.Obj[i].Key, keys(got), keys(want))
			}
			if d := diffValues(path+"/"+got.Obj[i].Key, &got.Obj[i].Val, &want.Obj[i].Val); d != "" {
				return d
			}
		}
		if len(got.Obj) != len(want.Obj) {
			return fmt.Sprintf("%s: got keys %s, want %s", path, keys(got), keys(want))
		}
	}
	return ""
}

func keys(v *tjson.Value) string {
	k := make([]string, len(v.Obj))
	for i, m := range v.Obj {
		k[i] = m.Key
	}
	return "[" + strings.Join(k, " ") + "]"
}

func short(v *tjson.Value) string {
	s := string(encodeTestJSON(v))
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// testEdit is one edit of testdata/cases.json (see testdata/capture.py,
// which applies the same edits for the real server).
type testEdit struct {
	Set   []any  `json:"set"`
	Add   []any  `json:"add"`
	Del   []any  `json:"del"`
	Value string `json:"value"`
}

// testCase is one entry of testdata/cases.json.
type testCase struct {
	Name    string     `json:"name"`
	Why     string     `json:"why"`
	Base    string     `json:"base"`
	Edits   []testEdit `json:"edits"`
	WantErr string     `json:"wantErr"`
}

func loadCases(t testing.TB) []testCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []testCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("testdata/cases.json: %v", err)
	}
	return cases
}

func readTestConfig(t testing.TB, name string) tjson.Value {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := decodeTestJSON(data)
	if err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
	return v
}

// child finds the first member with the key, or the array element.
func child(v *tjson.Value, step any) (*tjson.Value, error) {
	switch s := step.(type) {
	case string:
		if v.Kind != tjson.Object {
			return nil, fmt.Errorf("%q: not an object", s)
		}
		if c, ok := v.Get(s); ok {
			return c, nil
		}
		return nil, fmt.Errorf("no member %q", s)
	case float64:
		i := int(s)
		if v.Kind != tjson.Array || i < 0 || i >= len(v.Arr) {
			return nil, fmt.Errorf("no element %d", i)
		}
		return &v.Arr[i], nil
	}
	return nil, fmt.Errorf("bad path step %v", step)
}

// applyEdit applies one cases.json edit, like capture.py's apply_edit.
func applyEdit(doc *tjson.Value, e testEdit) error {
	var op string
	var path []any
	switch {
	case e.Set != nil:
		op, path = "set", e.Set
	case e.Add != nil:
		op, path = "add", e.Add
	case e.Del != nil:
		op, path = "del", e.Del
	default:
		return fmt.Errorf("edit without operation")
	}
	parent := doc
	for _, step := range path[:len(path)-1] {
		c, err := child(parent, step)
		if err != nil {
			return err
		}
		parent = c
	}
	last := path[len(path)-1]
	var val tjson.Value
	if op != "del" {
		var err error
		if val, err = decodeTestJSON([]byte(e.Value)); err != nil {
			return fmt.Errorf("value %.40q: %v", e.Value, err)
		}
	}
	if key, ok := last.(string); ok {
		if parent.Kind != tjson.Object {
			return fmt.Errorf("%q: not an object", key)
		}
		for i := range parent.Obj {
			if parent.Obj[i].Key != key {
				continue
			}
			switch op {
			case "del":
				parent.Obj = append(parent.Obj[:i:i], parent.Obj[i+1:]...)
				return nil
			case "set":
				parent.Obj[i].Val = val
				return nil
			}
			break
		}
		if op == "del" {
			return fmt.Errorf("no member %q", key)
		}
		parent.Obj = append(parent.Obj, tjson.Member{Key: key, Val: val})
		return nil
	}
	i := int(last.(float64))
	if parent.Kind != tjson.Array || i < 0 || i > len(parent.Arr) {
		return fmt.Errorf("no element %d", i)
	}
	switch {
	case op == "del":
		parent.Arr = append(parent.Arr[:i:i], parent.Arr[i+1:]...)
	case op == "set" && i < len(parent.Arr):
		parent.Arr[i] = val
	default:
		parent.Arr = append(parent.Arr[:i:i], append([]tjson.Value{val}, parent.Arr[i:]...)...)
	}
	return nil
}

// caseDocument is the case's base config with its edits applied.
func caseDocument(t testing.TB, c testCase) tjson.Value {
	t.Helper()
	base := c.Base
	if base == "" {
		base = "rich.json"
	}
	doc := readTestConfig(t, base)
	for i, e := range c.Edits {
		if err := applyEdit(&doc, e); err != nil {
			t.Fatalf("case %s: edit %d: %v", c.Name, i, err)
		}
	}
	return doc
}

// golden is one golden file written by testdata/capture.py from the real
// server's answers.
type golden struct {
	loads   bool
	err     string
	same    []string
	answers map[string]*tjson.Value
}

func readGolden(t testing.TB, name string) golden {
	t.Helper()
	v := readTestConfig(t, filepath.Join("golden", name))
	var g golden
	g.answers = map[string]*tjson.Value{}
	for i := range v.Obj {
		m := &v.Obj[i]
		switch m.Key {
		case "loads":
			g.loads = m.Val.Bool
		case "error":
			g.err = m.Val.Str
		case "same":
			for _, s := range m.Val.Arr {
				g.same = append(g.same, s.Str)
			}
		case "answers":
			for j := range m.Val.Obj {
				g.answers[m.Val.Obj[j].Key] = &m.Val.Obj[j].Val
			}
		}
	}
	return g
}

// topMembers are the members of the document that the golden files record.
var topMembers = []string{"version", "cluster", "nodes", "nodegroups", "instances",
	"networks", "disks", "filters", "ctime", "mtime", "serial_no"}
