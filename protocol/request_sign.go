package protocol

import (
	"encoding/hex"
	"strconv"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
)

// RequestSigner writes signed request datagrams in the format of Ganeti's
// Python client (serializer.DumpSignedJson and PackMagic), as ReplySigner
// writes replies. It keeps its HMAC state and buffers between calls, so
// signing allocates nothing in steady state: a load generator signs each
// request as it sends it. A RequestSigner is not safe for concurrent use.
type RequestSigner struct {
	mac saltMAC

	// Scratch buffers, reused across calls.
	msg, salt []byte
}

// NewRequestSigner returns a RequestSigner that signs with key, the raw
// bytes of hmac.key (trailing newline included).
func NewRequestSigner(key []byte) *RequestSigner {
	sg := &RequestSigner{}
	sg.SetKey(key)
	return sg
}

// SetKey changes the HMAC key.
func (sg *RequestSigner) SetKey(key []byte) {
	sg.mac.setKey(key)
}

// AppendRequest appends a signed request datagram to dst, salted with
// now's Unix second:
//
//	plj0{"msg": "{\"protocol\": 1, \"type\": T, \"query\": Q, \"rsalt\": \"R\"}\n", "salt": "<unix time>", "hmac": "<hex>"}\n
//
// query is the query's JSON text, or nil to leave the member out (as
// Python does for None); rsalt is the reply salt the server echoes. The
// HMAC covers salt ‖ msg.
func (sg *RequestSigner) AppendRequest(dst []byte, now time.Time, typ Type, query, rsalt []byte) []byte {
	msg := append(sg.msg[:0], `{"protocol": 1, "type": `...)
	msg = strconv.AppendInt(msg, int64(typ), 10)
	if query != nil {
		msg = append(msg, `, "query": `...)
		msg = append(msg, query...)
	}
	msg = append(msg, `, "rsalt": `...)
	msg = tjson.AppendString(msg, rsalt)
	msg = append(msg, "}\n"...)
	sg.msg = msg
	sg.salt = strconv.AppendInt(sg.salt[:0], now.Unix(), 10)

	sum := sg.mac.sum(sg.salt, msg)

	dst = append(dst, Magic...)
	dst = append(dst, `{"msg": `...)
	dst = tjson.AppendString(dst, msg)
	dst = append(dst, `, "salt": `...)
	dst = tjson.AppendString(dst, sg.salt)
	dst = append(dst, `, "hmac": "`...)
	dst = hex.AppendEncode(dst, sum)
	return append(dst, "\"}\n"...)
}

// AppendRequest appends a signed request datagram to dst, as
// RequestSigner.AppendRequest does, with a signer of its own for key (the
// raw content of hmac.key): for a client that sends a request now and
// then. A program that signs many keeps a RequestSigner.
func AppendRequest(dst, key []byte, now time.Time, typ Type, query []byte, rsalt string) []byte {
	return NewRequestSigner(key).AppendRequest(dst, now, typ, query, []byte(rsalt))
}
