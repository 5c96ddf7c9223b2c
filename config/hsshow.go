package config

import (
	"strconv"

	"github.com/goconfd/goconfd/internal/tjson"
)

// asciiNames are Haskell's names for the control characters, as show
// prints them (GHC.Show.asciiTab).
var asciiNames = [32]string{
	"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "a",
	"b", "t", "n", "v", "f", "r", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
	"CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
}

// HaskellShowString returns s as Haskell's show prints a String: in double
// quotes, with '"' and '\' escaped, control characters by name (\n, \SOH,
// \DEL), everything above '~' as a decimal escape (\233), and "\&" where
// the next character would otherwise extend an escape. Ganeti's error
// answers embed names this way (e.g. OpPrereqError "Node name x not
// found" ECodeNoEnt), so goconfd must print them the same.
//
// s holds characters as tjson stores them (UTF-8, surrogates allowed).
func HaskellShowString(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	b := []byte(s)
	for i := 0; i < len(b); {
		r, n := tjson.DecodeChar(b[i:])
		i += n
		var next rune = -1
		if i < len(b) {
			next, _ = tjson.DecodeChar(b[i:])
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
