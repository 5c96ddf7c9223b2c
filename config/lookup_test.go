package config

import (
	"errors"
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
			le, ok := errors.AsType[*LookupError](lerr)
			if !ok || le.Detail() != tt.wantErr {
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

// TestErrorsAreInterfaces holds the exported lookups and answers that can
// fail to returning error, not a concrete pointer: kept in an error
// variable, a success must compare equal to nil (a nil *LookupError in an
// error would not), and a failure must still give its concrete type to
// errors.As, with Ganeti's text.
func TestErrorsAreInterfaces(t *testing.T) {
	rich := parseRichEdited(t, nil)
	noMaster := parseRichEdited(t, setMember(strValue("gone"), "cluster", "master_node"))
	badPeer := parseRichEdited(t, setDRBDPeer("missing-uuid"))
	badDisk := parseRichEdited(t, setMember(tjson.Value{Kind: tjson.Array, Arr: []tjson.Value{strValue("no-such-disk")}}, "instances", inst3UUID, "disks"))
	node := func(s *Snapshot, name string) *Node {
		n, err := s.Node([]byte(name))
		if err != nil {
			t.Fatalf("Node(%q): %v", name, err)
		}
		return n
	}
	inst := func(s *Snapshot, key string) *Instance {
		i, err := s.Instance([]byte(key))
		if err != nil {
			t.Fatalf("Instance(%q): %v", key, err)
		}
		return i
	}
	tests := []struct {
		name     string
		call     func() error
		wantText string // "" for success
		// as reports whether errors.As finds the concrete type expected.
		as func(error) bool
	}{
		{name: "Node found", call: func() error { _, err := rich.Node([]byte("node1.example.com")); return err }},
		{name: "Node missing", call: func() error { _, err := rich.Node([]byte("nope")); return err },
			wantText: `OpPrereqError "Node name nope not found" ECodeNoEnt`, as: isLookupError},
		{name: "Instance found", call: func() error { _, err := rich.Instance([]byte("instance1.example.com")); return err }},
		{name: "Instance missing", call: func() error { _, err := rich.Instance([]byte("nope")); return err },
			wantText: `OpPrereqError "Instance name nope not found" ECodeNoEnt`, as: isLookupError},
		{name: "Master found", call: func() error { _, err := rich.Master(); return err }},
		{name: "Master names no node", call: func() error { _, err := noMaster.Master(); return err },
			wantText: `OpPrereqError "Node name gone not found" ECodeNoEnt`, as: isLookupError},
		{name: "DRBD answered", call: func() error { _, err := node(rich, "node1.example.com").DRBD(); return err }},
		{name: "DRBD peer names no node", call: func() error { _, err := node(badPeer, "node1.example.com").DRBD(); return err },
			wantText: `OpPrereqError "Node name missing-uuid not found" ECodeNoEnt`, as: isLookupError},
		{name: "AppendDisks answered", call: func() error { _, err := inst(rich, inst1UUID).AppendDisks(nil); return err }},
		{name: "AppendDisks disk names nothing", call: func() error { _, err := inst(badDisk, inst3UUID).AppendDisks(nil); return err },
			wantText: `Could not retrieve disks: OpPrereqError "Disk uuid no-such-disk not found" ECodeNoEnt`,
			as:       func(err error) bool { _, ok := errors.AsType[*DisksError](err); return ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = tt.call()
			if tt.wantText == "" {
				if err != nil {
					t.Fatalf("error %#v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantText)
			}
			if got := err.Error(); got != tt.wantText {
				t.Errorf("error %q, want %q", got, tt.wantText)
			}
			if !tt.as(err) {
				t.Errorf("errors.As does not find the concrete type in %#v", err)
			}
		})
	}
}

func isLookupError(err error) bool {
	_, ok := errors.AsType[*LookupError](err)
	return ok
}
