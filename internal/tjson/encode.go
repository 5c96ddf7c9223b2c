package tjson

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way Text.JSON writes it (")
// and \ escaped, control characters as \b \f \n \r \t or \u00xx, '/' not
// escaped), with one deliberate difference: every character above U+007F
// is written as a \uxxxx escape (a surrogate pair above U+FFFF), so the
// output is ASCII. The 3.0 server writes such characters raw and
// truncated to 8 bits while signing their UTF-8 form, which no client can
// verify (docs/protocol.md §1.5).
//
// s holds characters as the Scanner stores them (UTF-8, surrogates
// allowed); an invalid byte is written as the character of the same value.
func AppendString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight characters at a time while none needs escaping (most
		// strings of a config need none).
		for i+8 <= len(s) {
			_ = s[i+7]
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if needsEscape(w) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20:
			dst = appendControl(dst, c)
			i++
		default:
			r, n, err := decodeRune([]byte(s[i:min(i+4, len(s))]))
			if err != nil {
				r, n = rune(c), 1
			}
			dst = AppendUnicodeEscape(dst, r)
			i += n
		}
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// needsEscape reports whether one of the eight bytes of w may need
// escaping: below 0x20, '"', '\\' or above 0x7F. (A byte-wise test
// without carries between bytes: it may report a byte that is fine, never
// miss one that is not.)
func needsEscape(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	below := (w - 0x20*lo) & ^w & hi
	return (w&hi)|below|hasZero(w^('"'*lo))|hasZero(w^('\\'*lo)) != 0
}

func appendControl(dst []byte, c byte) []byte {
	switch c {
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// AppendUnicodeEscape appends r as a JSON \uxxxx escape with lower-case
// hex digits, as a surrogate pair when r is above U+FFFF. It is the one
// writer of such escapes (AppendString, the client's ASCII re-encoding,
// the cluster generator).
func AppendUnicodeEscape(dst []byte, r rune) []byte {
	if r >= 0x10000 {
		r -= 0x10000
		dst = appendU16(dst, 0xD800+(r>>10))
		return appendU16(dst, 0xDC00+(r&0x3FF))
	}
	return appendU16(dst, r)
}

func appendU16(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}

// AppendValue appends v as compact JSON: no white space, object members in
// their stored order, numbers as their literal text.
func AppendValue(dst []byte, v *Value) []byte {
	return appendValue(dst, v, -1)
}

// AppendValueLimit is AppendValue with a budget: once dst is longer than
// limit bytes it stops early, and the result is then incomplete and longer
// than limit. Encoding a value that cannot be sent anyway (a pointer
// query naming the whole instance map) costs at most about limit bytes.
func AppendValueLimit(dst []byte, v *Value, limit int) []byte {
	return appendValue(dst, v, limit)
}

// appendValue encodes v; limit < 0 means no limit.
func appendValue(dst []byte, v *Value, limit int) []byte {
	switch v.Kind {
	case Null:
		return append(dst, "null"...)
	case Bool:
		if v.Bool {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Number:
		return append(dst, v.Str...)
	case String:
		return AppendString(dst, v.Str)
	case Array:
		dst = append(dst, '[')
		for i := range v.Arr {
			if limit >= 0 && len(dst) > limit {
				return dst
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, &v.Arr[i], limit)
		}
		return append(dst, ']')
	case Object:
		dst = append(dst, '{')
		for i := range v.Obj {
			if limit >= 0 && len(dst) > limit {
				return dst
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, v.Obj[i].Key)
			dst = append(dst, ':')
			dst = appendValue(dst, &v.Obj[i].Val, limit)
		}
		return append(dst, '}')
	case Encoded:
		if limit >= 0 && len(dst)+len(v.Str) > limit {
			// Only enough to pass the limit: the result is dropped.
			return append(dst, v.Str[:max(0, min(len(v.Str), limit+1-len(dst)))]...)
		}
		return append(dst, v.Str...)
	}
	return append(dst, "null"...)
}

// Marshal returns v as compact JSON (see AppendValue).
func Marshal(v *Value) []byte {
	return AppendValue(nil, v)
}

// AppendStandardUTF8 appends s to dst with every surrogate pair (stored as
// two three-byte sequences, see AppendChar) combined into the four-byte
// UTF-8 sequence of its character. That is the text a standard JSON
// decoder produces from the \uXXXX escapes AppendString writes, so it is
// what clients sign and verify. Lone surrogates are kept as they are.
func AppendStandardUTF8(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		if s[i] == 0xED && i+6 <= len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xAF && s[i+3] == 0xED && s[i+4] >= 0xB0 && s[i+4] <= 0xBF {
			hi, _, _ := decodeRune(s[i : i+3])
			lo, _, _ := decodeRune(s[i+3 : i+6])
			dst = AppendChar(dst, 0x10000+(hi-0xD800)<<10+(lo-0xDC00))
			i += 6
			continue
		}
		dst = append(dst, s[i])
		i++
	}
	return dst
}

// HasSurrogates reports whether s holds an encoded surrogate (a byte 0xED
// followed by 0xA0..0xBF), the only case where AppendStandardUTF8 changes
// anything.
func HasSurrogates(s []byte) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 0xED && s[i+1] >= 0xA0 {
			return true
		}
	}
	return false
}
