package protocol

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"

	"github.com/goconfd/goconfd/internal/tjson"
)

// envelope reads and verifies the signed envelope that wraps every
// request and reply (docs/protocol.md §1.2): the magic, then an object
// with the string members hmac, msg and salt, the HMAC-SHA1 of salt ‖ msg
// in hex. Decoder (requests) and ReplyDecoder (replies) embed one; they
// differ only in the rules of the side that reads (envelopeRules).
type envelope struct {
	mac  saltMAC
	want [sha1.Size]byte
	scan tjson.Scanner

	// Scratch buffers, reused across calls.
	hmacHex, msg, salt []byte
	// stdSalt and stdMsg hold salt and msg as standard UTF-8, when the
	// rules ask for it and they hold surrogate pairs.
	stdSalt, stdMsg []byte
	// name holds the member name being read (envelope, message and query
	// objects alike); never the key.
	name []byte
}

// envelopeRules are the ways the two readers of an envelope differ.
type envelopeRules struct {
	// ganeti reads as Ganeti's Haskell server does (requests): the text
	// is Latin-1, the object starts right after the magic, the first of
	// duplicate members counts (later ones need only be valid JSON), and
	// the HMAC covers salt and msg as decoded. Otherwise it reads as
	// Ganeti's Python client does (replies): the text is UTF-8, white
	// space may precede the object, a duplicate member is refused, and
	// the HMAC covers salt and msg as a standard JSON decoder returns them
	// (a surrogate pair escape is one character).
	ganeti bool
}

var (
	requestRules = envelopeRules{ganeti: true}
	replyRules   = envelopeRules{ganeti: false}
)

// envelopeFault says why an envelope was refused.
type envelopeFault uint8

const (
	envelopeOK envelopeFault = iota
	faultMagic
	faultEnvelope
	faultHMAC
)

// open checks the magic, reads the envelope and verifies its HMAC. On
// envelopeOK salt and msg are the signed texts (as the rules read them),
// valid until the next call.
func (e *envelope) open(dgram []byte, r envelopeRules) (salt, msg []byte, fault envelopeFault) {
	if len(dgram) < len(Magic) || string(dgram[:len(Magic)]) != Magic {
		return nil, nil, faultMagic
	}
	if !e.read(dgram[len(Magic):], r) {
		return nil, nil, faultEnvelope
	}
	salt, msg = e.salt, e.msg
	if !r.ganeti {
		if tjson.HasSurrogates(salt) {
			e.stdSalt = tjson.AppendStandardUTF8(e.stdSalt[:0], salt)
			salt = e.stdSalt
		}
		if tjson.HasSurrogates(msg) {
			e.stdMsg = tjson.AppendStandardUTF8(e.stdMsg[:0], msg)
			msg = e.stdMsg
		}
	}
	if !e.verify(salt, msg) {
		return nil, nil, faultHMAC
	}
	return salt, msg, envelopeOK
}

// read reads {"hmac": S, "msg": S, "salt": S} in any order, nothing else
// and nothing after it but white space, into hmacHex, msg and salt.
func (e *envelope) read(text []byte, r envelopeRules) bool {
	s := &e.scan
	s.Reset(text, r.ganeti)
	if !r.ganeti && s.SkipSpace() != nil {
		return false
	}
	var seen [3]bool
	ok := s.Members(&e.name, func(key []byte) bool {
		var dst *[]byte
		var i int
		switch string(key) {
		case "hmac":
			i, dst = 0, &e.hmacHex
		case "msg":
			i, dst = 1, &e.msg
		case "salt":
			i, dst = 2, &e.salt
		default:
			return false
		}
		if seen[i] {
			return r.ganeti && s.Skip() == nil
		}
		seen[i] = true
		if s.Peek() != '"' {
			return false
		}
		var err error
		*dst, err = s.ReadString((*dst)[:0])
		return err == nil
	})
	return ok && s.AtEnd() && seen[0] && seen[1] && seen[2]
}

// verify checks the envelope's HMAC-SHA1 over salt ‖ msg in constant
// time. Ganeti lowercases the received hex digest before comparing, so
// upper-case hex is accepted (by both sides).
func (e *envelope) verify(salt, msg []byte) bool {
	if len(e.hmacHex) != 2*sha1.Size {
		return false
	}
	if _, err := hex.Decode(e.want[:], e.hmacHex); err != nil {
		return false
	}
	return hmac.Equal(e.mac.sum(salt, msg), e.want[:])
}
