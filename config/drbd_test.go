package config

import (
	"errors"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

// parseRichEdited parses rich.json after edit has changed it.
func parseRichEdited(t *testing.T, edit func(doc *tjson.Value)) *Snapshot {
	t.Helper()
	doc := richDoc(t)
	if edit != nil {
		edit(&doc)
	}
	s, err := Parse(tjson.Marshal(&doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// setDRBDPeer makes the second node of rich.json's DRBD disk of
// instance1 (node1 to node3) name the node uuid instead.
func setDRBDPeer(uuid string) func(doc *tjson.Value) {
	return func(doc *tjson.Value) {
		disks, _ := doc.Get("disks")
		d, _ := disks.Get("77ced3a5-6756-49ae-8d1f-274e27664c05")
		lid, _ := d.Get("logical_id")
		lid.Arr[1] = tjson.Value{Kind: tjson.String, Str: uuid}
	}
}

func TestNodeDRBD(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(doc *tjson.Value)
		node    string
		want    string // the answer, when there is no error
		wantErr string // the error's text
	}{
		{name: "primary of one device", node: "node1.example.com",
			want: `[["node1.example.com",0,"instance1.example.com","disk/0","primary","node3.example.com"],["node1.example.com",7,"instance4.example.com","disk/0","secondary","node4.example.com"]]`},
		{name: "secondary", node: "node3.example.com",
			want: `[["node3.example.com",0,"instance1.example.com","disk/0","secondary","node1.example.com"]]`},
		{name: "no devices", node: "node5.example.com", want: `[]`},
		{name: "peer names no node", edit: setDRBDPeer("missing-uuid"), node: "node1.example.com",
			wantErr: `OpPrereqError "Node name missing-uuid not found" ECodeNoEnt`},
		{name: "other nodes unaffected by a missing peer", edit: setDRBDPeer("missing-uuid"), node: "node4.example.com",
			want: `[["node4.example.com",5,"instance4.example.com","disk/0","primary","node1.example.com"]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseRichEdited(t, tt.edit)
			n, lerr := s.node(tt.node)
			if lerr != nil {
				t.Fatal(lerr)
			}
			answer, err := n.DRBD()
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("DRBD() = %s, nil; want error %s", answer, tt.wantErr)
				}
				if got := err.Error(); got != tt.wantErr {
					t.Fatalf("DRBD() error %q, want %q", got, tt.wantErr)
				}
				var le *LookupError
				if !errors.As(err, &le) || le.Kind != "Node" || le.Multiple {
					t.Fatalf("DRBD() error %#v, want a Node LookupError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DRBD() error %v", err)
			}
			if string(answer) != tt.want {
				t.Fatalf("DRBD() = %s\nwant        %s", answer, tt.want)
			}
		})
	}
}
