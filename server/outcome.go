package server

import "github.com/goconfd/goconfd/protocol"

// Outcome says what became of one datagram a Server read: answered, or
// why it was dropped. Servers count datagrams by outcome (Stats.Outcomes)
// and tell a DropObserver about each drop; nothing is logged per datagram
// by the server itself.
//
// The first protocol.NumOutcomes outcomes are the request decoder's
// (protocol.Outcome, with the same values and names: OutcomeOf converts
// one); the others are reasons only a server has, after a request was
// decoded or before it could be.
type Outcome uint8

// The decoder's outcomes (docs/protocol.md §1.7), as a server counts them.
const (
	// Answered: a reply was produced (or, for a parked TypeWatch
	// request, will be).
	Answered = Outcome(protocol.Answered)
	// DropMagic: shorter than 4 bytes or not starting with "plj0".
	DropMagic = Outcome(protocol.DropMagic)
	// DropEnvelope: the signed envelope is not valid.
	DropEnvelope = Outcome(protocol.DropEnvelope)
	// DropHMAC: the signature does not match.
	DropHMAC = Outcome(protocol.DropHMAC)
	// DropRequest: the inner message is not a valid request.
	DropRequest = Outcome(protocol.DropRequest)
	// DropType: the request's type is a number outside 0..NumTypes-1.
	DropType = Outcome(protocol.DropType)
	// DropTimestamp: the salt is not an integer or is outside ±300 s.
	DropTimestamp = Outcome(protocol.DropTimestamp)
)

// The server's own outcomes, numbered after the decoder's.
const (
	// DropNoKey: no HMAC key is loaded, so nothing can be verified.
	DropNoKey = Outcome(protocol.NumOutcomes) + iota
	// DropReplyTooBig: the reply would not fit in one UDP datagram.
	DropReplyTooBig
	// DropInternal: a bug was caught (a handler's panic, an unknown
	// outcome, an empty answer); the datagram was not answered.
	DropInternal
	// DropGanetiSilent: a valid request that Ganeti's 3.0 server leaves
	// unanswered, so goconfd sends nothing either: types 2 and 6 when
	// cluster.nicparams has no "default" entry (docs/protocol.md §1.7,
	// §4.3). Not a bug: the config is what makes Ganeti silent.
	DropGanetiSilent
	// NumOutcomes is the number of outcomes.
	NumOutcomes
)

// serverOutcomeNames are the names of the server's own outcomes, from
// DropNoKey on; the decoder's are protocol.Outcome's. Together they are
// the metric labels and /status keys of docs/metrics.md.
var serverOutcomeNames = [NumOutcomes - DropNoKey]string{
	"no_key", "reply_too_big", "internal_error", "ganeti_silent",
}

// OutcomeOf returns the server's outcome for what the request decoder
// made of a datagram.
func OutcomeOf(o protocol.Outcome) Outcome { return Outcome(o) }

// String returns the outcome's metric label, e.g. "bad_hmac".
func (o Outcome) String() string {
	switch {
	case o < DropNoKey:
		return protocol.Outcome(o).String()
	case o < NumOutcomes:
		return serverOutcomeNames[o-DropNoKey]
	}
	return "unknown"
}
