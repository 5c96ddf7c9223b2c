package config

import (
	"os"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

func richDoc(t testing.TB) tjson.Value {
	t.Helper()
	data, err := os.ReadFile("testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := tjson.Parse(data, tjson.Options{Container: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// renameNodes returns rich.json with its node names replaced by names.
func parseWithNodeNames(t *testing.T, names map[string]string) *Snapshot {
	t.Helper()
	doc := richDoc(t)
	nodes, _ := doc.Get("nodes")
	for i := range nodes.Obj {
		n := &nodes.Obj[i].Val
		name, _ := n.Get("name")
		if nn, ok := names[name.Str]; ok {
			name.Str = nn
		}
	}
	s, err := Parse(tjson.Marshal(&doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNodeLookup(t *testing.T) {
	s := parseWithNodeNames(t, map[string]string{
		"node2.example.com": "web1.example.com",
		"node3.example.com": "web1.example.org",
		"node4.example.com": "web",
		"node5.example.com": ".hidden",
	})
	tests := []struct {
		q        string
		wantName string
		wantErr  string
	}{
		{q: "node1.example.com", wantName: "node1.example.com"},
		{q: "node1", wantName: "node1.example.com"},
		{q: "node1.example", wantName: "node1.example.com"},
		{q: "node", wantErr: "Node name node not found"},
		{q: "node1.example.com.", wantErr: "Node name node1.example.com. not found"},
		{q: "NODE1", wantErr: "Node name NODE1 not found"},
		{q: "web1", wantErr: "Node name web1 has multiple matches"},
		{q: "web1.example.org", wantName: "web1.example.org"},
		{q: "web", wantName: "web"}, // an exact name wins over partial matches
		{q: "", wantName: ".hidden"},
		{q: "9a12d554-75c0-4cb1-8064-103365145db0", wantName: "node1.example.com"},
	}
	for _, tt := range tests {
		n, lerr := s.Node([]byte(tt.q))
		switch {
		case tt.wantErr != "":
			if lerr == nil || lerr.Detail() != tt.wantErr {
				t.Errorf("Node(%q) = %v, %v; want error %q", tt.q, n, lerr, tt.wantErr)
			}
		case lerr != nil || n.Name != tt.wantName:
			t.Errorf("Node(%q) = %v, %v; want %q", tt.q, n, lerr, tt.wantName)
		}
	}
}

func TestLookupErrorTexts(t *testing.T) {
	e := &LookupError{Kind: "Node", Name: "x"}
	if got, want := e.Error(), `OpPrereqError "Node name x not found" ECodeNoEnt`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := e.Formatted(); !strings.HasPrefix(got, "Failure: prerequisites not met for this operation:\nerror type: ECodeNoEnt, error details:\nNode name x not found") {
		t.Errorf("Formatted() = %q", got)
	}
}

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

func TestUnavailableText(t *testing.T) {
	_, err := Load("/nonexistent/config.data")
	if got := UnavailableText("/nonexistent/config.data", err); got != "Failure during configuration update: /nonexistent/config.data: getFileStatus: does not exist (No such file or directory)" {
		t.Errorf("missing file: %q", got)
	}
	dir := t.TempDir()
	path := dir + "/config.data"
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if got := UnavailableText(path, err); !strings.HasPrefix(got, "Cannot load configuration from "+path+": parsing configuration: ") {
		t.Errorf("bad file: %q", got)
	}
	if got := UnavailableText("", ErrNotLoaded); got != "Configuration not yet loaded" {
		t.Errorf("not loaded: %q", got)
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/rich.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		// Every precomputed answer must be valid JSON.
		for _, b := range [][]byte{s.VersionJSON(), s.NodePipListJSON(), s.McPipListJSON(), s.DataCollectorsJSON()} {
			if _, err := tjson.Parse(b, tjson.Options{}); err != nil {
				t.Fatalf("invalid answer %s: %v", b, err)
			}
		}
		for _, n := range s.Nodes() {
			if a, e := n.DRBD(); e == nil {
				if _, err := tjson.Parse(a, tjson.Options{}); err != nil {
					t.Fatalf("invalid drbd answer %s: %v", a, err)
				}
			}
		}
	})
}

func BenchmarkParseRich(b *testing.B) {
	data, err := os.ReadFile("testdata/rich.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
