package reload

import (
	"log/slog"
	"slices"
	"testing"
)

// TestKeyTransitions drives Watcher.keyTransition from each state of
// hmac.key with each event, and checks the state it leads to, the lines
// it logs, the keys it publishes and the counts in Status.
func TestKeyTransitions(t *testing.T) {
	const (
		changedLine = "INFO HMAC key changed; using the new one"
		keepLine    = "WARN cannot use hmac.key; keeping the last good key"
		againLine   = "INFO hmac.key is readable again, unchanged"
	)
	// from is the state a case starts in, with the key in use (cur) and
	// the failure last logged (bad).
	type from struct {
		state keyState
		cur   string
		bad   string
	}
	inUse := from{state: keyInUse, cur: "k1"}
	kept := from{state: keyKept, cur: "k1", bad: "file is empty"}
	for _, tc := range []struct {
		name string
		from from
		ev   keyEventKind
		key  string // keyRead, keyStart
		msg  string // keyUnusable
		to   keyState
		logs []string
		// published are the keys published; changes and failures the
		// counts added; keyError is Status.KeyError after.
		published         []string
		changes, failures uint64
		keyError          string
	}{
		{name: "start", ev: keyStart, key: "k1", to: keyInUse, published: []string{"k1"}},
		{name: "first read (Run without LoadNow)", ev: keyRead, key: "k1", to: keyInUse, published: []string{"k1"}},
		{name: "unusable before any key", ev: keyUnusable, msg: "no such file", to: keyNone,
			logs: []string{keepLine}, failures: 1, keyError: "no such file"},
		{name: "the same key", from: inUse, ev: keyRead, key: "k1", to: keyInUse},
		{name: "a new key", from: inUse, ev: keyRead, key: "k2", to: keyInUse,
			logs: []string{changedLine}, published: []string{"k2"}, changes: 1},
		{name: "emptied", from: inUse, ev: keyUnusable, msg: "file is empty", to: keyKept,
			logs: []string{keepLine}, failures: 1, keyError: "file is empty"},
		{name: "kept, the same failure", from: kept, ev: keyUnusable, msg: "file is empty", to: keyKept, keyError: "file is empty"},
		{name: "kept, another failure", from: kept, ev: keyUnusable, msg: "no such file", to: keyKept,
			logs: []string{keepLine}, failures: 1, keyError: "no such file"},
		{name: "kept, back unchanged", from: kept, ev: keyRead, key: "k1", to: keyInUse, logs: []string{againLine}},
		{name: "kept, back with a new key", from: kept, ev: keyRead, key: "k2", to: keyInUse,
			logs: []string{changedLine}, published: []string{"k2"}, changes: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &levelRecorder{}
			var published []string
			w := New(Config{Path: "/cfg/config.data", KeyPath: "/cfg/hmac.key", Logger: slog.New(logs),
				PublishKey: func(k []byte) { published = append(published, string(k)) }})
			ks := &w.key
			ks.state, ks.bad = tc.from.state, tc.from.bad
			if tc.from.cur != "" {
				ks.cur = []byte(tc.from.cur)
			}
			w.status.KeyError = tc.from.bad
			var key []byte
			if tc.key != "" {
				key = []byte(tc.key)
			}
			w.keyTransition(tc.ev, key, tc.msg)

			if ks.state != tc.to {
				t.Errorf("from %s: state %s, want %s", tc.from.state, ks.state, tc.to)
			}
			if !slices.Equal(logs.lines, tc.logs) {
				t.Errorf("logged %q, want %q", logs.lines, tc.logs)
			}
			if !slices.Equal(published, tc.published) {
				t.Errorf("published %q, want %q", published, tc.published)
			}
			s := w.Status()
			if s.KeyChanges != tc.changes || s.KeyFailures != tc.failures || s.KeyError != tc.keyError {
				t.Errorf("KeyChanges %d, KeyFailures %d, KeyError %q; want %d, %d, %q",
					s.KeyChanges, s.KeyFailures, s.KeyError, tc.changes, tc.failures, tc.keyError)
			}
			if want := tc.key; tc.to == keyInUse && string(ks.cur) != want {
				t.Errorf("key in use %q, want %q", ks.cur, want)
			}
		})
	}
}
