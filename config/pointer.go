package config

import (
	"github.com/goconfd/goconfd/internal/tjson"
)

// AppendQuery evaluates a CONFIG_QUERY pointer over the normalized
// document and appends the encoded value it names to dst. ok is false
// when the pointer does not parse or names nothing; confd then answers
// with an argument error. Encoding stops once the output passes
// MaxAnswerSize: a result longer than that is incomplete and must not be
// sent (it could not be sent in one datagram anyway).
//
// The pointer syntax is the one Ganeti 3.0 implements, quirks included
// (pointerFromString and extractValue in src/Ganeti/Confd/Utils.hs;
// docs/protocol.md §3.11): a leading '/', then tokens separated by '/', where
// a token is a non-empty run of characters other than '~' and '/' with
// "~0" for '~' and "~1" for '/', or the empty token at the very end.
// Parsing stops silently where the grammar stops fitting. An array index
// is the token's leading decimal digits, accumulated with 64-bit
// wrap-around.
func (s *Snapshot) AppendQuery(dst, path []byte) (_ []byte, ok bool) {
	if len(path) == 0 || path[0] != '/' {
		return dst, false
	}
	c := cursor{v: &s.doc}
	p := path[1:]
	var tok []byte
	var scratch [64]byte
	first := true
	for {
		// One token.
		tok = scratch[:0]
		n := 0
		for n < len(p) {
			c := p[n]
			if c == '/' {
				break
			}
			if c == '~' {
				if n+1 < len(p) && (p[n+1] == '0' || p[n+1] == '1') {
					if p[n+1] == '0' {
						tok = append(tok, '~')
					} else {
						tok = append(tok, '/')
					}
					n += 2
					continue
				}
				break
			}
			tok = append(tok, c)
			n++
		}
		switch {
		case n > 0:
			// A non-empty token.
		case len(p) == 0:
			// The empty token, allowed only at the very end.
		default:
			// Neither: the first token fails the whole parse; a later one
			// ends the list before its separator.
			if first {
				return dst, false
			}
			return c.append(dst), true
		}
		var found bool
		c, found = s.stepCursor(c, tok)
		if !found {
			return dst, false
		}
		first = false
		p = p[n:]
		// A separator must follow for another token.
		if len(p) == 0 || p[0] != '/' {
			return c.append(dst), true
		}
		if n == 0 {
			// The empty token consumed the end of input already.
			return c.append(dst), true
		}
		// Look ahead: a token must follow the '/' or the separator is not
		// consumed (attoparsec backtracks the failed "/ token").
		rest := p[1:]
		if len(rest) > 0 && (rest[0] == '/' || (rest[0] == '~' && !(len(rest) > 1 && (rest[1] == '0' || rest[1] == '1')))) {
			return c.append(dst), true
		}
		p = rest
	}
}

// cursor is where a pointer evaluation is: a value of the skeleton or of
// a leaf's tree, or (enc not nil) a part of a leaf's encoding.
type cursor struct {
	v   *tjson.Value
	enc []byte
}

// append appends the value at c, encoded, to dst, stopping past
// MaxAnswerSize.
func (c cursor) append(dst []byte) []byte {
	if c.enc != nil {
		return append(dst, c.enc...)
	}
	return tjson.AppendValueLimit(dst, c.v, MaxAnswerSize)
}

// stepCursor looks one pointer token up at c.
func (s *Snapshot) stepCursor(c cursor, tok []byte) (cursor, bool) {
	if c.enc != nil {
		var sub []byte
		var ok bool
		switch tjson.EncodedKind(c.enc) {
		case tjson.Object:
			sub, ok = tjson.EncodedMember(c.enc, tok)
		case tjson.Array:
			var i int64
			if i, ok = arrayIndex(tok); ok {
				sub, ok = tjson.EncodedElem(c.enc, i)
			}
		}
		return cursor{enc: sub}, ok
	}
	v, ok := s.step(c.v, tok)
	if !ok {
		return cursor{}, false
	}
	if l := s.leaf(v); l != nil {
		if l.tree != nil {
			return cursor{v: l.tree}, true
		}
		return cursor{enc: l.enc}, true
	}
	return cursor{v: v}, true
}

// step looks one pointer token up in v.
func (s *Snapshot) step(v *tjson.Value, tok []byte) (*tjson.Value, bool) {
	switch v.Kind {
	case tjson.Object:
		return objectMember(s, v, tok)
	case tjson.Array:
		i, ok := arrayIndex(tok)
		if !ok || i >= int64(len(v.Arr)) {
			return nil, false
		}
		return &v.Arr[i], true
	}
	return nil, false
}

// arrayIndex reads an array index token as attoparsec's decimal does: at
// least one leading digit, the rest ignored; the value wraps around as an
// Int does. A negative result (after wrapping) is no index.
func arrayIndex(tok []byte) (int64, bool) {
	var i int64
	digits := 0
	for _, c := range tok {
		if c < '0' || c > '9' {
			break
		}
		i = i*10 + int64(c-'0')
		digits++
	}
	return i, digits > 0 && i >= 0
}
