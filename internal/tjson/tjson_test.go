package tjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		opt     Options
		want    string // compact re-encoding
		wantErr error
	}{
		{name: "object", in: `{"a": 1, "b": [true, false, null]}`, want: `{"a":1,"b":[true,false,null]}`},
		{name: "trailing space after object", in: "{\"a\":1} \n", want: `{"a":1}`},
		{name: "trailing nbsp latin1", in: "{}\xa0", opt: Options{Latin1: true}, want: `{}`},
		{name: "trailing nbsp utf8", in: "{}\u00a0", want: `{}`},
		{name: "trailing em space utf8", in: "{}\u2003", want: `{}`},
		{name: "trailing vtab", in: "[]\v\f", want: `[]`},
		{name: "leading space", in: ` {}`, wantErr: ErrToken},
		{name: "trailing junk", in: `{}x`, wantErr: ErrTrailing},
		{name: "trailing space after scalar", in: `1 `, wantErr: ErrTrailing},
		{name: "scalar top level", in: `"x"`, want: `"x"`},
		{name: "scalar refused by decodeStrict", in: `"x"`, opt: Options{Container: true}, wantErr: ErrTopLevel},
		{name: "duplicates kept", in: `{"a":1,"a":2}`, want: `{"a":1,"a":2}`},
		{name: "leading zero", in: `[01]`, wantErr: ErrToken},
		{name: "dot without digits", in: `[1.]`, wantErr: ErrToken},
		{name: "exponent", in: `[1E+2,1e-2,-0.5e1]`, want: `[1E+2,1e-2,-0.5e1]`},
		{name: "plus sign", in: `[+1]`, wantErr: ErrToken},
		{name: "escapes", in: `["\"\\\/\b\f\n\r\t\u00e9\u0001"]`, want: `["\"\\/\b\f\n\r\t\u00e9\u0001"]`},
		{name: "surrogate pair stays two chars", in: `["\ud83d\ude00"]`, want: `["\ud83d\ude00"]`},
		{name: "raw utf8", in: `["é€😀"]`, want: `["\u00e9\u20ac\ud83d\ude00"]`},
		{name: "raw latin1", in: "[\"\xe9\"]", opt: Options{Latin1: true}, want: `["\u00e9"]`},
		{name: "invalid utf8", in: "[\"\xe9\"]", wantErr: ErrEncoding},
		{name: "raw control char", in: "[\"\x01\"]", wantErr: ErrString},
		{name: "bad escape", in: `["\x"]`, wantErr: ErrString},
		{name: "short unicode escape", in: `["\u12"]`, wantErr: ErrString},
		{name: "unterminated", in: `["abc`, wantErr: ErrString},
		{name: "truncated object", in: `{"a":1`, wantErr: ErrEOF},
		{name: "nul is not null", in: `[nul]`, wantErr: ErrToken},
		{name: "space inside", in: "{ \"a\" :\t[ 1 , 2 ] }", want: `{"a":[1,2]}`},
		{name: "empty containers", in: `[{},[], {} ]`, want: `[{},[],{}]`},
		{name: "unquoted key", in: `{a:1}`, wantErr: ErrString},
		{name: "trailing comma", in: `[1,]`, wantErr: ErrToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(tt.in), tt.opt)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := string(Marshal(&v)); got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDepth(t *testing.T) {
	deep := make([]byte, 0, 2*MaxDepth+2)
	for i := 0; i <= MaxDepth; i++ {
		deep = append(deep, '[')
	}
	for i := 0; i <= MaxDepth; i++ {
		deep = append(deep, ']')
	}
	if _, err := Parse(deep, Options{}); !errors.Is(err, ErrDepth) {
		t.Fatalf("error = %v, want ErrDepth", err)
	}
	var s Scanner
	s.Reset(deep, false)
	if err := s.Skip(); !errors.Is(err, ErrDepth) {
		t.Fatalf("Skip error = %v, want ErrDepth", err)
	}
}

func TestGetFirstWins(t *testing.T) {
	v, err := Parse([]byte(`{"a":1,"b":2,"a":3}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := v.Get("a")
	if !ok || got.Str != "1" {
		t.Fatalf("Get(a) = %v %v, want 1", got, ok)
	}
	if _, ok := v.Get("c"); ok {
		t.Fatal("Get(c) found a member")
	}
}

func TestAppendStringASCII(t *testing.T) {
	for _, s := range []string{"plain", "é", "€", "😀", "a\"b\\c", "\x00\x1f\x7f", "tab\there"} {
		out := AppendString(nil, s)
		for _, c := range out {
			if c >= 0x80 {
				t.Fatalf("AppendString(%q) = %q: not ASCII", s, out)
			}
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != s {
			t.Errorf("AppendString(%q) = %s, decodes to %q (%v)", s, out, back, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u00e9"],"b":{}}`, `[null,true,false]`, "{\"\xe9\":1} ", `"x"`, `-0.0E-0`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, latin1 bool) {
		v, err := Parse(data, Options{Latin1: latin1})
		var s Scanner
		s.Reset(data, latin1)
		skipErr := s.Skip()
		if err == nil {
			if skipErr != nil {
				t.Fatalf("Parse accepted %q but Skip failed: %v", data, skipErr)
			}
			// Our own output must parse back to the same output.
			out := Marshal(&v)
			v2, err := Parse(out, Options{})
			if err != nil {
				t.Fatalf("re-parse of %q: %v", out, err)
			}
			if out2 := Marshal(&v2); string(out2) != string(out) {
				t.Fatalf("round trip: %q != %q", out2, out)
			}
			for _, c := range out {
				if c >= 0x80 {
					t.Fatalf("output not ASCII: %q", out)
				}
			}
		}
	})
}

func BenchmarkParseSmall(b *testing.B) {
	data := []byte(`{"protocol": 1, "type": 3, "query": {"3": [0, 1, 2]}, "rsalt": "9aa6ce92-8336-11de-af38-001d093e835f"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendValueLimit(t *testing.T) {
	var v Value
	v.Kind = Array
	for range 1000 {
		v.Arr = append(v.Arr, Value{Kind: String, Str: "0123456789"})
	}
	full := AppendValue(nil, &v)
	if got := AppendValueLimit(nil, &v, len(full)); string(got) != string(full) {
		t.Fatalf("a limit the value fits in changed the output")
	}
	cut := AppendValueLimit(nil, &v, 100)
	if len(cut) <= 100 || len(cut) > 100+len(`,"0123456789"`) {
		t.Fatalf("AppendValueLimit(limit 100) gave %d bytes, want just over 100", len(cut))
	}
	nested := Value{Kind: Object, Obj: []Member{{Key: "a", Val: v}, {Key: "b", Val: v}}}
	if cut := AppendValueLimit([]byte("prefix"), &nested, 50); len(cut) <= 50 || len(cut) > 80 {
		t.Fatalf("nested: %d bytes", len(cut))
	}
}

func TestMembers(t *testing.T) {
	tests := []struct {
		in      string
		want    string // names seen, joined by ","
		ok      bool
		atEnd   bool
		stopsAt string // member returns false on this name
	}{
		{in: `{}`, want: "", ok: true, atEnd: true},
		{in: `{"a": 1, "b" : [2], "a":"x"} `, want: "a,b,a", ok: true, atEnd: true},
		{in: ` {}`, ok: false},
		{in: `[]`, ok: false},
		{in: `{"a": 1,}`, want: "a", ok: false},
		{in: `{"a": 1, "b": 2}`, want: "a,b", ok: false, stopsAt: "b"},
		{in: `{"a": 1} x`, want: "a", ok: true, atEnd: false},
	}
	for _, tt := range tests {
		var s Scanner
		s.Reset([]byte(tt.in), false)
		var names []string
		var key []byte
		ok := s.Members(&key, func(k []byte) bool {
			names = append(names, string(k))
			if string(k) == tt.stopsAt {
				return false
			}
			return s.Skip() == nil
		})
		got := strings.Join(names, ",")
		if ok != tt.ok || got != tt.want || (ok && s.AtEnd() != tt.atEnd) {
			t.Errorf("Members(%q) = %v, names %q, at end %v; want %v, %q, %v", tt.in, ok, got, s.AtEnd(), tt.ok, tt.want, tt.atEnd)
		}
	}
}
