package protocol

import (
	"bytes"
	"errors"

	"github.com/goconfd/goconfd/internal/tjson"
)

// MaxReplyDatagram is the largest reply a client accepts: the largest UDP
// payload over IPv6 (65535 minus the 8-byte UDP header; over IPv4 the
// limit is the smaller MaxReplySize). Anything longer cannot be one
// datagram, so a reader that sees more was handed a truncated or
// corrupted buffer.
const MaxReplyDatagram = 65535 - 8

// The reasons a reply is refused, returned as they are by
// ReplyDecoder.Decode and ParseReply, in the order the checks run.
var (
	// ErrReplyTooBig: the datagram is longer than MaxReplyDatagram.
	ErrReplyTooBig = errors.New("reply is longer than a UDP datagram")
	// ErrBadMagic: the datagram does not start with Magic.
	ErrBadMagic = errors.New("reply does not start with plj0")
	// ErrBadEnvelope: not exactly the string members hmac, msg and salt.
	ErrBadEnvelope = errors.New("reply envelope is not valid")
	// ErrBadHMAC: the signature is not 40 hex digits or does not match.
	ErrBadHMAC = errors.New("reply HMAC does not match")
	// ErrWrongSalt: an authentic reply, but to another request.
	ErrWrongSalt = errors.New("reply salt does not match the request's rsalt")
	// ErrBadReply: the message is not exactly protocol, status, answer
	// and serial, the codes integers.
	ErrBadReply = errors.New("reply message is not valid")
)

// RawReply is an authenticated reply whose answer is kept as JSON text,
// so that a client can decode it into its own types (docs/protocol.md §2.4).
type RawReply struct {
	// Protocol is the version the server wrote (always 1 in Ganeti).
	Protocol int64
	// Status says whether Answer is a result or an error.
	Status Status
	// Answer is the answer's JSON text as the server wrote it (without
	// surrounding white space). From ReplyDecoder.Decode it points into
	// the decoder and is valid until its next Decode; in a Reply (from
	// ParseReply) it is the caller's.
	Answer []byte
	// Serial is the configuration serial the answer comes from.
	Serial int64
}

// Reply is a RawReply whose Answer belongs to the caller (ParseReply).
type Reply RawReply

// ParseReply authenticates one reply datagram with key (the raw bytes of
// hmac.key) and checks that it answers the request whose reply salt is
// rsalt. It is ReplyDecoder.Decode for a single datagram, with the same
// checks and errors, and the answer copied out of the decoder. It makes
// a decoder per call: for tests and tools; a client that reads many
// replies keeps a ReplyDecoder, which allocates nothing.
func ParseReply(dgram, key []byte, rsalt string) (Reply, error) {
	var r RawReply
	if err := NewReplyDecoder(key).Decode(dgram, rsalt, &r); err != nil {
		return Reply{}, err
	}
	r.Answer = bytes.Clone(r.Answer)
	return Reply(r), nil
}

// ReplyDecoder authenticates and parses reply datagrams on the client
// side. It keeps its buffers between calls, so verifying a reply allocates
// nothing in steady state. A ReplyDecoder is not safe for concurrent use.
//
// It is stricter than Ganeti's Python client (lib/confd/client.py) where
// being strict costs no interoperability, since every confd server (Ganeti
// 2.x and 3.0, goconfd) writes exactly this shape: the envelope has exactly
// the string members hmac, msg and salt, and the message exactly the
// members protocol, status, answer and serial, each once, the three codes
// as integer literals. It is as lenient as Python where servers differ:
// member order, white space around the JSON texts (the 2.2 server ends msg
// with a newline) and upper-case hex digests are accepted.
type ReplyDecoder struct {
	envelope
}

// NewReplyDecoder returns a ReplyDecoder that verifies replies with key,
// the raw bytes of hmac.key (trailing newline included).
func NewReplyDecoder(key []byte) *ReplyDecoder {
	d := &ReplyDecoder{}
	d.mac.setKey(key)
	return d
}

// Decode authenticates one reply datagram and checks that it answers the
// request whose reply salt is rsalt. On success it fills r, whose Answer
// points into d until the next call. The checks run cheapest first: size,
// magic, envelope, HMAC (constant time), salt, message. The errors are
// ErrReplyTooBig, ErrBadMagic, ErrBadEnvelope, ErrBadHMAC, ErrWrongSalt and
// ErrBadReply, returned as they are (never wrapped, so that a rejected
// datagram costs no allocation).
//
// As Ganeti's Python client does, the text is read as UTF-8 and the HMAC
// is computed over salt and msg as a standard JSON decoder returns them
// (a surrogate pair escape is one character).
func (d *ReplyDecoder) Decode(dgram []byte, rsalt string, r *RawReply) error {
	if len(dgram) > MaxReplyDatagram {
		return ErrReplyTooBig
	}
	salt, msg, fault := d.open(dgram, replyRules)
	switch fault {
	case faultMagic:
		return ErrBadMagic
	case faultEnvelope:
		return ErrBadEnvelope
	case faultHMAC:
		return ErrBadHMAC
	}
	if string(salt) != rsalt {
		return ErrWrongSalt
	}
	if !d.parseMessage(msg, r) {
		return ErrBadReply
	}
	return nil
}

// parseMessage reads the inner reply object: exactly protocol, status,
// answer and serial, each once, the three codes as integer literals, the
// answer any valid JSON value.
func (d *ReplyDecoder) parseMessage(msg []byte, r *RawReply) bool {
	s := &d.scan
	s.Reset(msg, false)
	if s.SkipSpace() != nil {
		return false
	}
	var seen [4]bool
	ok := s.Members(&d.name, func(key []byte) bool {
		var i int
		switch string(key) {
		case "protocol":
			i = 0
		case "status":
			i = 1
		case "answer":
			i = 2
		case "serial":
			i = 3
		default:
			return false
		}
		if seen[i] {
			return false
		}
		seen[i] = true
		if i == 2 {
			start := s.Pos()
			if s.Skip() != nil {
				return false
			}
			r.Answer = trimSpace(msg[start:s.Pos()])
			return true
		}
		n, ok := d.readInt()
		switch i {
		case 0:
			r.Protocol = n
		case 1:
			r.Status = Status(n)
		default:
			r.Serial = n
		}
		return ok
	})
	return ok && s.AtEnd() && seen[0] && seen[1] && seen[2] && seen[3]
}

// readInt reads an integer literal -?[0-9]+ that fits in an int64.
func (d *ReplyDecoder) readInt() (int64, bool) {
	if k, err := d.scan.PeekKind(); err != nil || k != tjson.Number {
		return 0, false
	}
	lit, err := d.scan.ReadNumber()
	if err != nil {
		return 0, false
	}
	neg := false
	if len(lit) > 0 && lit[0] == '-' {
		neg, lit = true, lit[1:]
	}
	if len(lit) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range lit {
		if c < '0' || c > '9' {
			return 0, false // a fraction or an exponent
		}
		if n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return -int64(n), true
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}

// trimSpace drops the white space a container's scan leaves after it.
func trimSpace(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\n', '\r':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}
