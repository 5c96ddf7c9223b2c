// Package hs reproduces the few Haskell Prelude behaviours that Ganeti's
// daemons expose to their peers, so that goconfd answers and refuses
// exactly as they do: Data.Char.isSpace, show of a String (error answers
// quote names that way), reads of an integer (request salts, IPv4
// parts, netmasks and watermarks in config.data are read that way), and
// the text of an IOError (IOError: the daemon's startup failures and the
// config's unavailable answers are worded that way).
package hs

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// IsSpace is Data.Char.isSpace: the ASCII white space (space, \t \n \v
// \f \r), U+00A0, and the Unicode space separators.
func IsSpace(r rune) bool {
	switch {
	case r == ' ' || (r >= '\t' && r <= '\r') || r == 0xA0:
		return true
	case r < 0x100:
		return false
	}
	return unicode.Is(unicode.Zs, r)
}

// decode returns the character at s[i] and its length; an invalid byte is
// returned as itself.
func decode[S ~string | ~[]byte](s S, i int) (rune, int) {
	if s[i] < utf8.RuneSelf {
		return rune(s[i]), 1
	}
	var buf [utf8.UTFMax]byte
	n := copy(buf[:], s[i:])
	r, size := utf8.DecodeRune(buf[:n])
	if r == utf8.RuneError && size <= 1 {
		return rune(s[i]), 1
	}
	return r, size
}

// TrimSpace drops the white space at the start of s, as Haskell's lexer
// skips it before every token.
func TrimSpace[S ~string | ~[]byte](s S) S {
	for i := 0; i < len(s); {
		r, n := decode(s, i)
		if !IsSpace(r) {
			return s[i:]
		}
		i += n
	}
	return s[len(s):]
}

// asciiNames are Haskell's names for the control characters, as show
// prints them (GHC.Show.asciiTab, with \a \b \t \n \v \f \r short).
var asciiNames = [32]string{
	"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "a",
	"b", "t", "n", "v", "f", "r", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
	"CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
}

// ShowString returns s as Haskell's show prints a String: in double
// quotes, with '"' and '\' escaped, control characters by name (\n,
// \SOH, \DEL), everything above '~' as a decimal escape (\233), and "\&"
// where the next character would otherwise extend an escape. Ganeti's
// error answers embed names this way (OpPrereqError "Node name x not
// found" ECodeNoEnt).
//
// s holds UTF-8; encoded surrogates (ED A0..BF xx, as goconfd's JSON
// reader stores a lone \uD83D) are shown as their code point, as Haskell
// holds them.
func ShowString(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); {
		r, n := decodeChar(s, i)
		i += n
		var next rune = -1
		if i < len(s) {
			next, _ = decodeChar(s, i)
		}
		switch {
		case r == '"':
			out = append(out, '\\', '"')
		case r == '\\':
			out = append(out, '\\', '\\')
		case r >= ' ' && r < 0x7F:
			out = append(out, byte(r))
		case r == 0x7F:
			out = append(out, `\DEL`...)
		case r < ' ':
			out = append(out, '\\')
			out = append(out, asciiNames[r]...)
			// "\SO" followed by 'H' would read as "\SOH".
			if r == 0x0E && next == 'H' {
				out = append(out, `\&`...)
			}
		default:
			out = append(out, '\\')
			out = strconv.AppendInt(out, int64(r), 10)
			if next >= '0' && next <= '9' {
				out = append(out, `\&`...)
			}
		}
	}
	return string(append(out, '"'))
}

// decodeChar is decode that also accepts encoded surrogates.
func decodeChar(s string, i int) (rune, int) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	}
	return decode(s, i)
}
