package reload

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/config"
)

// levelRecorder is a slog.Handler that keeps each record's level and
// message; debug records apart.
type levelRecorder struct {
	mu    sync.Mutex
	lines []string // "LEVEL message", Info and above
	debug []string // the debug records' attributes, "k=v ..."
}

func (h *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *levelRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Level < slog.LevelInfo {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "path" {
				b.WriteString(a.Key + "=" + a.Value.String() + " ")
			}
			return true
		})
		h.debug = append(h.debug, strings.TrimSpace(b.String()))
		return nil
	}
	h.lines = append(h.lines, r.Level.String()+" "+r.Message)
	return nil
}
func (h *levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *levelRecorder) WithGroup(string) slog.Handler      { return h }

// TestConfigTransitions drives Watcher.transition from each state with
// each event, and checks the state it leads to, the lines it logs, what
// it publishes and what Status says of failures.
func TestConfigTransitions(t *testing.T) {
	loader := &config.Loader{}
	good, err := loader.Parse(richWithSerial(t, 1000))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := loader.Parse(richWithSerial(t, 1001))
	if err != nil {
		t.Fatal(err)
	}
	const path = "/cfg/config.data"
	errX := errors.New("/cfg/config.data: bad X")
	errY := errors.New("/cfg/config.data: bad Y")
	errGone := &fs.PathError{Op: "stat", Path: path, Err: fs.ErrNotExist}
	errPerm := &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
	textX := config.UnavailableText(path, errX)
	textGone := config.UnavailableText(path, errGone)
	t0 := time.Unix(1e9, 0)

	// before is the configFile a case starts from: its state, whether it
	// keeps (and so publishes) a snapshot, the text published without
	// one ("" for nothing), the failure last reported, and for settling
	// the state it came from and its failure.
	type before struct {
		state       configState
		snapshot    bool
		unavailable string
		reported    string
		settleFrom  configState
		settleErr   error
	}
	const (
		loadedLine  = "INFO Loaded new config"
		backLine    = "INFO config file is back"
		raceLine    = "INFO config file changed while being read; reading it again"
		againLine   = "INFO config content is back to the one being served"
		goneLine    = "WARN config file is gone; answering every request with an error until it returns"
		noFileLine  = "WARN config file does not exist; answering every request with an error until it appears"
		failedLine  = "ERROR config failed to load"
		keepingLine = "ERROR config failed to load; still serving the last good one"
	)
	serving := before{state: stateServing, snapshot: true}
	failingServing := before{state: stateFailing, snapshot: true, reported: errX.Error()}
	failingAlone := before{state: stateFailing, unavailable: textX, reported: errX.Error()}
	missing := before{state: stateMissing, unavailable: textGone}
	for _, tc := range []struct {
		name   string
		from   before
		ev     configEvent
		settle time.Duration // Config.Settle; zero means 50 ms
		to     configState
		// logs are the lines logged, published what was published
		// ("snapshot 1001", "unavailable: <text>").
		logs      []string
		published []string
		// failing is Status.FailingNow after; failures the count added.
		failing  bool
		failures uint64
	}{
		// The first load.
		{name: "first load", ev: configEvent{kind: evLoaded}, to: stateServing,
			logs: []string{loadedLine}, published: []string{"snapshot 1001"}},
		{name: "first content settles", ev: configEvent{kind: evFailed, err: errX, settle: true}, to: stateSettling},
		{name: "first content fails at once (LoadNow)", ev: configEvent{kind: evFailed, err: errX}, to: stateFailing,
			logs: []string{failedLine}, published: []string{"unavailable: " + textX}, failing: true, failures: 1},
		{name: "first content fails, Settle negative", ev: configEvent{kind: evFailed, err: errX, settle: true}, settle: -1, to: stateFailing,
			logs: []string{failedLine}, published: []string{"unavailable: " + textX}, failing: true, failures: 1},
		{name: "no file at start", ev: configEvent{kind: evMissing, err: errGone}, to: stateMissing,
			logs: []string{noFileLine}, published: []string{"unavailable: " + textGone}},
		{name: "unreadable at start", ev: configEvent{kind: evUnreadable, err: errPerm}, to: stateFailing,
			logs: []string{failedLine}, published: []string{"unavailable: " + config.UnavailableText(path, errPerm)}, failing: true, failures: 1},
		{name: "first read races", ev: configEvent{kind: evRaced}, to: stateUnloaded, logs: []string{raceLine}},
		{name: "found before loading", ev: configEvent{kind: evFound}, to: stateUnloaded},

		// Serving.
		{name: "serving, found", from: serving, ev: configEvent{kind: evFound}, to: stateServing},
		{name: "serving, same content", from: serving, ev: configEvent{kind: evSame}, to: stateServing},
		{name: "serving, new content", from: serving, ev: configEvent{kind: evLoaded}, to: stateServing,
			logs: []string{loadedLine}, published: []string{"snapshot 1001"}},
		{name: "serving, bad content settles", from: serving, ev: configEvent{kind: evFailed, err: errX, settle: true}, to: stateSettling},
		{name: "serving, bad content at once", from: serving, ev: configEvent{kind: evFailed, err: errX}, to: stateFailing,
			logs: []string{keepingLine}, failing: true, failures: 1},
		{name: "serving, unreadable", from: serving, ev: configEvent{kind: evUnreadable, err: errPerm}, to: stateFailing,
			logs: []string{keepingLine}, failing: true, failures: 1},
		{name: "serving, raced", from: serving, ev: configEvent{kind: evRaced}, to: stateServing, logs: []string{raceLine}},
		{name: "serving, good again after a race", from: serving, ev: configEvent{kind: evGoodAgain}, to: stateServing},
		{name: "serving, deleted", from: serving, ev: configEvent{kind: evMissing, err: errGone}, to: stateMissing,
			logs: []string{goneLine}, published: []string{"unavailable: " + textGone}},

		// Settling.
		{name: "settled over a snapshot", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evSame}, to: stateFailing, logs: []string{keepingLine}, failing: true, failures: 1},
		{name: "settled without a snapshot", from: before{state: stateSettling, settleFrom: stateUnloaded, settleErr: errX},
			ev: configEvent{kind: evSame}, to: stateFailing, logs: []string{failedLine}, published: []string{"unavailable: " + textX},
			failing: true, failures: 1},
		{name: "settled, the failure already reported", from: before{state: stateSettling, snapshot: true, reported: errX.Error(), settleFrom: stateFailing, settleErr: errX},
			ev: configEvent{kind: evSame}, to: stateFailing, failing: true},
		{name: "settling, found", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evFound}, to: stateSettling},
		{name: "settling, another bad content", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evFailed, err: errY, settle: true}, to: stateSettling},
		{name: "settling, raced, back to serving", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evRaced}, to: stateServing, logs: []string{raceLine}},
		{name: "settling, raced, back to failing", from: before{state: stateSettling, snapshot: true, reported: errY.Error(), settleFrom: stateFailing, settleErr: errX},
			ev: configEvent{kind: evRaced}, to: stateFailing, logs: []string{raceLine}, failing: true},
		{name: "settling, raced, back to unloaded", from: before{state: stateSettling, unavailable: textGone, settleFrom: stateUnloaded, settleErr: errX},
			ev: configEvent{kind: evRaced}, to: stateUnloaded, logs: []string{raceLine}},
		{name: "settling, good again, nothing reported", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evGoodAgain}, to: stateServing},
		{name: "settling, good content loaded", from: before{state: stateSettling, settleFrom: stateUnloaded, settleErr: errX},
			ev: configEvent{kind: evLoaded}, to: stateServing, logs: []string{loadedLine}, published: []string{"snapshot 1001"}},
		{name: "settling, unreadable", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evUnreadable, err: errPerm}, to: stateFailing, logs: []string{keepingLine}, failing: true, failures: 1},
		{name: "settling, deleted", from: before{state: stateSettling, snapshot: true, settleFrom: stateServing, settleErr: errX},
			ev: configEvent{kind: evMissing, err: errGone}, to: stateMissing, logs: []string{goneLine}, published: []string{"unavailable: " + textGone}},

		// Failing.
		{name: "failing, good again", from: failingServing, ev: configEvent{kind: evGoodAgain}, to: stateServing, logs: []string{againLine}},
		{name: "failing, new content", from: failingServing, ev: configEvent{kind: evLoaded}, to: stateServing,
			logs: []string{loadedLine}, published: []string{"snapshot 1001"}},
		{name: "failing, the same failure", from: failingServing, ev: configEvent{kind: evFailed, err: errX}, to: stateFailing,
			failing: true},
		{name: "failing, another failure", from: failingServing, ev: configEvent{kind: evFailed, err: errY}, to: stateFailing,
			logs: []string{keepingLine}, failing: true, failures: 1},
		{name: "failing without a snapshot, another failure", from: failingAlone, ev: configEvent{kind: evFailed, err: errY}, to: stateFailing,
			logs: []string{failedLine}, published: []string{"unavailable: " + config.UnavailableText(path, errY)}, failing: true, failures: 1},
		{name: "failing, bad content settles", from: failingServing, ev: configEvent{kind: evFailed, err: errY, settle: true}, to: stateSettling, failing: true},
		{name: "failing, same content", from: failingServing, ev: configEvent{kind: evSame}, to: stateFailing, failing: true},
		{name: "failing, raced", from: failingServing, ev: configEvent{kind: evRaced}, to: stateFailing, logs: []string{raceLine}, failing: true},
		{name: "failing, deleted", from: failingAlone, ev: configEvent{kind: evMissing, err: errGone}, to: stateMissing,
			logs: []string{goneLine}, published: []string{"unavailable: " + textGone}},

		// Missing.
		{name: "missing, still missing", from: missing, ev: configEvent{kind: evMissing, err: errGone}, to: stateMissing},
		{name: "missing, found", from: missing, ev: configEvent{kind: evFound}, to: stateUnloaded, logs: []string{backLine}},
		{name: "missing, back unreadable", from: missing, ev: configEvent{kind: evUnreadable, err: errPerm}, to: stateFailing,
			logs: []string{backLine, failedLine}, published: []string{"unavailable: " + config.UnavailableText(path, errPerm)}, failing: true, failures: 1},
		{name: "missing, raced", from: missing, ev: configEvent{kind: evRaced}, to: stateMissing, logs: []string{raceLine}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &levelRecorder{}
			var published []string
			w := New(Config{Path: path, Logger: slog.New(logs), Settle: tc.settle, Publish: func(s *config.State) {
				if s.Snapshot != nil {
					published = append(published, "snapshot "+strconv.FormatInt(s.Snapshot.ClusterSerial(), 10))
				} else {
					published = append(published, "unavailable: "+s.Unavailable)
				}
			}})
			st := &w.conf
			st.state, st.unavailable, st.reported = tc.from.state, tc.from.unavailable, tc.from.reported
			st.settleFrom, st.settleErr, st.settleAt = tc.from.settleFrom, tc.from.settleErr, t0
			if tc.from.snapshot {
				st.good = good
			}
			// Status says what the failure last reported said.
			w.status.FailingNow, w.status.LastError = tc.from.reported != "", tc.from.reported
			if tc.ev.kind == evLoaded {
				st.good = fresh
			}
			tc.ev.now = t0.Add(time.Second)
			w.transition(tc.ev)

			if st.state != tc.to {
				t.Errorf("%s on %s: state %s, want %s", tc.from.state, tc.ev.kind, st.state, tc.to)
			}
			if !slices.Equal(logs.lines, tc.logs) {
				t.Errorf("logged %q, want %q", logs.lines, tc.logs)
			}
			if !slices.Equal(published, tc.published) {
				t.Errorf("published %q, want %q", published, tc.published)
			}
			s := w.Status()
			if s.FailingNow != tc.failing || s.Failures != tc.failures {
				t.Errorf("FailingNow %v, Failures %d; want %v, %d", s.FailingNow, s.Failures, tc.failing, tc.failures)
			}
			// What is served follows from the state: a snapshot exactly
			// while it is kept, else a text once anything was published.
			switch tc.to {
			case stateMissing:
				if st.good != nil || st.unavailable != textGone {
					t.Errorf("missing, with a snapshot (%v) or %q published", st.good != nil, st.unavailable)
				}
			case stateServing:
				if st.good == nil || st.unavailable != "" {
					t.Errorf("serving, with no snapshot (%v) or %q published", st.good == nil, st.unavailable)
				}
			case stateFailing:
				if (st.good == nil) == (st.unavailable == "") {
					t.Errorf("failing, with a snapshot %v and %q published", st.good != nil, st.unavailable)
				}
			}
			// A change of state is one debug line; none otherwise.
			var wantDebug []string
			if tc.from.state != tc.to {
				wantDebug = []string{"from=" + tc.from.state.String() + " to=" + tc.to.String() + " on=" + tc.ev.kind.String()}
			}
			if !slices.Equal(logs.debug, wantDebug) {
				t.Errorf("debug %q, want %q", logs.debug, wantDebug)
			}
			// Settling: when, from where, and why.
			if tc.to == stateSettling {
				// A new failure settles from now; anything else leaves the
				// settling as it was.
				at, ok := st.settleDue()
				wantAt, wantFrom, wantErr := tc.ev.now.Add(DefaultSettle), tc.from.state, tc.ev.err
				if tc.from.state == stateSettling {
					wantFrom = tc.from.settleFrom
					if tc.ev.kind != evFailed {
						wantAt, wantErr = t0, tc.from.settleErr
					}
				}
				if !ok || !at.Equal(wantAt) || st.settleFrom != wantFrom || st.settleErr != wantErr {
					t.Errorf("settling until %v (%v) from %s on %v; want %v from %s on %v",
						at, ok, st.settleFrom, st.settleErr, wantAt, wantFrom, wantErr)
				}
			} else if _, ok := st.settleDue(); ok || st.settleErr != nil {
				t.Errorf("still settling in %s", st.state)
			}
		})
	}
}
