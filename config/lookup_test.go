package config

import (
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

// parseWithNodeNames parses rich.json with its node names replaced by names.
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
