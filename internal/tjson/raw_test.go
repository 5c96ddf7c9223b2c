package tjson

import (
	"os"
	"strings"
	"testing"
)

func TestMatchBrackets(t *testing.T) {
	for _, tt := range []struct {
		in  string
		end int // -1: no match
	}{
		{`{}`, 2},
		{`[]x`, 2},
		{`{"a":[1,{"b":"]}"}]} tail`, 20},
		{`["\"]"]`, 7},
		{`["\\"]`, 6},
		{`["\\\"]"]`, 9},
		{`{"k\\":"}"}`, 11},
		{`{"a":1`, -1},
		{`["unterminated]`, -1},
		{`["\`, -1},
		{`[[[]]`, -1},
		{`{"long string without stops at all, more than eight bytes":[]}`, 62},
	} {
		end, ok := matchBrackets([]byte(tt.in), 0)
		if !ok {
			end = -1
		}
		if end != tt.end {
			t.Errorf("matchBrackets(%q) = %d, want %d", tt.in, end, tt.end)
		}
	}
}

// TestRawKnown checks that RawKnown sees the same texts the checking
// reader makes Raw values of, and that a text taken as known yields the
// same tree.
func TestRawKnown(t *testing.T) {
	data, err := os.ReadFile("../../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Container: true, RawDepth: 2}
	want, err := Parse(data, opt)
	if err != nil {
		t.Fatal(err)
	}
	var wantRaw []string
	collectRaw(&want, &wantRaw)
	if len(wantRaw) < 20 {
		t.Fatalf("only %d raw values", len(wantRaw))
	}
	for _, known := range []bool{false, true} {
		var seen []string
		opt.RawKnown = func(text string) bool {
			seen = append(seen, text)
			return known
		}
		got, err := Parse(data, opt)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(seen, "\x00") != strings.Join(wantRaw, "\x00") {
			t.Fatalf("known %v: RawKnown saw %d texts, want the %d raw values", known, len(seen), len(wantRaw))
		}
		if string(Marshal(&got)) != string(Marshal(&want)) {
			t.Errorf("known %v: tree differs", known)
		}
		var gotRaw []string
		collectRaw(&got, &gotRaw)
		if strings.Join(gotRaw, "\x00") != strings.Join(wantRaw, "\x00") {
			t.Errorf("known %v: raw texts differ", known)
		}
	}
}

func collectRaw(v *Value, out *[]string) {
	switch v.Kind {
	case Raw:
		if int(v.Aux) != len(*out) {
			panic("raw values out of order")
		}
		*out = append(*out, v.Str)
	case Object:
		for i := range v.Obj {
			collectRaw(&v.Obj[i].Val, out)
		}
	case Array:
		for i := range v.Arr {
			collectRaw(&v.Arr[i], out)
		}
	}
}

// FuzzMatchBrackets checks matchBrackets against the checking reader: on
// any text that reads as an array or object, both end at the same byte.
func FuzzMatchBrackets(f *testing.F) {
	for _, s := range []string{`{}`, `[1,"]",{"a\"":[]}]`, `{"k\\":"}"}`, `["\u005d"]`, "[\"\xc3\xa9]\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Scanner
		s.Reset(data, false)
		if c := s.Peek(); c != '{' && c != '[' {
			return
		}
		if err := s.skip(1); err != nil {
			return
		}
		want := s.Pos()
		// The checker also reads the white space after the container.
		for want > 0 && data[want-1] != '}' && data[want-1] != ']' {
			want--
		}
		end, ok := matchBrackets(data, 0)
		if !ok || end != want {
			t.Fatalf("matchBrackets(%q) = %d, %v; the checker ends at %d", data, end, ok, want)
		}
	})
}

// FuzzEncodedLookup feeds EncodedMember and EncodedElem arbitrary bytes:
// they must not panic, and on what AppendValue writes they must find
// what the tree has.
func FuzzEncodedLookup(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[2,{"c":"d"}]}`, `{"a"`, `{"a":`, `["x",`, `{"\u00e9":{}}`, `[[],{}]`} {
		f.Add([]byte(s), []byte("a"), int64(1))
	}
	f.Fuzz(func(t *testing.T, enc, key []byte, n int64) {
		EncodedMember(enc, key)
		EncodedElem(enc, n)
		v, err := Parse(enc, Options{})
		if err != nil || (v.Kind != Object && v.Kind != Array) {
			return
		}
		canon := Marshal(&v)
		if strings.Contains(string(canon), `\ud8`) || strings.Contains(string(canon), `\ud9`) ||
			strings.Contains(string(canon), `\uda`) || strings.Contains(string(canon), `\udb`) {
			// A character above U+FFFF and two lone surrogates encode
			// alike: the encoding cannot tell their names apart (config
			// keeps such leaves as trees).
			return
		}
		switch v.Kind {
		case Object:
			want, wantOK := v.Get(string(key))
			got, ok := EncodedMember(canon, key)
			if ok != wantOK || (ok && string(got) != string(Marshal(want))) {
				t.Fatalf("EncodedMember(%s, %q) = %s, %v; want %v", canon, key, got, ok, wantOK)
			}
		case Array:
			got, ok := EncodedElem(canon, n)
			wantOK := n >= 0 && n < int64(len(v.Arr))
			if ok != wantOK || (ok && string(got) != string(Marshal(&v.Arr[n]))) {
				t.Fatalf("EncodedElem(%s, %d) = %s, %v", canon, n, got, ok)
			}
		}
	})
}
