package config

import (
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

func TestAppendQuery(t *testing.T) {
	doc := richDoc(t)
	s, err := Parse(tjson.Marshal(&doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string // "" = not found
	}{
		{"/version", "3000000"},
		{"/cluster/tcpudp_port_pool/0", "32104"},
		{"/cluster/tcpudp_port_pool/00", "32104"},
		{"/cluster/tcpudp_port_pool/0abc", "32104"},
		{"/cluster/tcpudp_port_pool/+0", ""},
		{"/cluster/tcpudp_port_pool/ 0", ""},
		{"/cluster/tcpudp_port_pool/-", ""},
		{"/cluster/tcpudp_port_pool/99999", ""},
		{"/cluster/tcpudp_port_pool/18446744073709551616", "32104"},
		{"/version//", "3000000"},
		{"/version/", ""},
		{"/version~", "3000000"},
		{"/version~x", "3000000"},
		{"/", ""},
		{"//", ""},
		{"//a", ""},
		{"", ""},
		{"version", ""},
		{"~0", ""},
		{"/nosuch", ""},
		{"/ver~1sion", ""},
		{"/cluster/nicparams/default/link", `"br974"`},
	}
	for _, tt := range tests {
		out, ok := s.AppendQuery(nil, []byte(tt.path))
		if tt.want == "" {
			if ok {
				t.Errorf("AppendQuery(%q) = %s, want not found", tt.path, out)
			}
			continue
		}
		if !ok || string(out) != tt.want {
			t.Errorf("AppendQuery(%q) = %s, %v; want %s", tt.path, out, ok, tt.want)
		}
	}
	// Keys with '/' and '~' are reachable through ~1 and ~0.
	v, err := tjson.Parse([]byte(`{"a/b":{"c~d":[1,2]},"":{"":5}}`), tjson.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := &Snapshot{doc: v}
	for path, want := range map[string]string{"/a~1b/c~0d/1": "2", "/a~1b/c~0d": "[1,2]", "/": `{"":5}`, "/a~1b/c~0d/2": ""} {
		out, ok := raw.AppendQuery(nil, []byte(path))
		if (want == "") == ok || (ok && string(out) != want) {
			t.Errorf("AppendQuery(%q) = %s, %v; want %q", path, out, ok, want)
		}
	}
}
