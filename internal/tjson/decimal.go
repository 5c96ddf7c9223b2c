package tjson

import "unsafe"

// Decimal is a JSON number literal read exactly, as Text.JSON reads every
// number (an exact Rational). It keeps the literal's own integer and
// fraction digits (parts of it, not copies) and its exponent, so reading
// one never allocates, and all arithmetic on it is done digit by digit.
// It is the one implementation of Haskell's round on a number read from
// JSON, for Int (the request decoder, the client, the config's Int
// fields) and for Integer (the config's unbounded fields).
type Decimal struct {
	// The value is (-1)^neg × the integer whose digits are intDigits
	// followed by fracDigits × 10^(exp − len(fracDigits)).
	neg                   bool
	intDigits, fracDigits string
	// exp is the literal's exponent, saturated at ±maxExp.
	exp int64
}

// maxExp saturates the exponents ParseDecimal reads: far beyond every
// range anything computes with (MaxExponent, Integer texts of a few
// thousand digits, doubles), and far from overflowing when added to a
// digit count.
const maxExp = 1 << 40

// ParseDecimal reads a JSON number literal,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, exactly; ok is false
// for anything else. The Decimal refers to lit's memory.
func ParseDecimal(lit string) (d Decimal, ok bool) {
	i := 0
	if i < len(lit) && lit[i] == '-' {
		d.neg = true
		i++
	}
	start := i
	switch {
	case i < len(lit) && lit[i] == '0':
		i++
	case i < len(lit) && lit[i] >= '1' && lit[i] <= '9':
		i = skipDigits(lit, i)
	default:
		return Decimal{}, false
	}
	d.intDigits = lit[start:i]
	if i < len(lit) && lit[i] == '.' {
		start = i + 1
		i = skipDigits(lit, start)
		if i == start {
			return Decimal{}, false
		}
		d.fracDigits = lit[start:i]
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		eneg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			eneg = lit[i] == '-'
			i++
		}
		start = i
		for ; i < len(lit) && isDigit(lit[i]); i++ {
			if d.exp < maxExp {
				d.exp = d.exp*10 + int64(lit[i]-'0')
			}
		}
		if i == start {
			return Decimal{}, false
		}
		d.exp = min(d.exp, maxExp)
		if eneg {
			d.exp = -d.exp
		}
	}
	if i != len(lit) {
		return Decimal{}, false
	}
	return d, true
}

func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numDigits is the number of significand digits, intDigits then
// fracDigits.
func (d *Decimal) numDigits() int64 { return int64(len(d.intDigits) + len(d.fracDigits)) }

// digit returns significand digit i (0 <= i < numDigits) as a number.
func (d *Decimal) digit(i int64) uint64 {
	if n := int64(len(d.intDigits)); i >= n {
		return uint64(d.fracDigits[i-n] - '0')
	}
	return uint64(d.intDigits[i] - '0')
}

// point is the number of significand digits before the decimal point
// once the exponent is applied: the value is 0.d₀d₁…×10^point. It may be
// negative (zeros after the point) or beyond numDigits (zeros before it).
func (d *Decimal) point() int64 { return int64(len(d.intDigits)) + d.exp }

// zeroFrom reports whether significand digits i and later are all zero.
func (d *Decimal) zeroFrom(i int64) bool {
	for i = max(i, 0); i < d.numDigits(); i++ {
		if d.digit(i) != 0 {
			return false
		}
	}
	return true
}

// IsZero reports whether d is zero ("-0.0e5" is).
func (d Decimal) IsZero() bool { return d.zeroFrom(0) }

// Sign returns -1, 0 or +1 as d is negative, zero or positive.
func (d Decimal) Sign() int {
	switch {
	case d.IsZero():
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// IsIntegral reports whether d is a whole number (a Rational whose
// denominator is 1).
func (d Decimal) IsIntegral() bool { return d.zeroFrom(d.point()) }

// roundsAway reports whether rounding d half to even moves its magnitude
// up from its integer part, whose last digit is odd when odd is true.
func (d *Decimal) roundsAway(odd bool) bool {
	p := d.point()
	if p < 0 || p >= d.numDigits() {
		// Below 0.1 in magnitude, or whole.
		return false
	}
	switch first := d.digit(p); {
	case first > 5:
		return true
	case first < 5:
		return false
	case !d.zeroFrom(p + 1):
		return true
	}
	return odd // a tie: to even
}

// RoundInt64 is Haskell's round :: Rational -> Int: the nearest integer,
// ties to even, wrapped to 64 bits as fromInteger does. "1.5" is 2,
// "2.5" is 2, "-0.5000001" is -1, "18446744073709551617" is 1.
func (d Decimal) RoundInt64() int64 {
	p := d.point()
	var u uint64
	for i := range min(max(p, 0), d.numDigits()) {
		u = u*10 + d.digit(i)
	}
	if p > d.numDigits() {
		// 10^64 is a multiple of 2^64: from there on the low 64 bits are 0.
		if p-d.numDigits() >= 64 {
			return 0
		}
		for range p - d.numDigits() {
			u *= 10
		}
	}
	// The low bit of u is the integer part's (2^64 is even).
	if d.roundsAway(u&1 == 1) {
		u++
	}
	if d.neg {
		u = -u
	}
	return int64(u)
}

// RoundIntegerText is Haskell's round :: Rational -> Integer, written in
// decimal: the nearest integer, ties to even, unbounded. ok is false when
// d's integer part has more than maxDigits digits, so that a literal
// like 1e1000000000 is refused rather than written out.
func (d Decimal) RoundIntegerText(maxDigits int) (text string, ok bool) {
	p := min(max(d.point(), 0), d.numDigits())
	// The integer part's digits: the significand's before the point,
	// without leading zeros, then zeros up to the point.
	first := int64(0)
	for first < p && d.digit(first) == 0 {
		first++
	}
	zeros := max(d.point()-d.numDigits(), 0)
	n := p - first + zeros
	if n > int64(maxDigits) {
		return "", false
	}
	// b is a sign, a spare digit for a carry, then the integer part.
	b := make([]byte, 2, n+2)
	b[0], b[1] = '-', '0'
	for i := first; i < p; i++ {
		b = append(b, byte('0'+d.digit(i)))
	}
	for range zeros {
		b = append(b, '0')
	}
	if d.roundsAway((b[len(b)-1]-'0')%2 == 1) {
		i := len(b) - 1
		for b[i] == '9' {
			b[i] = '0'
			i--
		}
		b[i]++
	}
	j := 1
	for j < len(b) && b[j] == '0' {
		j++
	}
	switch {
	case j == len(b):
		return "0", true
	case d.neg:
		j--
		b[j] = '-'
	}
	b = b[j:]
	return unsafe.String(&b[0], len(b)), true
}
