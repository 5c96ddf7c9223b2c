package tjson

import "unsafe"

// MaxExponent bounds the exponent of a number literal. Text.JSON computes
// 10^e exactly, so the real server spends unbounded time and memory on
// "1e999999999"; goconfd refuses such a number instead.
const MaxExponent = 4096

// Int returns the integer Text.JSON reads from a number literal for an Int
// field: the exact value rounded half to even (Haskell's round on a
// Rational), wrapped to 64 bits as fromInteger does. "1.5" is 2, "0.4" is
// 0, "2.5" is 2, "1e0" is 1. It fails with ErrExponent for an exponent
// beyond ±MaxExponent, and with ErrNumber for what is not a JSON number.
// It never allocates.
func Int(lit []byte) (int64, error) {
	// Fast path: a plain integer that fits.
	if n, ok := plainInt(lit); ok {
		return n, nil
	}
	if len(lit) == 0 {
		return 0, ErrNumber
	}
	// The Decimal lives no longer than this call.
	d, ok := ParseDecimal(unsafe.String(&lit[0], len(lit)))
	switch {
	case !ok:
		return 0, ErrNumber
	case d.exp > MaxExponent || d.exp < -MaxExponent:
		return 0, ErrExponent
	}
	return d.RoundInt64(), nil
}

// plainInt parses -?[0-9]{1,18} without allocating.
func plainInt(lit []byte) (int64, bool) {
	neg := false
	d := lit
	if len(d) > 0 && d[0] == '-' {
		neg, d = true, d[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
