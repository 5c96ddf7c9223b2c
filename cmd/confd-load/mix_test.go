package main

import (
	"strings"
	"testing"

	"github.com/goconfd/goconfd/protocol"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		types   []protocol.Type
		queries []string // "" for none
		weights []int
		err     string
	}{
		{"one entry", `[{"type": "ping"}]`, []protocol.Type{protocol.TypePing}, []string{""}, []int{1}, ""},
		{"names, numbers, queries", `[{"type": "cluster_master", "weight": 3}, {"type": 3, "query": {"3": [0, 1]}, "weight": 2}, {"type": "node-role", "query": "node1"}]`,
			[]protocol.Type{3, 3, 1}, []string{"", `{"3":[0,1]}`, `"node1"`}, []int{3, 2, 1}, ""},
		{"zero weight kept", `[{"type": "ping", "weight": 0}, {"type": 1, "query": "n"}]`, []protocol.Type{0, 1}, []string{"", `"n"`}, []int{0, 1}, ""},
		{"not an array", `{"type": "ping"}`, nil, nil, nil, "cannot unmarshal"},
		{"empty", `[]`, nil, nil, nil, "no entries"},
		{"no type", `[{"query": "x"}]`, nil, nil, nil, "no type"},
		{"bad type", `[{"type": "nosuch"}]`, nil, nil, nil, "unknown request type"},
		{"type out of range", `[{"type": 12}]`, nil, nil, nil, "unknown request type"},
		{"unknown member", `[{"type": "ping", "wieght": 2}]`, nil, nil, nil, "unknown field"},
		{"negative weight", `[{"type": "ping", "weight": -1}]`, nil, nil, nil, "negative"},
		{"all zero", `[{"type": "ping", "weight": 0}]`, nil, nil, nil, "every weight is 0"},
		{"too heavy", `[{"type": "ping", "weight": 100001}]`, nil, nil, nil, "more than"},
		{"too long", `[{"type": "node-role", "query": "` + strings.Repeat("x", 4000) + `"}]`, nil, nil, nil, "over the 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMix([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.entries) != len(tc.types) {
				t.Fatalf("%d entries, want %d", len(m.entries), len(tc.types))
			}
			for i, e := range m.entries {
				if e.typ != tc.types[i] || string(e.query) != tc.queries[i] || e.weight != tc.weights[i] {
					t.Errorf("entry %d = %v %q ×%d, want %v %q ×%d", i, e.typ, e.query, e.weight, tc.types[i], tc.queries[i], tc.weights[i])
				}
			}
		})
	}
}

func TestSingleMix(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		typ   string
		query *string
		want  string
	}{
		{"ping", nil, ""},
		{"3", str(`{"3": [0]}`), `{"3": [0]}`},
		{"node_role", str("node1.example.com"), `"node1.example.com"`},
		{"node-role", str(`"quoted"`), `"quoted"`},
	} {
		m, err := singleMix(tc.typ, tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if got := string(m.entries[0].query); got != tc.want || len(m.order) != 1 {
			t.Errorf("%s %v: query %q (order %v), want %q", tc.typ, tc.query, got, m.order, tc.want)
		}
	}
}

// TestMixOrder checks that every cycle has the mix's proportions and
// spreads heavy entries out.
func TestMixOrder(t *testing.T) {
	for _, tc := range []struct {
		weights []int
		want    string // the cycle, entries as letters
	}{
		{[]int{1}, "a"},
		{[]int{1, 1}, "ab"},
		{[]int{3, 1}, "aaba"},
		{[]int{2, 0, 1}, "aca"},
		{[]int{5, 1, 1}, "aabacaa"},
	} {
		var entries []entry
		for i, w := range tc.weights {
			entries = append(entries, entry{typ: protocol.Type(i), weight: w})
		}
		m, err := newMix(entries)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for i := range uint64(len(m.order)) {
			e := m.pick(0, i)
			got = append(got, byte('a'+int(e.typ)))
		}
		if string(got) != tc.want {
			t.Errorf("weights %v: cycle %s, want %s", tc.weights, got, tc.want)
		}
		if e := m.pick(uint64(len(m.order)), 0); e != m.pick(0, 0) {
			t.Errorf("weights %v: the cycle does not repeat", tc.weights)
		}
	}
}
