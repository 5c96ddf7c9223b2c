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
// PROTOCOL.md §3.11): a leading '/', then tokens separated by '/', where
// a token is a non-empty run of characters other than '~' and '/' with
// "~0" for '~' and "~1" for '/', or the empty token at the very end.
// Parsing stops silently where the grammar stops fitting. An array index
// is the token's leading decimal digits, accumulated with 64-bit
// wrap-around.
func (s *Snapshot) AppendQuery(dst, path []byte) (_ []byte, ok bool) {
	if len(path) == 0 || path[0] != '/' {
		return dst, false
	}
	v := &s.doc
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
			return tjson.AppendValueLimit(dst, v, MaxAnswerSize), true
		}
		var found bool
		v, found = s.step(v, tok)
		if !found {
			return dst, false
		}
		first = false
		p = p[n:]
		// A separator must follow for another token.
		if len(p) == 0 || p[0] != '/' {
			return tjson.AppendValueLimit(dst, v, MaxAnswerSize), true
		}
		if n == 0 {
			// The empty token consumed the end of input already.
			return tjson.AppendValueLimit(dst, v, MaxAnswerSize), true
		}
		// Look ahead: a token must follow the '/' or the separator is not
		// consumed (attoparsec backtracks the failed "/ token").
		rest := p[1:]
		if len(rest) > 0 && (rest[0] == '/' || (rest[0] == '~' && !(len(rest) > 1 && (rest[1] == '0' || rest[1] == '1')))) {
			return tjson.AppendValueLimit(dst, v, MaxAnswerSize), true
		}
		p = rest
	}
}

// step looks one pointer token up in v.
func (s *Snapshot) step(v *tjson.Value, tok []byte) (*tjson.Value, bool) {
	switch v.Kind {
	case tjson.Object:
		return s.get(v, string(tok))
	case tjson.Array:
		// attoparsec's decimal: at least one leading digit, the rest
		// ignored; the value wraps around as an Int does.
		var i int64
		digits := 0
		for _, c := range tok {
			if c < '0' || c > '9' {
				break
			}
			i = i*10 + int64(c-'0')
			digits++
		}
		if digits == 0 || i < 0 || i >= int64(len(v.Arr)) {
			return nil, false
		}
		return &v.Arr[i], true
	}
	return nil, false
}
