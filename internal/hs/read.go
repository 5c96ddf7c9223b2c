package hs

import "math/bits"

// Integer is an integer as Haskell's reads produced it, kept as a sign
// and a magnitude modulo 2^64: enough for an Int (which wraps, as
// fromInteger does) and to tell whether an Integer fits.
type Integer struct {
	Neg bool
	// Mag is the magnitude modulo 2^64.
	Mag uint64
	// Big is true when the magnitude is 2^64 or more.
	Big bool
}

// Int returns the value as Haskell's Int holds it: wrapped to 64 bits.
func (n Integer) Int() int64 {
	if n.Neg {
		return -int64(n.Mag)
	}
	return int64(n.Mag)
}

// Int64 returns the exact value and whether it fits in an int64.
func (n Integer) Int64() (int64, bool) {
	switch {
	case n.Big || n.Mag > 1<<63:
		return 0, false
	case n.Mag == 1<<63:
		return -1 << 63, n.Neg
	}
	return n.Int(), true
}

// Reads reads an integer from the start of s as Haskell's
// `reads :: ReadS Integer` does (GHC.Read, Text.Read.Lex) when it has one
// result: white space, optional parentheses (white space inside allowed),
// an optional "-" that is a token of its own ("--5" is not -(-5)), then a
// decimal, 0x/0X hexadecimal or 0o/0O octal literal. A decimal followed by
// a fraction or an exponent is a fractional token, which is no integer.
// rest is what follows, white space included.
func Reads[S ~string | ~[]byte](s S) (n Integer, rest S, ok bool) {
	t := TrimSpace(s)
	if len(t) > 0 && t[0] == '(' {
		n, r, ok := Reads(t[1:])
		if !ok {
			return Integer{}, s, false
		}
		r = TrimSpace(r)
		if len(r) == 0 || r[0] != ')' {
			return Integer{}, s, false
		}
		return n, r[1:], true
	}
	neg := false
	if sym := symbolRun(t); sym > 0 {
		if sym != 1 || t[0] != '-' {
			return Integer{}, s, false
		}
		neg = true
		t = TrimSpace(t[1:])
	}
	n, r, ok := lexInteger(t)
	if !ok {
		return Integer{}, s, false
	}
	n.Neg = neg && (n.Mag != 0 || n.Big)
	return n, r, true
}

// ReadFull is Ganeti's tryRead (src/Ganeti/Utils.hs): reads with nothing
// at all left over, not even white space.
func ReadFull[S ~string | ~[]byte](s S) (Integer, bool) {
	n, rest, ok := Reads(s)
	return n, ok && len(rest) == 0
}

// symbolRun is the length of the run of Haskell symbol characters at the
// start of t.
func symbolRun[S ~string | ~[]byte](t S) int {
	n := 0
	for n < len(t) && isSymbol(t[n]) {
		n++
	}
	return n
}

func isSymbol(c byte) bool {
	switch c {
	case '!', '@', '#', '$', '%', '&', '*', '+', '.', '/', '<', '=', '>', '?', '\\', '^', '|', ':', '-', '~':
		return true
	}
	return false
}

// lexInteger reads one integer number token from the start of t.
func lexInteger[S ~string | ~[]byte](t S) (Integer, S, bool) {
	if len(t) >= 3 && t[0] == '0' {
		base := uint64(0)
		switch t[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		}
		if base != 0 {
			n, i := accumulate(t, 2, base)
			if i > 2 {
				return n, t[i:], true
			}
		}
	}
	n, i := accumulate(t, 0, 10)
	if i == 0 {
		return Integer{}, t, false
	}
	r := t[i:]
	if len(r) >= 2 && r[0] == '.' && isDigit(r[1]) {
		return Integer{}, t, false
	}
	if len(r) >= 2 && (r[0] == 'e' || r[0] == 'E') {
		x := r[1:]
		if x[0] == '+' || x[0] == '-' {
			x = x[1:]
		}
		if len(x) > 0 && isDigit(x[0]) {
			return Integer{}, t, false
		}
	}
	return n, r, true
}

// accumulate reads the digits of base from t[i:] and returns the value
// and the index after them.
func accumulate[S ~string | ~[]byte](t S, i int, base uint64) (Integer, int) {
	var n Integer
	for ; i < len(t); i++ {
		d := DigitValue(t[i])
		if d >= base {
			break
		}
		hi, lo := bits.Mul64(n.Mag, base)
		lo, carry := bits.Add64(lo, d, 0)
		n.Mag = lo
		if hi != 0 || carry != 0 {
			n.Big = true
		}
	}
	return n, i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// DigitValue is c's value as a digit of a base up to 16 ('0'-'9',
// 'a'-'f', 'A'-'F', as Data.Char's digitToInt), or 255 when c is none of
// them: the digits of a base are the bytes whose value is below it. The
// one reader of digits for Haskell's reads, C's strtoul (internal/daemon)
// and JSON's \uXXXX escapes (internal/tjson).
func DigitValue(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 255
}
