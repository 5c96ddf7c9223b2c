// Package uuid makes random (version 4) UUIDs in the lower-case text form
// Ganeti uses, for the client's reply salts and the cluster generator's
// objects. It depends on the standard library only, so the client may
// import it.
package uuid

import (
	crand "crypto/rand"
	"encoding/hex"
)

// New returns a version 4 UUID from the system's cryptographic random
// source.
func New() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return V4(b)
}

// V4 returns the version 4 UUID made of the random bytes b: the version
// and variant bits set, written as 8-4-4-4-12 lower-case hex digits.
func V4(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
