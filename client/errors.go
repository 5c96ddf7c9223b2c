package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// Errors a query can report, to be tested with errors.Is.
var (
	// ErrNoQuorum: fewer valid replies came in than the query needed.
	// The error is a *QuorumError, which says which servers did not
	// answer and why, and carries the partial Result.
	ErrNoQuorum = errors.New("not enough confd servers answered")
	// ErrNoReply: a server sent nothing valid before the query ended.
	ErrNoReply = errors.New("no reply")
	// ErrRefused: a server's host said that nothing listens on the port
	// (ICMP port unreachable).
	ErrRefused = errors.New("nothing listens on the port")
	// ErrRequestTooBig: the signed request is longer than Ganeti's
	// MAX_UDP_DATA_SIZE (61440 bytes). Note that Ganeti 3.0's server reads
	// only the first 4096 bytes of a datagram.
	ErrRequestTooBig = errors.New("request too big")
	// ErrNotFound matches a *StatusError saying that the node, instance,
	// IP or entry asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrArgument matches a *StatusError saying that the query has the
	// wrong shape for its request type.
	ErrArgument = errors.New("invalid argument")
)

// PeerError says why one server gave no valid reply. It wraps the cause:
// ErrNoReply, ErrRefused, a protocol error such as protocol.ErrBadHMAC
// (the last invalid datagram's), or a resolver or socket error.
type PeerError struct {
	// Peer is the server as configured.
	Peer Peer
	// Addr is the address the request went to, if the peer resolved.
	Addr netip.AddrPort
	// Op is what failed: "resolve", "dial", "send", "receive" or "reply".
	Op string
	// Invalid is how many datagrams from the server failed verification.
	Invalid int
	// Err is the cause.
	Err error
}

// Error says which server failed and why, e.g. "192.0.2.1:1814: receive:
// nothing listens on the port".
func (e *PeerError) Error() string {
	var b strings.Builder
	b.WriteString(e.Server())
	b.WriteString(": ")
	switch {
	case e.Op == "reply" && e.Invalid == 1:
		b.WriteString("invalid reply: ")
	case e.Op == "reply":
		fmt.Fprintf(&b, "%d invalid replies, the last: ", e.Invalid)
	case e.Op != "":
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *PeerError) Unwrap() error { return e.Err }

// Server names the server: the address asked, with the host name when the
// peer was given as one ("node1 (192.0.2.1:1814)").
func (e *PeerError) Server() string {
	if !e.Addr.IsValid() {
		return e.Peer.String()
	}
	if a, err := netip.ParseAddr(e.Peer.Host); err == nil && a == e.Addr.Addr() {
		return e.Addr.String()
	}
	return e.Peer.Host + " (" + e.Addr.String() + ")"
}

// QuorumError is the error of a query that ended with fewer valid replies
// than it needed. Result holds whatever did come in, so a caller that
// accepts a weaker answer can still use Result.Best.
type QuorumError struct {
	// Got and Needed count valid replies.
	Got, Needed int
	// Asked is how many servers the request was sent to.
	Asked int
	// Failures says, for each server without a valid reply, why.
	Failures []*PeerError
	// Cause is why the wait ended early: the context's error (or the
	// client's timeout, wrapping context.DeadlineExceeded), or nil when
	// every server had answered or failed.
	Cause error
	// Result is the partial result.
	Result *Result
}

// Error says how many servers answered and why the others did not.
func (e *QuorumError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "confd: %d of %d servers answered, %d needed", e.Got, e.Asked, e.Needed)
	for i, f := range e.Failures {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns ErrNoQuorum, the cause if any, and the failures, so
// that errors.Is(err, ErrRefused) asks whether a server refused.
func (e *QuorumError) Unwrap() []error {
	errs := []error{ErrNoQuorum}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	for _, f := range e.Failures {
		errs = append(errs, f)
	}
	return errs
}

// StatusError is a reply with a status other than OK: the server
// answered, and the answer is an error (docs/protocol.md §2.6).
type StatusError struct {
	// Type is the request type asked.
	Type protocol.Type
	// Status is the reply's status.
	Status protocol.Status
	// Answer is the error as the server wrote it: an error code, or a
	// text (Ganeti 3.0 also answers with texts, e.g. for unknown nodes).
	Answer json.RawMessage
	// Serial is the reply's serial (0 for errors in Ganeti 3.0).
	Serial int64
	// Server is the server whose reply was chosen.
	Server Peer
}

// Code returns the error code when the answer is one.
func (e *StatusError) Code() (protocol.ErrorCode, bool) {
	n, err := strconv.ParseInt(string(e.Answer), 10, 64)
	if err != nil {
		return 0, false
	}
	return protocol.ErrorCode(n), true
}

// Text returns the error text when the answer is a string.
func (e *StatusError) Text() (string, bool) {
	var s string
	if json.Unmarshal(e.Answer, &s) != nil {
		return "", false
	}
	return s, true
}

// Error says what the server answered: the error code's meaning or the
// error text.
func (e *StatusError) Error() string {
	prefix := "confd: " + e.Type.String() + ": "
	if e.Status != protocol.StatusError {
		prefix += "status " + strconv.Itoa(int(e.Status)) + ": "
	}
	if c, ok := e.Code(); ok {
		switch c {
		case protocol.ErrUnknownEntry:
			return prefix + "unknown entry"
		case protocol.ErrInternal:
			return prefix + "internal error"
		case protocol.ErrArgument:
			return prefix + "invalid argument"
		}
		return prefix + "error code " + strconv.Itoa(int(c))
	}
	if s, ok := e.Text(); ok {
		return prefix + strings.ReplaceAll(s, "\n", " ")
	}
	return prefix + string(e.Answer)
}

// Is reports whether the error is ErrNotFound (the code for an unknown
// entry, or one of Ganeti 3.0's "… not found" texts, which carry the
// error type ECodeNoEnt) or ErrArgument (the code for a bad argument, or
// 3.0's "Invalid query type" text).
func (e *StatusError) Is(target error) bool {
	code, isCode := e.Code()
	text, _ := e.Text()
	switch target {
	case ErrNotFound:
		return isCode && code == protocol.ErrUnknownEntry || strings.Contains(text, "ECodeNoEnt")
	case ErrArgument:
		return isCode && code == protocol.ErrArgument || strings.HasPrefix(text, "Invalid query type")
	}
	return false
}

// expiredError ends a query at the client's timeout. It is a
// context.DeadlineExceeded.
type expiredError struct{ timeout time.Duration }

// Error names the timeout.
func (e *expiredError) Error() string {
	return "client timeout " + e.timeout.String() + " expired"
}

// Unwrap makes the error a context.DeadlineExceeded.
func (e *expiredError) Unwrap() error { return context.DeadlineExceeded }

// noReply is the cause for a server that sent nothing valid in time.
func noReply(waited time.Duration, cause error) error {
	var exp *expiredError
	switch {
	case errors.As(cause, &exp):
		return fmt.Errorf("%w within %v", ErrNoReply, exp.timeout)
	case errors.Is(cause, context.Canceled):
		return fmt.Errorf("%w before the query was cancelled", ErrNoReply)
	}
	return fmt.Errorf("%w within %v", ErrNoReply, waited.Round(time.Millisecond))
}
