package protocol

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/goconfd/goconfd/internal/tjson"
)

// ReplySigner writes signed reply datagrams, byte for byte as Ganeti's
// 3.0 server does (docs/protocol.md §2.4). It keeps its buffers between
// calls, so signing allocates nothing in steady state. A ReplySigner is
// not safe for concurrent use. A Decoder embeds one with its key, so a
// server that decodes a request can sign the reply with the same object.
type ReplySigner struct {
	mac saltMAC

	// Scratch buffers, reused across calls.
	inner, saltUTF8 []byte
}

// NewReplySigner returns a ReplySigner that signs with key, the raw bytes
// of hmac.key (trailing newline included).
func NewReplySigner(key []byte) *ReplySigner {
	sg := &ReplySigner{}
	sg.SetKey(key)
	return sg
}

// SetKey changes the HMAC key.
func (sg *ReplySigner) SetKey(key []byte) {
	sg.mac.setKey(key)
}

// AppendReply appends a signed reply datagram to dst, byte for byte as the
// 3.0 server writes it:
//
//	plj0{"hmac":"<hex>","msg":"{\"protocol\":1,\"status\":S,\"answer\":A,\"serial\":N}","salt":"<rsalt>"}
//
// answer is the answer's JSON text; rsalt is echoed. The HMAC covers
// rsalt ‖ inner message, with the same key as requests.
func (sg *ReplySigner) AppendReply(dst, rsalt []byte, status Status, answer []byte, serial int64) []byte {
	sg.inner = appendReplyMessage(sg.inner[:0], status, answer, serial)
	return sg.appendSigned(dst, rsalt, sg.inner, nil)
}

// appendReplyMessage appends a reply's inner message, as the 3.0 server
// writes it.
func appendReplyMessage(dst []byte, status Status, answer []byte, serial int64) []byte {
	dst = append(dst, `{"protocol":1,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"answer":`...)
	dst = append(dst, answer...)
	dst = append(dst, `,"serial":`...)
	dst = strconv.AppendInt(dst, serial, 10)
	return append(dst, '}')
}

// PreparedReply is the part of a reply that does not depend on the
// request's rsalt: its inner message, and that message as the JSON string
// the envelope holds. A server that answers the same question many times
// (the same snapshot, type and query) prepares it once and signs it per
// request with AppendPrepared, which writes the same bytes as AppendReply
// without building or escaping the message again. It is immutable.
type PreparedReply struct {
	inner []byte
	msg   []byte // inner as a JSON string, quotes included
}

// PrepareReply returns the PreparedReply of a reply with status, answer
// and serial (AppendReply's arguments but rsalt).
func PrepareReply(status Status, answer []byte, serial int64) *PreparedReply {
	inner := appendReplyMessage(make([]byte, 0, len(answer)+64), status, answer, serial)
	return &PreparedReply{inner: inner, msg: tjson.AppendString(nil, inner)}
}

// MsgLen is the length of the message as the envelope holds it (escaped,
// quotes included).
func (p *PreparedReply) MsgLen() int { return len(p.msg) }

// Size is the number of bytes p holds, for a cache's budget.
func (p *PreparedReply) Size() int { return cap(p.inner) + cap(p.msg) }

// AppendPrepared appends the signed reply datagram of p to the request
// with rsalt: byte for byte what AppendReply appends for the same status,
// answer and serial.
func (sg *ReplySigner) AppendPrepared(dst, rsalt []byte, p *PreparedReply) []byte {
	return sg.appendSigned(dst, rsalt, p.inner, p.msg)
}

// appendSigned appends the envelope of the inner message inner, signed
// for rsalt; msg is inner as a JSON string if the caller has it (nil: it
// is escaped here).
func (sg *ReplySigner) appendSigned(dst, rsalt, inner, msg []byte) []byte {
	// Sign the salt as clients will decode it from the escapes written
	// below: a surrogate pair is one character to them. (Ganeti signs
	// the two surrogates, which no client can verify.)
	signedSalt := rsalt
	if tjson.HasSurrogates(rsalt) {
		sg.saltUTF8 = tjson.AppendStandardUTF8(sg.saltUTF8[:0], rsalt)
		signedSalt = sg.saltUTF8
	}
	sum := sg.mac.sum(signedSalt, inner)

	// A long reply (a big cluster's node or IP list) would grow dst by
	// doubling, copying and clearing it at each step: make room once for
	// the message and its escapes (a quote or a backslash takes two
	// bytes; the rare \uXXXX may still grow it once). Short replies that
	// fit skip the count.
	fixed := len(Magic) + 64 + len(`{"hmac":"","msg":"","salt":""}`) + 6*len(rsalt)
	switch {
	case msg != nil:
		dst = slices.Grow(dst, fixed+len(msg))
	case len(dst)+fixed+2*len(inner) > cap(dst):
		need := fixed + len(inner) + bytes.Count(inner, []byte{'"'}) + bytes.Count(inner, []byte{'\\'})
		dst = slices.Grow(dst, need)
	}
	dst = append(dst, Magic...)
	dst = append(dst, `{"hmac":"`...)
	dst = hex.AppendEncode(dst, sum)
	dst = append(dst, `","msg":`...)
	if msg != nil {
		dst = append(dst, msg...)
	} else {
		dst = tjson.AppendString(dst, inner)
	}
	dst = append(dst, `,"salt":`...)
	dst = tjson.AppendString(dst, rsalt)
	return append(dst, '}')
}
