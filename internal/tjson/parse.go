package tjson

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Options say how Parse reads a text.
type Options struct {
	// Latin1 reads every byte as one character, as Ganeti reads a
	// datagram. Otherwise the text is UTF-8, as config.data is read.
	Latin1 bool
	// Container requires the text to be an object or an array, as
	// Text.JSON's decodeStrict does (config.data); otherwise any value is
	// accepted, as decode does (datagrams).
	Container bool
	// RawDepth, when positive, stops building the tree at that depth
	// (the top level is depth 0): every array or object nested exactly
	// RawDepth deep is checked as thoroughly as the rest, with the same
	// errors at the same offsets, but comes back as a Raw value holding
	// its text (without the white space after it), to be parsed later
	// or not at all. A large document is thus read in two steps without
	// ever holding its whole tree. A Raw value's Aux is its number, in
	// document order, from 0.
	RawDepth int
	// RawKnown, when set, is called once with the text of every Raw
	// container, in document order; it returns true when the caller has
	// seen these exact bytes pass the check before, at the same depth, in
	// which case they are not checked again. The text is found by
	// matching brackets and given to RawKnown before the check (text that
	// does not check out can only be mistaken for text that does if it is
	// the same bytes); when the brackets do not match, the container is
	// checked first and RawKnown is called after, if it passed.
	RawKnown func(text string) bool
	// RawGuess, when set with RawKnown, is asked first for the length of
	// each Raw container, given the rest of the text from its first byte:
	// it returns the length of a container text that the rest begins
	// with and that the caller has seen pass the check (verified, by a
	// hash say), or 0 to have the brackets matched. Either way RawKnown
	// then decides.
	RawGuess func(rest string) int
	// Depth is the depth of the text's value within its document, which
	// counts toward MaxDepth: a container cut out of a larger text is
	// read again as it was read there.
	Depth int
}

// Parse reads one JSON text as Text.JSON does: no white space before it,
// white space after it only where Text.JSON's container parsers swallow it
// (after a closing bracket), nothing else after it.
//
// The result does not share memory with data: data is copied once into a
// string, and the strings of the result are cut from that copy.
func Parse(data []byte, opt Options) (Value, error) {
	return parse(data, string(data), opt)
}

// ParseString is Parse for a text already held in a string, which it does
// not copy: the strings of the result that need no unescaping are cut
// from text, so they keep text alive. For a large document read from a
// file (config.data) this saves a copy of the file and one allocation per
// string.
func ParseString(text string, opt Options) (Value, error) {
	// The scanner only reads its buffer, so viewing the string's bytes
	// is safe.
	return parse(unsafe.Slice(unsafe.StringData(text), len(text)), text, opt)
}

// parse reads data, whose bytes are those of src.
func parse(data []byte, src string, opt Options) (Value, error) {
	var p parser
	return p.parse(data, src, opt)
}

// Parser parses many texts one after the other, reusing its memory: the
// tree that one call returns is valid only until the next call, which
// overwrites it. Reading the thousands of small objects of a large
// document this way allocates almost nothing.
type Parser struct {
	p parser
}

// ParseString is the package's ParseString, with the result valid until
// the next call.
func (pp *Parser) ParseString(text string, opt Options) (Value, error) {
	p := &pp.p
	p.valSlabs.recycle()
	p.memSlabs.recycle()
	p.vals, p.mems = p.vals[:0], p.mems[:0]
	return p.parse(unsafe.Slice(unsafe.StringData(text), len(text)), text, opt)
}

// parse reads data, whose bytes are those of src, with p.
func (p *parser) parse(data []byte, src string, opt Options) (Value, error) {
	p.src = src
	p.rawDepth = opt.RawDepth
	p.rawKnown = opt.RawKnown
	p.rawGuess = opt.RawGuess
	p.rawCount = 0
	s := &p.s
	s.Reset(data, opt.Latin1)
	if opt.Container {
		if c := s.Peek(); c != '{' && c != '[' {
			return Value{}, &SyntaxError{0, ErrTopLevel}
		}
	}
	v, err := p.value(opt.Depth)
	if err != nil {
		return Value{}, &SyntaxError{s.Pos(), err}
	}
	if !s.AtEnd() {
		return Value{}, &SyntaxError{s.Pos(), ErrTrailing}
	}
	return v, nil
}

// parser builds a Value tree. Its costs are per container, not per
// element: the elements and members of an open container are collected on
// a scratch stack shared by all levels, and copied, when the container
// closes, into a slice of exactly their number cut from a larger slab.
// Strings and number literals that need no decoding are cut from the
// source text. A 50 MB config.data thus takes a few thousand allocations
// instead of millions, and no memory is lost to growing slices.
type parser struct {
	s   Scanner
	src string
	// rawDepth and rawKnown are Options.RawDepth and RawKnown; rawCount
	// counts the Raw values read.
	rawDepth int
	rawKnown func(string) bool
	rawGuess func(string) int
	rawCount uint32
	// buf holds the characters of a string that needs unescaping.
	buf []byte

	vals []Value  // elements of the open arrays
	mems []Member // members of the open objects

	// The slices of the finished arrays and objects.
	valSlabs slabs[Value]
	memSlabs slabs[Member]
}

// Slab sizes grow from minChunk to maxChunk elements, so that a small text
// (a datagram) costs little and a large one few allocations. Slabs are not
// shared between parses.
const (
	minChunk = 8
	maxChunk = 1024
)

// slabs hands out slices of exactly the asked length cut from larger
// slabs.
type slabs[T any] struct {
	slab  []T
	chunk int
	// reuse is set by recycle (Parser): slabs are then all maxChunk
	// long, and kept (used) to be handed out again (free) by the next
	// parse.
	reuse      bool
	used, free [][]T
}

// alloc returns a slice of n elements with capacity n.
func (a *slabs[T]) alloc(n int) []T {
	if n > len(a.slab) {
		switch {
		case a.reuse && n < maxChunk/2:
			if k := len(a.free); k > 0 {
				a.slab = a.free[k-1]
				a.free = a.free[:k-1]
			} else {
				a.slab = make([]T, maxChunk)
			}
			a.used = append(a.used, a.slab)
		default:
			a.chunk = min(max(2*a.chunk, minChunk), maxChunk)
			if n >= a.chunk/2 {
				return make([]T, n)
			}
			a.slab = make([]T, a.chunk)
		}
	}
	s := a.slab[:n:n]
	a.slab = a.slab[n:]
	return s
}

// recycle makes every slab handed out so far free for the slices of the
// next parse, which overwrite those of this one.
func (a *slabs[T]) recycle() {
	a.reuse = true
	a.free = append(a.free, a.used...)
	a.used = a.used[:0]
	a.slab = nil
}

// str reads a string at the current position. A string without escapes
// (and, when reading Latin-1, without bytes above 0x7F) is its own text,
// which is cut from the source; others are decoded by ReadString.
func (p *parser) str() (string, error) {
	s := &p.s
	b := s.buf
	if s.pos < len(b) && b[s.pos] == '"' {
		i := s.pos + 1
	fast:
		for i < len(b) {
			i = skipPlain8(b, i) // eight plain characters at a time
			if i >= len(b) {
				break
			}
			switch c := b[i]; {
			case c == '"':
				str := p.src[s.pos+1 : i]
				s.pos = i + 1
				return str, nil
			case c < 0x20 || c == '\\':
				break fast
			case c < utf8.RuneSelf:
				i++
			case s.latin1:
				break fast
			default:
				// Valid UTF-8 (surrogates included) decodes to the
				// same bytes; anything else is ReadString's error.
				_, n, err := decodeRune(b[i:])
				if err != nil {
					break fast
				}
				i += n
			}
		}
	}
	var err error
	p.buf, err = s.ReadString(p.buf[:0])
	if err != nil {
		return "", err
	}
	return string(p.buf), nil
}

// space skips white space; most texts have little, so the common case is
// one comparison.
func (p *parser) space() error {
	s := &p.s
	if s.pos < len(s.buf) {
		if c := s.buf[s.pos]; c > ' ' && c < 0x80 {
			return nil
		}
	}
	return s.SkipSpace()
}

// next is Scanner.Next with the white space check inlined.
func (p *parser) next(close byte) (more bool, err error) {
	s := &p.s
	if err := p.space(); err != nil {
		return false, err
	}
	if s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ',':
			s.pos++
			return true, p.space()
		case close:
			s.pos++
			return false, p.space()
		}
	}
	return s.Next(close)
}

// scalar reads a null, boolean, number or string into *dst; it reports
// false, reading nothing, for an array or object.
func (p *parser) scalar(dst *Value) (bool, error) {
	s := &p.s
	if s.pos >= len(s.buf) {
		return true, ErrEOF
	}
	switch c := s.buf[s.pos]; {
	case c == '"':
		str, err := p.str()
		*dst = Value{Kind: String, Str: str}
		return true, err
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.pos
		if _, err := s.ReadNumber(); err != nil {
			return true, err
		}
		*dst = Value{Kind: Number, Str: p.src[start:s.pos]}
		return true, nil
	case c == 't' || c == 'f':
		b, err := s.ReadBool()
		*dst = Value{Kind: Bool, Bool: b}
		return true, err
	case c == 'n':
		*dst = Value{}
		return true, s.ReadNull()
	case c == '[' || c == '{':
		return false, nil
	}
	return true, ErrToken
}

func (p *parser) value(depth int) (Value, error) {
	s := &p.s
	k, err := s.PeekKind()
	if err != nil {
		return Value{}, err
	}
	switch k {
	case Null:
		return Value{}, s.ReadNull()
	case Bool:
		b, err := s.ReadBool()
		return Value{Kind: Bool, Bool: b}, err
	case Number:
		start := s.pos
		if _, err := s.ReadNumber(); err != nil {
			return Value{}, err
		}
		return Value{Kind: Number, Str: p.src[start:s.pos]}, nil
	case String:
		str, err := p.str()
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: String, Str: str}, nil
	}
	if depth >= MaxDepth {
		return Value{}, ErrDepth
	}
	if depth == p.rawDepth && depth > 0 {
		return p.raw(depth)
	}
	if k == Array {
		empty, err := s.BeginArray()
		if err != nil || empty {
			return Value{Kind: Array}, err
		}
		base := len(p.vals)
		for {
			// A scalar goes straight into its slot; a container may grow
			// the stack while it is read, so it is stored afterwards.
			p.vals = append(p.vals, Value{})
			done, err := p.scalar(&p.vals[len(p.vals)-1])
			if err != nil {
				return Value{}, err
			}
			if !done {
				i := len(p.vals) - 1
				v, err := p.value(depth + 1)
				if err != nil {
					return Value{}, err
				}
				p.vals[i] = v
			}
			more, err := p.next(']')
			if err != nil {
				return Value{}, err
			}
			if !more {
				arr := p.valSlabs.alloc(len(p.vals) - base)
				copy(arr, p.vals[base:])
				p.vals = p.vals[:base]
				return Value{Kind: Array, Arr: arr}, nil
			}
		}
	}
	empty, err := s.BeginObject()
	if err != nil || empty {
		return Value{Kind: Object}, err
	}
	base := len(p.mems)
	for {
		key, err := p.str()
		if err != nil {
			return Value{}, err
		}
		if err := p.space(); err != nil {
			return Value{}, err
		}
		if err := s.Expect(':'); err != nil {
			return Value{}, err
		}
		if err := p.space(); err != nil {
			return Value{}, err
		}
		p.mems = append(p.mems, Member{Key: key})
		done, err := p.scalar(&p.mems[len(p.mems)-1].Val)
		if err != nil {
			return Value{}, err
		}
		if !done {
			i := len(p.mems) - 1
			v, err := p.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			p.mems[i].Val = v
		}
		more, err := p.next('}')
		if err != nil {
			return Value{}, err
		}
		if !more {
			obj := p.memSlabs.alloc(len(p.mems) - base)
			copy(obj, p.mems[base:])
			p.mems = p.mems[:base]
			return Value{Kind: Object, Obj: obj}, nil
		}
	}
}

// raw reads the container at the current position, nested depth deep, as
// a Raw value (Options.RawDepth).
func (p *parser) raw(depth int) (Value, error) {
	s := &p.s
	start := s.pos
	n := p.rawCount
	p.rawCount++
	asked := false
	if p.rawKnown != nil {
		end, ok := 0, false
		// A length the caller proposes (it verified the bytes), else
		// the brackets' count.
		if p.rawGuess != nil {
			if g := p.rawGuess(p.src[start:]); g > 0 && g <= len(p.src)-start {
				end, ok = start+g, true
			}
		}
		if !ok {
			end, ok = matchBrackets(s.buf, start)
		}
		if ok {
			text := p.src[start:end]
			asked = true
			if p.rawKnown(text) {
				s.pos = end
				if s.maybeSpace() {
					if err := s.SkipSpace(); err != nil {
						return Value{}, err
					}
				}
				return Value{Kind: Raw, Str: text, Aux: n}, nil
			}
		}
	}
	if err := s.skip(depth); err != nil {
		return Value{}, err
	}
	// The text ends at the closing bracket: white space cannot hold one.
	text := p.src[start:s.pos]
	if i := strings.LastIndexAny(text, "]}"); i >= 0 {
		text = text[:i+1]
	}
	if p.rawKnown != nil && !asked {
		p.rawKnown(text)
	}
	return Value{Kind: Raw, Str: text, Aux: n}, nil
}

// matchBrackets returns the end of the array or object that starts at
// b[start], found by counting brackets outside strings, without checking
// anything else; ok is false when the brackets do not balance.
//
// It looks at eight bytes at a time: a word's bytes that matter (quotes
// and brackets outside strings, quotes and backslashes inside) are found
// with the zero-byte test on the word xored with each, and the first of
// them by counting trailing zeros.
func matchBrackets(b []byte, start int) (end int, ok bool) {
	depth := 0
	i := start
	inString := false
	for i < len(b) {
		var m uint64
		if i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if inString {
				m = zeroBytes(w^('"'*lo8)) | zeroBytes(w^('\\'*lo8))
			} else {
				// '[' and ']' are '{' and '}' without bit 0x20, and no
				// other byte is.
				u := w | 0x20*lo8
				m = zeroBytes(w^('"'*lo8)) | zeroBytes(u^('{'*lo8)) | zeroBytes(u^('}'*lo8))
			}
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		c := b[i]
		i++
		switch {
		case inString:
			switch c {
			case '"':
				inString = false
			case '\\':
				i++ // the escaped character
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i, true
			}
			if depth < 0 {
				return 0, false
			}
		}
	}
	return 0, false
}

// lo8 has the low bit of each byte set.
const lo8 = 0x0101010101010101

// zeroBytes has the high bit of the first zero byte of v set (and maybe
// of bytes after it, never before): the classic zero-byte test, exact
// for the lowest one.
func zeroBytes(v uint64) uint64 {
	return (v - lo8) &^ v & (0x80 * lo8)
}
