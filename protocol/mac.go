package protocol

import (
	"crypto/hmac"
	"crypto/sha1"
	"hash"
)

// saltMAC computes the HMAC-SHA1 of salt ‖ msg that signs every envelope
// (docs/protocol.md §1.2), for the request and reply signers and for the
// envelope reader that verifies both. It keeps its hash state and its
// output buffer between calls, so signing and verifying allocate nothing.
type saltMAC struct {
	h   hash.Hash
	out [sha1.Size]byte
}

// setKey makes m sign with key, the raw bytes of hmac.key.
func (m *saltMAC) setKey(key []byte) { m.h = hmac.New(sha1.New, key) }

// sum returns the HMAC of salt ‖ msg, valid until the next call.
func (m *saltMAC) sum(salt, msg []byte) []byte {
	m.h.Reset()
	m.h.Write(salt)
	m.h.Write(msg)
	return m.h.Sum(m.out[:0])
}
