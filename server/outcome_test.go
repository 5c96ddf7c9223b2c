package server

import (
	"testing"

	"github.com/goconfd/goconfd/protocol"
)

// TestOutcomeNames pins every outcome's name: they are the metric labels
// of goconfd_datagrams_dropped_total and the keys of /status's
// "dropped" (docs/metrics.md), which must not change when the outcomes
// move between packages.
func TestOutcomeNames(t *testing.T) {
	tests := []struct {
		o    Outcome
		want string
	}{
		{Answered, "answered"},
		{DropMagic, "bad_magic"},
		{DropEnvelope, "bad_envelope"},
		{DropHMAC, "bad_hmac"},
		{DropRequest, "bad_request"},
		{DropType, "unknown_type"},
		{DropTimestamp, "bad_timestamp"},
		{DropNoKey, "no_key"},
		{DropReplyTooBig, "reply_too_big"},
		{DropInternal, "internal_error"},
		{DropGanetiSilent, "ganeti_silent"},
		{NumOutcomes, "unknown"},
		{255, "unknown"},
	}
	if len(tests) != int(NumOutcomes)+2 {
		t.Fatalf("%d outcomes named here, want all %d", len(tests)-2, NumOutcomes)
	}
	seen := map[string]Outcome{}
	for i, tc := range tests {
		if got := tc.o.String(); got != tc.want {
			t.Errorf("Outcome(%d).String() = %q, want %q", tc.o, got, tc.want)
		}
		if i < int(NumOutcomes) {
			if tc.o != Outcome(i) {
				t.Errorf("%s is %d, want %d (the outcomes are numbered in check order)", tc.want, tc.o, i)
			}
			if o, dup := seen[tc.want]; dup {
				t.Errorf("outcomes %d and %d are both named %q", o, tc.o, tc.want)
			}
			seen[tc.want] = tc.o
		}
	}
}

// TestOutcomeOf checks that each of the request decoder's outcomes is the
// server outcome of the same name, and that the server's own outcomes
// are none of the decoder's.
func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		dec  protocol.Outcome
		want Outcome
	}{
		{protocol.Answered, Answered},
		{protocol.DropMagic, DropMagic},
		{protocol.DropEnvelope, DropEnvelope},
		{protocol.DropHMAC, DropHMAC},
		{protocol.DropRequest, DropRequest},
		{protocol.DropType, DropType},
		{protocol.DropTimestamp, DropTimestamp},
	}
	if len(tests) != int(protocol.NumOutcomes) {
		t.Fatalf("%d decoder outcomes mapped here, want all %d", len(tests), protocol.NumOutcomes)
	}
	for _, tc := range tests {
		got := OutcomeOf(tc.dec)
		if got != tc.want || got.String() != tc.dec.String() {
			t.Errorf("OutcomeOf(%v) = %d (%v), want %d (%v)", tc.dec, got, got, tc.want, tc.want)
		}
	}
	for _, o := range []Outcome{DropNoKey, DropReplyTooBig, DropInternal, DropGanetiSilent} {
		if o < Outcome(protocol.NumOutcomes) {
			t.Errorf("server outcome %v (%d) overlaps the decoder's 0..%d", o, o, protocol.NumOutcomes-1)
		}
	}
	if DropGanetiSilent == DropInternal {
		t.Error("Ganeti's deliberate silence is counted as a bug")
	}
}
