package server

import "github.com/goconfd/goconfd/protocol"

// Handler turns one request datagram into a reply.
type Handler interface {
	// Handle answers the datagram req (at most protocol.MaxRequestSize
	// bytes; longer datagrams are truncated before Handle sees them) by
	// appending the reply to buf[:0] and returning it with
	// protocol.Answered, or returns nil and the reason for dropping it.
	// Handle must not keep req or buf. It is called concurrently from
	// every socket loop.
	Handle(req, buf []byte) ([]byte, protocol.Outcome)
}
