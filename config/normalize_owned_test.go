package config

import (
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

// TestNormalizeOwnedMatches checks that normalizing in place (what Parse
// does, writing the result over the parsed tree) gives the same document,
// or the same error, as normalizeDocument, which leaves its input alone,
// for every reference config and every case of testdata/cases.json.
func TestNormalizeOwnedMatches(t *testing.T) {
	type doc struct {
		name string
		v    tjson.Value
	}
	var docs []doc
	for _, name := range baseConfigs {
		docs = append(docs, doc{name, readTestConfig(t, name)})
	}
	for _, c := range loadCases(t) {
		docs = append(docs, doc{c.Name, caseDocument(t, c)})
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			// A fresh tree, as Parse has it: edits may share values.
			owned, err := tjson.Parse(tjson.Marshal(&d.v), tjson.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := normalizeDocument(&d.v)
			got, gotErr := normalizeOwned(&owned)
			switch {
			case (wantErr == nil) != (gotErr == nil):
				t.Fatalf("normalizeOwned error %v, normalizeDocument error %v", gotErr, wantErr)
			case wantErr != nil:
				if gotErr.Error() != wantErr.Error() {
					t.Fatalf("normalizeOwned error %q, normalizeDocument error %q", gotErr, wantErr)
				}
			default:
				if g, w := tjson.Marshal(&got), tjson.Marshal(&want); string(g) != string(w) {
					t.Fatalf("documents differ:\nin place: %.300s\ncopying:  %.300s", g, w)
				}
			}
		})
	}
}

// TestWalkInPlaceContainers compares the in-place and the copying walker
// on containers that need sorting, dropping duplicates and rewriting keys,
// alone and together.
func TestWalkInPlaceContainers(t *testing.T) {
	tests := []struct {
		name string
		typ  *schemaType
		in   string
		want string
	}{
		{"sorted map", container(stringT), `{"a":"1","b":"2"}`, `{"a":"1","b":"2"}`},
		{"unsorted map", container(stringT), `{"b":"1","a":"2"}`, `{"a":"2","b":"1"}`},
		{"duplicate keys", container(stringT), `{"b":"1","a":"2","b":"3"}`, `{"a":"2","b":"3"}`},
		{"surrogate key", container(stringT), `{"a\ud800":"1"}`, `{"a\ufffd":"1"}`},
		{"duplicates and surrogates", container(stringT), `{"b":"1","\ud800":"2","a":"3","b":"4"}`, `{"a":"3","b":"4","\ufffd":"2"}`},
		{"set", setOf(stringT), `["b","a","b"]`, `["a","b"]`},
		{"free-form numbers", container(anyT), `{"x":[1.50,{"y":2e0}]}`, `{"x":[1.5,{"y":2}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, inPlace := range []bool{false, true} {
				v, err := tjson.Parse([]byte(tt.in), tjson.Options{})
				if err != nil {
					t.Fatal(err)
				}
				w := walker{oracleCopy: !inPlace}
				w.path = w.pathBuf[:0]
				out, err := w.walk(tt.typ, &v)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(tjson.Marshal(&out)); got != tt.want {
					t.Errorf("inPlace %v: got %s, want %s", inPlace, got, tt.want)
				}
			}
		})
	}
}

// FuzzNormalizeOwned checks that normalizing in place and by copying
// agree on any document.
func FuzzNormalizeOwned(f *testing.F) {
	for _, name := range baseConfigs {
		v := readTestConfig(f, name)
		f.Add(tjson.Marshal(&v))
	}
	for _, c := range loadCases(f) {
		doc := caseDocument(f, c)
		f.Add(tjson.Marshal(&doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := tjson.Parse(data, tjson.Options{})
		if err != nil {
			return
		}
		b, _ := tjson.Parse(data, tjson.Options{})
		want, wantErr := normalizeDocument(&a)
		got, gotErr := normalizeOwned(&b)
		switch {
		case (wantErr == nil) != (gotErr == nil):
			t.Fatalf("normalizeOwned error %v, normalizeDocument error %v", gotErr, wantErr)
		case wantErr != nil:
			if gotErr.Error() != wantErr.Error() {
				t.Fatalf("normalizeOwned error %q, normalizeDocument error %q", gotErr, wantErr)
			}
		default:
			if g, w := tjson.Marshal(&got), tjson.Marshal(&want); string(g) != string(w) {
				t.Fatalf("documents differ:\nin place: %s\ncopying:  %s", g, w)
			}
		}
	})
}
