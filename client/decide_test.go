package client

import (
	"testing"

	"github.com/goconfd/goconfd/protocol"
)

func TestNeededReplies(t *testing.T) {
	// lib/confd/client.py _NeededReplies, and its unit test
	// (test/py/ganeti.confd.client_unittest.py).
	want := map[int]int{0: 0, 1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 4, 8: 5, 9: 5, 10: 6, 20: 11}
	for n, w := range want {
		if got := NeededReplies(n); got != w {
			t.Errorf("NeededReplies(%d) = %d, want %d", n, got, w)
		}
	}
}

func TestCoverageRule(t *testing.T) {
	tests := []struct {
		opt, peers int
		want       int
		wantErr    bool
	}{
		{0, 1, 1, false},
		{0, 6, 6, false},
		{0, 9, 6, false}, // CONFD_DEFAULT_REQ_COVERAGE
		{AllPeers, 9, 9, false},
		{3, 9, 3, false},
		{10, 9, 0, true},
		{-2, 9, 0, true},
	}
	for _, tc := range tests {
		got, err := coverage(tc.opt, tc.peers)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("coverage(%d, %d) = %d, %v; want %d, err %v", tc.opt, tc.peers, got, err, tc.want, tc.wantErr)
		}
	}
	for _, tc := range []struct{ opt, n, want int }{{0, 6, 4}, {AllPeers, 6, 6}, {2, 6, 2}, {9, 6, 6}} {
		if got := minReplies(tc.opt, tc.n); got != tc.want {
			t.Errorf("minReplies(%d, %d) = %d, want %d", tc.opt, tc.n, got, tc.want)
		}
	}
}

// pyFilter is Ganeti 3.0's ConfdFilterCallback (lib/confd/client.py)
// applied to replies in arrival order: the reply it leaves as the
// remembered answer, and its consistency verdict. The tests compare
// decide with it.
func pyFilter(votes []vote) (chosen int, consistent bool) {
	chosen, consistent = -1, true
	for i, v := range votes {
		switch {
		case chosen < 0:
			chosen = i
		case v.Serial > votes[chosen].Serial:
			chosen = i
		default:
			if v.Serial == votes[chosen].Serial && !equalValues(canonical(v.Answer), canonical(votes[chosen].Answer)) {
				consistent = false
			}
		}
	}
	return chosen, consistent
}

func TestDecide(t *testing.T) {
	ok := func(serial int64, answer string) vote {
		return vote{Serial: serial, Status: protocol.StatusOK, Answer: []byte(answer)}
	}
	fail := func(serial int64, answer string) vote {
		return vote{Serial: serial, Status: protocol.StatusError, Answer: []byte(answer)}
	}
	tests := []struct {
		name           string
		votes          []vote // in arrival order
		wantBest       int
		wantConsistent bool
		// pythonDiffers marks the documented differences from Ganeti's
		// Python filter.
		pythonDiffers bool
	}{
		{"none", nil, -1, true, false},
		{"one", []vote{ok(3, `"a"`)}, 0, true, false},
		{"all agree", []vote{ok(3, `"a"`), ok(3, `"a"`), ok(3, `"a"`)}, 0, true, false},
		{"newest serial wins", []vote{ok(3, `"a"`), ok(5, `"b"`), ok(4, `"c"`)}, 1, true, false},
		{"newest serial wins when last", []vote{ok(3, `"a"`), ok(4, `"b"`), ok(5, `"c"`)}, 2, true, false},
		{"tie keeps the first", []vote{ok(5, `"a"`), ok(5, `"a"`)}, 0, true, false},
		{"same serial different answer", []vote{ok(5, `"a"`), ok(5, `"b"`)}, 0, false, false},
		{"disagreement at the newest serial after a stale reply", []vote{ok(4, `"x"`), ok(5, `"a"`), ok(5, `"b"`)}, 1, false, false},
		{"stale disagreement seen before the newest", []vote{ok(4, `"x"`), ok(4, `"y"`), ok(5, `"a"`)}, 2, false, false},
		// Python compares a reply only with the newest seen so far, so
		// here it misses the stale pair that disagrees.
		{"stale disagreement seen after the newest", []vote{ok(5, `"a"`), ok(4, `"x"`), ok(4, `"y"`)}, 0, false, true},
		{"newer serial same answer", []vote{ok(4, `"a"`), ok(5, `"a"`)}, 1, true, false},
		{"values not bytes", []vote{ok(5, `{"a":1,"b":[1.0,"x"]}`), ok(5, `{"b":[1,"x"],"a":1e0}`)}, 0, true, false},
		{"big ints exactly", []vote{ok(5, `9007199254740993`), ok(5, `9007199254740992`)}, 0, false, false},
		{"int and float", []vote{ok(5, `9007199254740993`), ok(5, `9007199254740992.0`)}, 0, false, false},
		{"duplicate members: last wins", []vote{ok(5, `{"a":1,"a":2}`), ok(5, `{"a":2}`)}, 0, true, false},
		// Ganeti 3.0's errors carry serial 0; ping's answers too.
		{"ok beats an error at serial 0", []vote{fail(0, `"not loaded"`), ok(0, `3000000`)}, 1, false, true},
		{"error after ok", []vote{ok(0, `3000000`), fail(0, `"not loaded"`)}, 0, false, false},
		{"ok with a serial beats errors", []vote{fail(0, `0`), ok(7, `"a"`), fail(0, `0`)}, 1, true, false},
		{"errors agree", []vote{fail(0, `0`), fail(0, `0`)}, 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			best, consistent := decide(tc.votes)
			if best != tc.wantBest || consistent != tc.wantConsistent {
				t.Errorf("decide = %d, %v; want %d, %v", best, consistent, tc.wantBest, tc.wantConsistent)
			}
			pyBest, pyConsistent := pyFilter(tc.votes)
			// Python keeps the chosen answer; compare answers, not
			// indexes, since equal answers are interchangeable.
			same := (pyBest < 0) == (best < 0) && consistent == pyConsistent
			if same && best >= 0 {
				same = string(tc.votes[best].Answer) == string(tc.votes[pyBest].Answer) && tc.votes[best].Serial == tc.votes[pyBest].Serial
			}
			if same == tc.pythonDiffers {
				t.Errorf("Ganeti's filter gives %d, %v: same as ours = %v, want %v", pyBest, pyConsistent, same, !tc.pythonDiffers)
			}
		})
	}
}

func TestEqualValues(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`1`, `1.0`, true},
		{`1`, `1e0`, true},
		{`100`, `1e2`, true},
		{`0.1`, `1e-1`, true},
		{`-0`, `0`, true},
		{`1`, `2`, false},
		{`1`, `"1"`, false},
		{`true`, `1`, false},
		{`null`, `null`, true},
		{`null`, `false`, false},
		{`[]`, `{}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`{"a":[1,{"b":null}]}`, `{ "a" : [ 1 , { "b" : null } ] }`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`"\u00e9"`, `"é"`, true},
		{`1e400`, `1e401`, true}, // both are inf for Python
		{`123456789012345678901234567890`, `123456789012345678901234567890`, true},
		{`123456789012345678901234567890`, `123456789012345678901234567891`, false},
		{`not json`, `not json`, true},
		{`not json`, `"not json"`, false},
	}
	for _, tc := range tests {
		if got := equalValues(canonical([]byte(tc.a)), canonical([]byte(tc.b))); got != tc.want {
			t.Errorf("equal(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := equalValues(canonical([]byte(tc.b)), canonical([]byte(tc.a))); got != tc.want {
			t.Errorf("equal(%s, %s) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

// FuzzAnswers feeds arbitrary answers to the comparison and the typed
// decoders: nothing panics, every answer equals itself, and equality is
// symmetric.
func FuzzAnswers(f *testing.F) {
	for _, s := range []string{`"a"`, `[["node1",0,"inst","disk/0","primary","node2"]]`, `[[],[]]`, `{"a":1,"a":2}`, `1e400`, `[0,"192.0.2.1",5]`, `{"lv":{"active":true,"interval":5e6}}`} {
		f.Add([]byte(s), []byte(`1`))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ca, cb := canonical(a), canonical(b)
		if !equalValues(ca, canonical(a)) {
			t.Fatalf("%q differs from itself", a)
		}
		if equalValues(ca, cb) != equalValues(cb, ca) {
			t.Fatalf("equality of %q and %q is not symmetric", a, b)
		}
		r := &Reply{Answer: a}
		_, _ = Decode[[]DRBDMinor](r)
		_, _ = Decode[NodeInstances](r)
		_, _ = Decode[[]Disk](r)
		_, _ = Decode[[]IPMapping](r)
		_, _ = Decode[MasterInfo](r)
		_, _ = Decode[map[string]Collector](r)
		if ds, err := Decode[[]Disk](r); err == nil {
			for i := range ds {
				ds[i].DRBD()
				ds[i].Volume()
			}
		}
	})
}
