// Package mmsg reads and writes batches of UDP datagrams (recvmmsg and
// sendmmsg on Linux) without allocating per datagram: the socket I/O of
// goconfd's server and of the performance report's minimal server
// (internal/minimal), so that the two pay the same for it, and of
// confd-load's closed loop.
package mmsg

import "golang.org/x/net/ipv4"

// BatchConn is what New returns: the batch methods of golang.org/x/net's
// ipv4.PacketConn, with the same Message type (ipv6.Message is the same
// type).
type BatchConn interface {
	// ReadBatch blocks until at least one datagram has arrived, reads as
	// many as are queued (at most len(ms)) and returns how many it read.
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	// WriteBatch writes ms in order and returns how many datagrams were
	// accepted before the first failure, with that failure's error.
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}
