package tjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"unicode/utf8"
)

// Inputs where Ganeti's dialect is meant to differ from encoding/json, or
// where encoding/json loses information: lone surrogate escapes (it
// replaces them), exponents of four digits or more (tjson's MaxExponent).
var (
	surrogateEscape = regexp.MustCompile(`(?i)\\ud[89a-f]`)
	longExponent    = regexp.MustCompile(`[eE][+-]?[0-9]{4,}`)
)

// FuzzParseVsEncodingJSON compares Parse with encoding/json, a second
// implementation, on plain JSON documents: valid UTF-8 that encoding/json
// accepts, without the cases above and without white space where
// Text.JSON does not take it (see Parse). Parse must accept every one (unless
// it nests deeper than MaxDepth) and read the same value: the same
// strings, the same number literals, the same members (a document with a
// duplicate key is skipped: Ganeti keeps the first, encoding/json the
// last).
func FuzzParseVsEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2.5e3,"x\u00e9"],"b":{}}`, `[null,true,false]`, `"x"`, `-0.0E-0`,
		`{"protocol": 1, "type": 2, "query": {"0": "br0", "2": ["10.0.0.1"]}, "rsalt": "r"}`,
		`[ "\t\"\\\/\b\f\n\r", 1e308, -1e-308, 123456789012345678901234567890 ] `,
		`{"a":{"b":{"c":[[[]]]}}}`, `"\u20ac\ud83d\ude00"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || !json.Valid(data) || surrogateEscape.Match(data) || longExponent.Match(data) {
			return
		}
		// Text.JSON's white space: none before the text, and after it
		// only where a container's parser swallows it.
		trimmed := bytes.TrimRight(data, " \t\n\r")
		if bytes.ContainsAny(data[:1], " \t\n\r") || (len(trimmed) < len(data) && !bytes.HasSuffix(trimmed, []byte("]")) && !bytes.HasSuffix(trimmed, []byte("}"))) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json validated %q but cannot decode it: %v", data, err)
		}
		v, err := Parse(data, Options{})
		if err != nil {
			if depth(want) > MaxDepth-1 {
				return
			}
			t.Fatalf("Parse(%q): %v; encoding/json reads it", data, err)
		}
		got, dup := generic(&v)
		if dup {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json reads %#v", data, got, want)
		}
	})
}

// generic converts v to what encoding/json decodes with UseNumber, and
// reports whether an object had a duplicate key.
func generic(v *Value) (any, bool) {
	switch v.Kind {
	case Null:
		return nil, false
	case Bool:
		return v.Bool, false
	case Number:
		return json.Number(v.Str), false
	case String:
		return v.Str, false
	case Array:
		out := []any{}
		for i := range v.Arr {
			e, dup := generic(&v.Arr[i])
			if dup {
				return nil, true
			}
			out = append(out, e)
		}
		return out, false
	case Object:
		out := map[string]any{}
		for i := range v.Obj {
			m := &v.Obj[i]
			if _, ok := out[m.Key]; ok {
				return nil, true
			}
			e, dup := generic(&m.Val)
			if dup {
				return nil, true
			}
			out[m.Key] = e
		}
		return out, false
	}
	return v, false
}

func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
