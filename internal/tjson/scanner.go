package tjson

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/goconfd/goconfd/internal/hs"
)

// Syntax errors. They are values, not formatted per call, so that the
// request path can reject a datagram without allocating.
var (
	ErrEOF      = errors.New("unexpected end of JSON text")
	ErrToken    = errors.New("invalid JSON token")
	ErrString   = errors.New("invalid JSON string")
	ErrNumber   = errors.New("invalid JSON number")
	ErrTrailing = errors.New("invalid tokens at end of JSON text")
	ErrTopLevel = errors.New("JSON text must be an object or an array")
	ErrEncoding = errors.New("invalid UTF-8 in JSON text")
	ErrDepth    = errors.New("JSON nested too deeply")
	ErrExponent = errors.New("JSON number exponent out of range")
)

// MaxDepth bounds the nesting of arrays and objects. Text.JSON has no
// limit (the real server's stack grows instead); a config deeper than this
// is refused rather than risk a stack overflow.
const MaxDepth = 512

// Scanner reads JSON tokens from a byte slice without allocating.
//
// In Latin-1 mode every byte is one character, as Ganeti's daemons see a
// datagram (Data.ByteString.Char8.unpack). Otherwise the bytes are UTF-8;
// the surrogate code points U+D800..U+DFFF are accepted in their
// three-byte form, because that is how a \u escape of a lone surrogate is
// stored (see AppendChar).
type Scanner struct {
	buf    []byte
	pos    int
	latin1 bool
}

// Reset makes the scanner read data from the start.
func (s *Scanner) Reset(data []byte, latin1 bool) {
	s.buf, s.pos, s.latin1 = data, 0, latin1
}

// Pos returns the byte offset of the next unread character.
func (s *Scanner) Pos() int { return s.pos }

// Seek moves the position back (or on) to pos, a value Pos returned for
// the same text.
func (s *Scanner) Seek(pos int) { s.pos = min(max(pos, 0), len(s.buf)) }

// Rest returns the unread bytes.
func (s *Scanner) Rest() []byte { return s.buf[s.pos:] }

// AtEnd reports whether every byte has been read.
func (s *Scanner) AtEnd() bool { return s.pos >= len(s.buf) }

// char decodes the character at byte offset i.
func (s *Scanner) char(i int) (rune, int, error) {
	c := s.buf[i]
	if c < 0x80 || s.latin1 {
		return rune(c), 1, nil
	}
	return decodeRune(s.buf[i:])
}

// decodeRune decodes one UTF-8 sequence, accepting encoded surrogates.
func decodeRune(p []byte) (rune, int, error) {
	c := p[0]
	var n int
	var r rune
	switch {
	case c&0xE0 == 0xC0:
		n, r = 2, rune(c&0x1F)
	case c&0xF0 == 0xE0:
		n, r = 3, rune(c&0x0F)
	case c&0xF8 == 0xF0:
		n, r = 4, rune(c&0x07)
	default:
		return 0, 0, ErrEncoding
	}
	if len(p) < n {
		return 0, 0, ErrEncoding
	}
	for i := 1; i < n; i++ {
		if p[i]&0xC0 != 0x80 {
			return 0, 0, ErrEncoding
		}
		r = r<<6 | rune(p[i]&0x3F)
	}
	// Reject overlong forms and values past U+10FFFF.
	if (n == 2 && r < 0x80) || (n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10FFFF)) {
		return 0, 0, ErrEncoding
	}
	return r, n, nil
}

// SkipSpace skips white space as Haskell's isSpace defines it.
func (s *Scanner) SkipSpace() error {
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
			s.pos++
			continue
		}
		if c < 0x80 && c != '\v' && c != '\f' {
			return nil
		}
		r, n, err := s.char(s.pos)
		if err != nil {
			return err
		}
		if !hs.IsSpace(r) {
			return nil
		}
		s.pos += n
	}
	return nil
}

// Peek returns the next byte without reading it, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.pos < len(s.buf) {
		return s.buf[s.pos]
	}
	return 0
}

// PeekKind returns the kind of the value that starts at the current
// position, as Text.JSON's readJSValue dispatches on its first character.
// It does not skip white space.
func (s *Scanner) PeekKind() (Kind, error) {
	if s.pos >= len(s.buf) {
		return 0, ErrEOF
	}
	switch c := s.buf[s.pos]; {
	case c == '"':
		return String, nil
	case c == '[':
		return Array, nil
	case c == '{':
		return Object, nil
	case c == 't' || c == 'f':
		return Bool, nil
	case c == 'n':
		return Null, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return Number, nil
	}
	return 0, ErrToken
}

// ReadNull reads the literal null.
func (s *Scanner) ReadNull() error {
	if len(s.buf)-s.pos >= 4 && string(s.buf[s.pos:s.pos+4]) == "null" {
		s.pos += 4
		return nil
	}
	return ErrToken
}

// ReadBool reads true or false.
func (s *Scanner) ReadBool() (bool, error) {
	rest := s.buf[s.pos:]
	if len(rest) >= 4 && string(rest[:4]) == "true" {
		s.pos += 4
		return true, nil
	}
	if len(rest) >= 5 && string(rest[:5]) == "false" {
		s.pos += 5
		return false, nil
	}
	return false, ErrToken
}

// ReadString reads a string and appends its characters to dst, UTF-8
// encoded as AppendChar does. It accepts what Text.JSON's readJSString
// accepts: no raw control characters, no raw '"' or '\\', the escapes
// \" \\ \/ \b \f \n \r \t and \uXXXX (each escape one character, so a
// surrogate pair stays two characters).
func (s *Scanner) ReadString(dst []byte) ([]byte, error) {
	if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
		return dst, ErrString
	}
	i := s.pos + 1
	for {
		// Fast path: a run of plain ASCII characters, eight at a time
		// while none needs a closer look (needsEscape's set is the one
		// tested below), then one at a time.
		start := i
		for i+8 <= len(s.buf) && !needsEscape(binary.LittleEndian.Uint64(s.buf[i:])) {
			i += 8
		}
		for i < len(s.buf) {
			c := s.buf[i]
			if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				break
			}
			i++
		}
		dst = append(dst, s.buf[start:i]...)
		if i >= len(s.buf) {
			return dst, ErrString
		}
		switch c := s.buf[i]; {
		case c == '"':
			s.pos = i + 1
			return dst, nil
		case c < 0x20:
			return dst, ErrString
		case c == '\\':
			if i+1 >= len(s.buf) {
				return dst, ErrString
			}
			e := s.buf[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				if i+4 > len(s.buf) {
					return dst, ErrString
				}
				var r rune
				for _, h := range s.buf[i : i+4] {
					d := hs.DigitValue(h)
					if d > 15 {
						return dst, ErrString
					}
					r = r<<4 | rune(d)
				}
				i += 4
				dst = AppendChar(dst, r)
			default:
				return dst, ErrString
			}
		default: // non-ASCII
			r, n, err := s.char(i)
			if err != nil {
				return dst, err
			}
			dst = AppendChar(dst, r)
			i += n
		}
	}
}

// AppendChar appends the UTF-8 encoding of r to dst. Unlike
// utf8.AppendRune it encodes surrogates as three bytes instead of
// replacing them, as Haskell's Data.ByteString.UTF8.fromString does when
// Ganeti computes an HMAC (src/Ganeti/Hash.hs).
func AppendChar(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
	}
	return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12&0x3F), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
}

// ReadNumber reads a number and returns its literal text (a sub-slice of
// the input). The grammar is Text.JSON's readJSRational: an optional '-',
// then "0" or a run of digits, an optional '.' with at least one digit,
// and an optional exponent with at least one digit. A '.' without digits
// ends the number before the '.', so the caller then fails on it, as
// Text.JSON does.
func (s *Scanner) ReadNumber() ([]byte, error) {
	i := s.pos
	b := s.buf
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) || b[i] < '0' || b[i] > '9' {
		return nil, ErrNumber
	}
	if b[i] == '0' {
		i++
	} else {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i+1 < len(b) && b[i] == '.' && b[i+1] >= '0' && b[i+1] <= '9' {
		i += 2
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || b[j] < '0' || b[j] > '9' {
			return nil, ErrNumber
		}
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		i = j
	}
	lit := b[s.pos:i]
	s.pos = i
	return lit, nil
}

// Expect reads the byte c or fails with ErrToken.
func (s *Scanner) Expect(c byte) error {
	if s.pos < len(s.buf) && s.buf[s.pos] == c {
		s.pos++
		return nil
	}
	if s.pos >= len(s.buf) {
		return ErrEOF
	}
	return ErrToken
}

// BeginObject reads '{' and the white space after it, and reports whether
// the object is empty (in which case the '}' and the white space after it
// are read too).
func (s *Scanner) BeginObject() (empty bool, err error) {
	return s.begin('{', '}')
}

// BeginArray is BeginObject for '['.
func (s *Scanner) BeginArray() (empty bool, err error) {
	return s.begin('[', ']')
}

func (s *Scanner) begin(open, close byte) (bool, error) {
	if err := s.Expect(open); err != nil {
		return false, err
	}
	if err := s.SkipSpace(); err != nil {
		return false, err
	}
	if s.Peek() == close {
		s.pos++
		return true, s.SkipSpace()
	}
	return false, nil
}

// ReadKey reads a member name, the white space around the ':' and the ':'
// itself, appending the name's characters to dst.
func (s *Scanner) ReadKey(dst []byte) ([]byte, error) {
	dst, err := s.ReadString(dst)
	if err != nil {
		return dst, err
	}
	if err := s.SkipSpace(); err != nil {
		return dst, err
	}
	if err := s.Expect(':'); err != nil {
		return dst, err
	}
	return dst, s.SkipSpace()
}

// Next reads what follows a member or element of an object (close '}')
// or array (close ']'): white space, then ',' and white space (more is
// true) or the closing bracket and white space (more is false).
func (s *Scanner) Next(close byte) (more bool, err error) {
	if err := s.SkipSpace(); err != nil {
		return false, err
	}
	switch s.Peek() {
	case ',':
		s.pos++
		return true, s.SkipSpace()
	case close:
		s.pos++
		return false, s.SkipSpace()
	}
	if s.AtEnd() {
		return false, ErrEOF
	}
	return false, ErrToken
}

// Skip reads one value of any kind and discards it.
func (s *Scanner) Skip() error {
	return s.skip(0)
}

func (s *Scanner) skip(depth int) error {
	k, err := s.PeekKind()
	if err != nil {
		return err
	}
	switch k {
	case Null:
		return s.ReadNull()
	case Bool:
		_, err = s.ReadBool()
		return err
	case Number:
		_, err = s.ReadNumber()
		return err
	case String:
		return s.skipString()
	}
	if depth >= MaxDepth {
		return ErrDepth
	}
	close := byte(']')
	var empty bool
	if k == Object {
		close = '}'
		empty, err = s.BeginObject()
	} else {
		empty, err = s.BeginArray()
	}
	if err != nil || empty {
		return err
	}
	for {
		if k == Object {
			if err := s.skipString(); err != nil {
				return err
			}
			if s.maybeSpace() {
				if err := s.SkipSpace(); err != nil {
					return err
				}
			}
			if err := s.Expect(':'); err != nil {
				return err
			}
			if s.maybeSpace() {
				if err := s.SkipSpace(); err != nil {
					return err
				}
			}
		}
		// Scalars inline; containers recurse.
		var err error
		if s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; {
			case c == '"':
				err = s.skipString()
			case c >= '0' && c <= '9' || c == '-':
				_, err = s.ReadNumber()
			default:
				err = s.skip(depth + 1)
			}
		} else {
			err = ErrEOF
		}
		if err != nil {
			return err
		}
		// Next, with the common case (no white space) first.
		if s.maybeSpace() {
			if err := s.SkipSpace(); err != nil {
				return err
			}
		}
		if s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case ',':
				s.pos++
				if s.maybeSpace() {
					if err := s.SkipSpace(); err != nil {
						return err
					}
				}
				continue
			case close:
				s.pos++
				if s.maybeSpace() {
					return s.SkipSpace()
				}
				return nil
			}
		}
		_, err = s.Next(close)
		return err
	}
}

// maybeSpace reports whether white space may come next: the common case
// of none is a byte test, which inlines.
func (s *Scanner) maybeSpace() bool {
	return s.pos >= len(s.buf) || s.buf[s.pos] <= ' ' || s.buf[s.pos] >= 0x80
}

// skipPlain8 returns i moved past the runs of eight plain characters
// (plainChar) that start at b[i], the eight lookups of each run combined
// without branches; what follows is for the caller to read one byte at a
// time.
func skipPlain8(b []byte, i int) int {
	for i+8 <= len(b) {
		c := b[i : i+8 : i+8]
		if plainChar[c[0]]&plainChar[c[1]]&plainChar[c[2]]&plainChar[c[3]]&
			plainChar[c[4]]&plainChar[c[5]]&plainChar[c[6]]&plainChar[c[7]] == 0 {
			break
		}
		i += 8
	}
	return i
}

// plainChar marks the bytes a string holds as they are, with nothing to
// check: printable ASCII except '"' and '\\'.
var plainChar = func() (t [256]uint8) {
	for c := 0x20; c < 0x80; c++ {
		if c != '"' && c != '\\' {
			t[c] = 1
		}
	}
	return t
}()

// skipString validates a string like ReadString but keeps nothing.
func (s *Scanner) skipString() error {
	b := s.buf
	if s.pos >= len(b) || b[s.pos] != '"' {
		return ErrString
	}
	i := s.pos + 1
	for {
		// Plain characters, eight at a time, then one at a time.
		i = skipPlain8(b, i)
		for i < len(b) && plainChar[b[i]] != 0 {
			i++
		}
		if i >= len(b) {
			return ErrString
		}
		c := b[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return nil
		case c < 0x20:
			return ErrString
		case c == '\\':
			if i+1 >= len(b) {
				return ErrString
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return ErrString
				}
				for _, h := range b[i+2 : i+6] {
					if hs.DigitValue(h) > 15 {
						return ErrString
					}
				}
				i += 6
			default:
				return ErrString
			}
		default:
			_, n, err := s.char(i)
			if err != nil {
				return err
			}
			i += n
		}
	}
}

// SyntaxError is a parse error with the byte offset where it happened.
type SyntaxError struct {
	Offset int
	Err    error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("offset %d: %v", e.Offset, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// DecodeChar returns the first character of p, stored as the Scanner
// stores characters, and its length in bytes. An invalid byte is returned
// as the character of the same value, with length 1.
func DecodeChar(p []byte) (rune, int) {
	if len(p) == 0 {
		return 0, 0
	}
	if p[0] < 0x80 {
		return rune(p[0]), 1
	}
	r, n, err := decodeRune(p)
	if err != nil {
		return rune(p[0]), 1
	}
	return r, n
}

// Members reads the object that starts at the current position (no white
// space before its '{'), and the white space after it. For each member it
// reads the name into *key and calls member, which must read the value
// (or Skip it) and may return false to stop. Members returns false when
// the text is not an object, on any syntax error, or when member stopped.
// An empty object calls member never and returns true.
func (s *Scanner) Members(key *[]byte, member func(key []byte) bool) bool {
	if s.Peek() != '{' {
		return false
	}
	empty, err := s.BeginObject()
	if err != nil {
		return false
	}
	if empty {
		return true
	}
	for {
		*key, err = s.ReadKey((*key)[:0])
		if err != nil || !member(*key) {
			return false
		}
		more, err := s.Next('}')
		if err != nil {
			return false
		}
		if !more {
			return true
		}
	}
}
