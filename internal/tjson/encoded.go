package tjson

import "bytes"

// Reading values in their compact encoding.
//
// A large document can be kept as the encodings of its parts instead of
// as trees (a tree takes several times the memory of its text). The
// functions here find a member or element inside such an encoding
// without decoding it. They take what AppendValue writes, and nothing
// else: no white space, strings with AppendString's escapes. Given other
// text they return nonsense, but never read out of bounds.

// EncodedKind returns the kind of the encoded value enc by its first
// byte: Object, Array, String, Bool, Null or Number.
func EncodedKind(enc []byte) Kind {
	if len(enc) == 0 {
		return Null
	}
	switch c := enc[0]; c {
	case '{':
		return Object
	case '[':
		return Array
	case '"':
		return String
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	}
	return Number
}

// EncodedMember returns the encoding of the value of the first member of
// the encoded object enc whose name is key (characters stored as the
// Scanner stores them), and whether there is one. It reports false when
// enc is not an object.
func EncodedMember(enc, key []byte) ([]byte, bool) {
	if len(enc) < 2 || enc[0] != '{' || enc[1] == '}' {
		return nil, false
	}
	i := 1
	for i < len(enc) {
		// The member's name.
		if enc[i] != '"' {
			return nil, false
		}
		end := skipEncodedString(enc, i)
		if end >= len(enc) || enc[end] != ':' {
			return nil, false
		}
		name := enc[i+1 : end-1]
		match := false
		if bytes.IndexByte(name, '\\') < 0 {
			match = bytes.Equal(name, key)
		} else {
			match = escapedEqual(enc[i:end], key)
		}
		i = end + 1 // past ':'
		vend := skipEncoded(enc, i)
		if match {
			return enc[i:min(vend, len(enc))], true
		}
		if vend >= len(enc) || enc[vend] != ',' {
			return nil, false
		}
		i = vend + 1
	}
	return nil, false
}

// EncodedElem returns the encoding of element n of the encoded array
// enc, and whether there is one. It reports false when enc is not an
// array.
func EncodedElem(enc []byte, n int64) ([]byte, bool) {
	if len(enc) < 2 || enc[0] != '[' || enc[1] == ']' || n < 0 {
		return nil, false
	}
	i := 1
	for k := int64(0); i < len(enc); k++ {
		end := skipEncoded(enc, i)
		if k == n {
			return enc[i:min(end, len(enc))], true
		}
		if end >= len(enc) || enc[end] != ',' {
			return nil, false
		}
		i = end + 1
	}
	return nil, false
}

// escapedEqual reports whether the encoded string s (quotes included)
// decodes to key.
func escapedEqual(s, key []byte) bool {
	var sc Scanner
	sc.Reset(s, false)
	var buf [128]byte
	name, err := sc.ReadString(buf[:0])
	return err == nil && bytes.Equal(name, key)
}

// skipEncodedString returns the index just past the encoded string that
// starts (with its '"') at i.
func skipEncodedString(enc []byte, i int) int {
	for i++; i < len(enc); i++ {
		switch enc[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(enc)
}

// skipEncoded returns the index just past the encoded value that starts
// at i.
func skipEncoded(enc []byte, i int) int {
	if i >= len(enc) {
		return len(enc)
	}
	switch enc[i] {
	case '"':
		return skipEncodedString(enc, i)
	case '{', '[':
		depth := 0
		for ; i < len(enc); i++ {
			switch enc[i] {
			case '"':
				i = skipEncodedString(enc, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(enc)
	}
	for ; i < len(enc); i++ {
		switch enc[i] {
		case ',', '}', ']':
			return i
		}
	}
	return len(enc)
}
