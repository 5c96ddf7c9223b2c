package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"hash"
	"strconv"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// signer signs requests at send time, with the current second as the
// salt, so that a run of any length stays within the server's ±300 s
// window. It reuses its buffers and HMAC state: signing allocates
// nothing.
type signer struct {
	mac  hash.Hash
	msg  []byte
	sum  []byte
	salt []byte
	sec  int64 // the second salt holds, or -1
}

// newSigner returns a signer for key, the raw content of hmac.key.
func newSigner(key []byte) *signer {
	return &signer{mac: hmac.New(sha1.New, key), sec: -1}
}

// appendRequest appends e's request with reply salt rsalt, signed for
// the Unix time unixNano, to dst. The bytes are those of
// protocol.AppendRequest (Ganeti's Python client's format).
func appendRequest(dst []byte, s *signer, e *entry, unixNano int64, rsalt []byte) []byte {
	s.msg = append(s.msg[:0], e.prefix...)
	s.msg = append(s.msg, '"')
	s.msg = append(s.msg, rsalt...) // digits and a dash: nothing to escape
	s.msg = append(s.msg, "\"}\n"...)
	if sec := unixNano / 1e9; sec != s.sec {
		s.sec = sec
		s.salt = strconv.AppendInt(s.salt[:0], sec, 10)
	}
	s.mac.Reset()
	s.mac.Write(s.salt)
	s.mac.Write(s.msg)
	s.sum = s.mac.Sum(s.sum[:0])

	dst = append(dst, protocol.Magic...)
	dst = append(dst, `{"msg": `...)
	dst = tjson.AppendString(dst, s.msg)
	dst = append(dst, `, "salt": "`...)
	dst = append(dst, s.salt...)
	dst = append(dst, `", "hmac": "`...)
	dst = hex.AppendEncode(dst, s.sum)
	return append(dst, "\"}\n"...)
}

// appendRSalt appends the reply salt of a socket's seq-th request:
// "<socket>-<seq>".
func appendRSalt(dst []byte, socket int, seq uint64) []byte {
	dst = strconv.AppendInt(dst, int64(socket), 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, seq, 10)
}

// parseRSalt reads a reply salt made by appendRSalt.
func parseRSalt(b []byte) (socket int, seq uint64, ok bool) {
	dash := -1
	for i, c := range b {
		if c == '-' {
			dash = i
			break
		}
	}
	if dash <= 0 || dash == len(b)-1 {
		return 0, 0, false
	}
	sock, ok1 := parseDigits(b[:dash])
	seq, ok2 := parseDigits(b[dash+1:])
	return int(sock), seq, ok1 && ok2 && sock <= 1<<20
}

func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
