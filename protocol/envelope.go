package protocol

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
)

// Decoder authenticates and parses request datagrams. It keeps its
// buffers between calls so that decoding allocates nothing in steady
// state. A Decoder is not safe for concurrent use; a server keeps one per
// goroutine (or in a sync.Pool).
type Decoder struct {
	key  []byte
	mac  hash.Hash
	sum  [sha1.Size]byte
	want [sha1.Size]byte
	scan tjson.Scanner

	// Scratch buffers, reused across calls.
	hmacHex, msg, salt []byte
	// name holds the member name being read (envelope, request and
	// query objects alike); never the key.
	name          []byte
	rsalt, plain  []byte
	link, ip, ips []byte
	ipOffs        []int
	ipList        [][]byte
	fields        []Field
	saltUTF8      []byte
	// badType is set by parseRequest when the type is a number out of
	// range.
	badType bool
	// watch says TypeWatch is accepted (AcceptWatch).
	watch bool
}

// NewDecoder returns a Decoder that verifies requests with key, the raw
// bytes of hmac.key (trailing newline included: Ganeti uses the file's
// bytes verbatim).
func NewDecoder(key []byte) *Decoder {
	d := &Decoder{}
	d.SetKey(key)
	return d
}

// SetKey changes the HMAC key. key is copied.
func (d *Decoder) SetKey(key []byte) {
	d.key = append(d.key[:0], key...)
	d.mac = hmac.New(sha1.New, d.key)
}

// Key returns the key the Decoder verifies with. The caller must not
// modify it.
func (d *Decoder) Key() []byte { return d.key }

// Decode authenticates and parses one request datagram, checking in the
// order the 3.0 server does (src/Ganeti/Confd/Server.hs and Utils.hs):
// magic, envelope, HMAC, request, timestamp. It returns Answered and fills
// req when the request must be answered, or the reason to drop it. req's
// byte slices point into d and are valid until the next call.
//
// The datagram is read as Latin-1 (one character per byte), as Ganeti
// reads it.
func (d *Decoder) Decode(dgram []byte, now time.Time, req *Request) Outcome {
	if len(dgram) < len(Magic) || string(dgram[:len(Magic)]) != Magic {
		return DropMagic
	}
	if !d.parseEnvelope(dgram[len(Magic):]) {
		return DropEnvelope
	}
	if !d.verify() {
		return DropHMAC
	}
	if !d.parseRequest(d.msg, req) {
		if d.badType {
			return DropType
		}
		return DropRequest
	}
	ts, fits, ok := parseTimestamp(d.salt)
	if !ok || !fits {
		return DropTimestamp
	}
	skew := ts - now.Unix()
	if skew > int64(MaxClockSkew/time.Second) || skew < -int64(MaxClockSkew/time.Second) {
		return DropTimestamp
	}
	return Answered
}

// parseEnvelope reads the signed envelope: an object with exactly the
// string members hmac, msg and salt (SignedMessage), the first of
// duplicates counting, followed by nothing but white space.
func (d *Decoder) parseEnvelope(text []byte) bool {
	s := &d.scan
	s.Reset(text, true)
	var seen [3]bool
	ok := s.Members(&d.name, func(key []byte) bool {
		var dst *[]byte
		var i int
		switch string(key) {
		case "hmac":
			i, dst = 0, &d.hmacHex
		case "msg":
			i, dst = 1, &d.msg
		case "salt":
			i, dst = 2, &d.salt
		default:
			return false
		}
		if seen[i] {
			return s.Skip() == nil
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
// upper-case hex is accepted.
func (d *Decoder) verify() bool {
	if len(d.hmacHex) != 2*sha1.Size {
		return false
	}
	if _, err := hex.Decode(d.want[:], d.hmacHex); err != nil {
		return false
	}
	d.mac.Reset()
	d.mac.Write(d.salt)
	d.mac.Write(d.msg)
	return hmac.Equal(d.mac.Sum(d.sum[:0]), d.want[:])
}

// AppendReply appends a signed reply datagram to dst, byte for byte as the
// 3.0 server writes it:
//
//	plj0{"hmac":"<hex>","msg":"{\"protocol\":1,\"status\":S,\"answer\":A,\"serial\":N}","salt":"<rsalt>"}
//
// answer is the answer's JSON text; rsalt is echoed. The HMAC covers
// rsalt ‖ inner message, with the same key as requests.
func (d *Decoder) AppendReply(dst, rsalt []byte, status Status, answer []byte, serial int64) []byte {
	inner := d.msg[:0] // the request's msg is no longer needed
	inner = append(inner, `{"protocol":1,"status":`...)
	inner = strconv.AppendInt(inner, int64(status), 10)
	inner = append(inner, `,"answer":`...)
	inner = append(inner, answer...)
	inner = append(inner, `,"serial":`...)
	inner = strconv.AppendInt(inner, serial, 10)
	inner = append(inner, '}')
	d.msg = inner

	// Sign the salt as clients will decode it from the escapes written
	// below: a surrogate pair is one character to them. (Ganeti signs
	// the two surrogates, which no client can verify.)
	signedSalt := rsalt
	if tjson.HasSurrogates(rsalt) {
		d.saltUTF8 = tjson.AppendStandardUTF8(d.saltUTF8[:0], rsalt)
		signedSalt = d.saltUTF8
	}
	d.mac.Reset()
	d.mac.Write(signedSalt)
	d.mac.Write(inner)
	sum := d.mac.Sum(d.sum[:0])

	// A long reply (a big cluster's node or IP list) would grow dst by
	// doubling, copying and clearing it at each step: make room once for
	// the message and its escapes (a quote or a backslash takes two
	// bytes; the rare \uXXXX may still grow it once). Short replies that
	// fit skip the count.
	if fixed := len(Magic) + 64 + len(`{"hmac":"","msg":"","salt":""}`) + 6*len(rsalt); len(dst)+fixed+2*len(inner) > cap(dst) {
		need := fixed + len(inner) + bytes.Count(inner, []byte{'"'}) + bytes.Count(inner, []byte{'\\'})
		dst = slices.Grow(dst, need)
	}
	dst = append(dst, Magic...)
	dst = append(dst, `{"hmac":"`...)
	dst = hex.AppendEncode(dst, sum)
	dst = append(dst, `","msg":`...)
	dst = tjson.AppendString(dst, inner)
	dst = append(dst, `,"salt":`...)
	dst = tjson.AppendString(dst, rsalt)
	return append(dst, '}')
}
