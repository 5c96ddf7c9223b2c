package config

import (
	"bytes"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
)

// FuzzAppendQuery evaluates CONFIG_QUERY pointers over rich.json. A value
// found must be valid JSON (checked by encoding/json, a second reader),
// and the evaluator must agree with itself across the snapshot's two
// representations: for an object or array found at p, the member or
// element k that encoding/json reads from the result is what p/k
// evaluates to, whether p ends in the skeleton or inside a leaf's
// pre-encoded text.
func FuzzAppendQuery(f *testing.F) {
	data, err := os.ReadFile("testdata/rich.json")
	if err != nil {
		f.Fatal(err)
	}
	s, err := Parse(data)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{
		"/version", "/cluster", "/cluster/tcpudp_port_pool/0abc",
		"/cluster/tcpudp_port_pool/18446744073709551616", "/version//",
		"/version~x", "//a", "/ver~1sion", "/cluster/nicparams/default/link",
		"/instances", "/nodes", "/networks", "/nodegroups", "/disks",
	} {
		f.Add([]byte(p), uint8(0))
	}
	f.Fuzz(func(t *testing.T, path []byte, pick uint8) {
		out, ok := s.AppendQuery(nil, path)
		if !ok {
			return
		}
		if len(out) > MaxAnswerSize+64*1024 {
			t.Fatalf("%q: %d bytes, the limit is %d", path, len(out), MaxAnswerSize)
		}
		if len(out) > MaxAnswerSize {
			return // incomplete by contract, never sent
		}
		if !json.Valid(out) {
			t.Fatalf("%q: invalid JSON %q", path, out)
		}
		// One step further, by encoding/json's reading of the result.
		base := strings.TrimRight(string(path), "/")
		if base != string(path) || strings.ContainsAny(base, "~") || strings.Contains(base, "//") {
			return // trailing, empty and escaped tokens end the list early (TestAppendQuery)
		}
		var sub json.RawMessage
		var tok string
		switch out[0] {
		case '{':
			var m map[string]json.RawMessage
			if err := json.Unmarshal(out, &m); err != nil || len(m) == 0 {
				return
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			k := keys[int(pick)%len(keys)]
			if k == "" || strings.ContainsAny(k, "~/") {
				return
			}
			tok, sub = k, m[k]
		case '[':
			var a []json.RawMessage
			if err := json.Unmarshal(out, &a); err != nil || len(a) == 0 {
				return
			}
			i := int(pick) % len(a)
			tok, sub = itoa(i), a[i]
		default:
			return
		}
		got, ok := s.AppendQuery(nil, []byte(base+"/"+tok))
		if !ok {
			t.Fatalf("%q holds %q but %q finds nothing", path, tok, base+"/"+tok)
		}
		var a, b bytes.Buffer
		if json.Compact(&a, got) != nil || json.Compact(&b, sub) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("%q = %s, but %q in %q is %s", base+"/"+tok, got, tok, path, sub)
		}
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
