package tjson

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way Text.JSON writes it (")
// and \ escaped, control characters as \b \f \n \r \t or \u00xx, '/' not
// escaped), with one deliberate difference: every character above U+007F
// is written as a \uxxxx escape (a surrogate pair above U+FFFF), so the
// output is ASCII. The 3.0 server writes such characters raw and
// truncated to 8 bits while signing their UTF-8 form, which no client can
// verify (PROTOCOL.md §1.5).
//
// s holds characters as the Scanner stores them (UTF-8, surrogates
// allowed); an invalid byte is written as the character of the same value.
func AppendString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
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
			dst = appendUnicodeEscape(dst, r)
			i += n
		}
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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

func appendUnicodeEscape(dst []byte, r rune) []byte {
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
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendValue(dst, &v.Arr[i])
		}
		return append(dst, ']')
	case Object:
		dst = append(dst, '{')
		for i := range v.Obj {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, v.Obj[i].Key)
			dst = append(dst, ':')
			dst = AppendValue(dst, &v.Obj[i].Val)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// Marshal returns v as compact JSON (see AppendValue).
func Marshal(v *Value) []byte {
	return AppendValue(nil, v)
}
