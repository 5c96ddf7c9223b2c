package protocol

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
)

// AppendRequest appends a signed request datagram to dst in the format
// of Ganeti's Python client (serializer.DumpSignedJson and PackMagic):
//
//	plj0{"msg": "{\"protocol\": 1, \"type\": T, \"query\": Q, \"rsalt\": \"R\"}\n", "salt": "<unix time>", "hmac": "<hex>"}\n
//
// query is the query's JSON text, or nil to leave the member out (as
// Python does for None). key is the raw content of hmac.key.
func AppendRequest(dst, key []byte, now time.Time, typ Type, query []byte, rsalt string) []byte {
	msg := make([]byte, 0, 96+len(query)+len(rsalt))
	msg = append(msg, `{"protocol": 1, "type": `...)
	msg = strconv.AppendInt(msg, int64(typ), 10)
	if query != nil {
		msg = append(msg, `, "query": `...)
		msg = append(msg, query...)
	}
	msg = append(msg, `, "rsalt": `...)
	msg = tjson.AppendString(msg, rsalt)
	msg = append(msg, "}\n"...)
	salt := strconv.AppendInt(nil, now.Unix(), 10)

	mac := hmac.New(sha1.New, key)
	mac.Write(salt)
	mac.Write(msg)

	dst = append(dst, Magic...)
	dst = append(dst, `{"msg": `...)
	dst = tjson.AppendString(dst, msg)
	dst = append(dst, `, "salt": `...)
	dst = tjson.AppendString(dst, salt)
	dst = append(dst, `, "hmac": "`...)
	dst = hex.AppendEncode(dst, mac.Sum(nil))
	return append(dst, "\"}\n"...)
}

// Reply is a parsed, authenticated reply (docs/protocol.md §2.4).
type Reply struct {
	Protocol int64
	Status   Status
	// Answer is the answer's JSON text, written compactly as goconfd and
	// Ganeti's server write it (a reply from either reads back byte for
	// byte when it is ASCII).
	Answer []byte
	Serial int64
}

// Errors from ParseReply.
var (
	ErrBadMagic    = errors.New("reply does not start with plj0")
	ErrBadEnvelope = errors.New("reply envelope is not valid")
	ErrBadHMAC     = errors.New("reply HMAC does not match")
	ErrWrongSalt   = errors.New("reply salt does not match the request's rsalt")
	ErrBadReply    = errors.New("reply message is not valid")
)

// ParseReply authenticates a reply datagram with key and checks that it
// answers the request with the reply salt rsalt. Replies are read as
// UTF-8, as Ganeti's Python client does.
func ParseReply(dgram, key []byte, rsalt string) (Reply, error) {
	if len(dgram) < len(Magic) || string(dgram[:len(Magic)]) != Magic {
		return Reply{}, ErrBadMagic
	}
	env, err := tjson.Parse(dgram[len(Magic):], tjson.Options{})
	if err != nil || env.Kind != tjson.Object {
		return Reply{}, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	var parts [3]*tjson.Value
	for i, name := range []string{"hmac", "msg", "salt"} {
		v, ok := env.Get(name)
		if !ok || v.Kind != tjson.String {
			return Reply{}, fmt.Errorf("%w: member %q missing or not a string", ErrBadEnvelope, name)
		}
		parts[i] = v
	}
	want, err := hex.DecodeString(parts[0].Str)
	if err != nil || len(want) != sha1.Size {
		return Reply{}, ErrBadHMAC
	}
	// Sign-check the text as a standard JSON decoder reads it (surrogate
	// pairs are one character), as Ganeti's Python client does.
	salt := tjson.AppendStandardUTF8(nil, []byte(parts[2].Str))
	mac := hmac.New(sha1.New, key)
	mac.Write(salt)
	mac.Write(tjson.AppendStandardUTF8(nil, []byte(parts[1].Str)))
	if !hmac.Equal(mac.Sum(nil), want) {
		return Reply{}, ErrBadHMAC
	}
	if string(salt) != rsalt {
		return Reply{}, ErrWrongSalt
	}
	msg, err := tjson.Parse([]byte(parts[1].Str), tjson.Options{})
	if err != nil || msg.Kind != tjson.Object {
		return Reply{}, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	var r Reply
	for _, m := range msg.Obj {
		switch m.Key {
		case "protocol", "status", "serial":
			if m.Val.Kind != tjson.Number {
				return Reply{}, fmt.Errorf("%w: %s is not a number", ErrBadReply, m.Key)
			}
			n, err := tjson.Int([]byte(m.Val.Str))
			if err != nil {
				return Reply{}, fmt.Errorf("%w: %s: %v", ErrBadReply, m.Key, err)
			}
			switch m.Key {
			case "protocol":
				r.Protocol = n
			case "status":
				r.Status = Status(n)
			default:
				r.Serial = n
			}
		case "answer":
			r.Answer = tjson.AppendValue(nil, &m.Val)
		default:
			return Reply{}, fmt.Errorf("%w: unknown member %q", ErrBadReply, m.Key)
		}
	}
	return r, nil
}
