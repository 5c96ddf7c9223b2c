package server

import (
	"net"

	"github.com/goconfd/goconfd/protocol"
)

// Handler turns one request datagram into a reply.
type Handler interface {
	// Handle answers the datagram req (at most protocol.MaxRequestSize
	// bytes; longer datagrams are truncated before Handle sees them) by
	// appending the reply to buf[:0] and returning it with a Verdict
	// whose Outcome is Answered, or returns nil and a Verdict
	// giving the reason for dropping it. Handle must not keep req or buf.
	// It is called concurrently from every socket loop.
	Handle(req, buf []byte) ([]byte, Verdict)
}

// Verdict is what a Handler made of one datagram. The socket loops count
// datagrams by Outcome, and answered ones by Type and Status too.
type Verdict struct {
	// Outcome is Answered or why the datagram was dropped.
	Outcome Outcome
	// Type is the request's type and Status the reply's status; both are
	// meaningful only when Outcome is Answered. A Type outside
	// 0..protocol.NumTypes-1 or a Status outside 0..NumStatuses-1 is
	// counted as the last one (a handler bug).
	Type   protocol.Type
	Status protocol.Status
	// Parked says that an answered request (protocol.TypeWatch) gets its
	// reply later, from the Pipeline's watch table: there is no reply now.
	Parked bool
}

// sourceHandler is a Handler that is told where each datagram came from
// (the Pipeline, for the requests it parks).
type sourceHandler interface {
	handleFrom(req, buf []byte, src *Source) ([]byte, Verdict)
}

// watchRunner is a Handler with parked requests to answer while a Server
// serves it (the Pipeline).
type watchRunner interface {
	runWatch(stop <-chan struct{})
}

// Drop returns the Verdict of a datagram dropped for reason out.
func Drop(out Outcome) Verdict { return Verdict{Outcome: out} }

// NumStatuses is the number of reply statuses counted apart
// (protocol.StatusOK, StatusError and StatusNotImplemented).
const NumStatuses = 3

// DropObserver is told about each datagram a server does not answer:
// the hook for logging refusals (internal/droplog). Dropped is called
// from the socket loop that read the datagram, concurrently from every
// loop, and must be quick; it must not keep from or req.
type DropObserver interface {
	// Dropped says that the datagram req from from was dropped for
	// reason why (never Answered).
	Dropped(from net.Addr, req []byte, why Outcome)
}

// AnswerObserver is told about each request a server answers, before
// the reply is sent: the hook for -d's request log. It is called like
// DropObserver, and a server without one pays nothing per answer.
type AnswerObserver interface {
	// Answered says that the datagram req from from is answered with
	// reply.
	Answered(from net.Addr, req, reply []byte)
}
