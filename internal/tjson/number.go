package tjson

import (
	"math/big"
	"strconv"
)

// MaxExponent bounds the exponent of a number literal. Text.JSON computes
// 10^e exactly, so the real server spends unbounded time and memory on
// "1e999999999"; goconfd refuses such a number instead.
const MaxExponent = 4096

// Int returns the integer Text.JSON reads from a number literal for an Int
// field: the exact value rounded half to even (Haskell's round on a
// Rational), wrapped to 64 bits as fromInteger does. "1.5" is 2, "0.4" is
// 0, "2.5" is 2, "1e0" is 1.
func Int(lit []byte) (int64, error) {
	// Fast path: a plain integer that fits.
	if n, ok := plainInt(lit); ok {
		return n, nil
	}
	if n, ok, err := farInt(lit); ok || err != nil {
		return n, err
	}
	r, err := Rat(lit)
	if err != nil {
		return 0, err
	}
	return roundHalfEven(r), nil
}

// farInt settles, without big arithmetic, the literals whose exponent
// puts them far from any integer that matters: digits × 10^k with
// k < -len(digits) is below 0.1 in magnitude and rounds to 0, and with
// k >= 64 it is a multiple of 2^64 and wraps to 0. ok is false when the
// literal needs exact arithmetic. A datagram full of "1e-4096" thus costs
// no more than one full of "1".
func farInt(lit []byte) (n int64, ok bool, err error) {
	e := -1
	for i, c := range lit {
		if c == 'e' || c == 'E' {
			e = i
			break
		}
	}
	if e < 0 {
		return 0, false, nil
	}
	exp, perr := strconv.ParseInt(string(lit[e+1:]), 10, 64)
	if perr != nil || exp > MaxExponent || exp < -MaxExponent {
		return 0, false, ErrExponent
	}
	// Significant digits and the position of the decimal point.
	digits, frac := 0, 0
	seenDot, leading := false, true
	for _, c := range lit[:e] {
		switch {
		case c == '.':
			seenDot = true
		case c >= '0' && c <= '9':
			if seenDot {
				frac++
			}
			if leading && c == '0' {
				continue
			}
			leading = false
			digits++
		}
	}
	if digits == 0 {
		return 0, true, nil // zero
	}
	k := exp - int64(frac)
	if k < -int64(digits) || k >= 64 {
		return 0, true, nil
	}
	return 0, false, nil
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

// Rat returns the exact value of a number literal read by ReadNumber.
func Rat(lit []byte) (*big.Rat, error) {
	mant := lit
	exp := int64(0)
	for i, c := range lit {
		if c == 'e' || c == 'E' {
			mant = lit[:i]
			e, err := strconv.ParseInt(string(lit[i+1:]), 10, 64)
			if err != nil || e > MaxExponent || e < -MaxExponent {
				return nil, ErrExponent
			}
			exp = e
			break
		}
	}
	r, ok := new(big.Rat).SetString(string(mant))
	if !ok {
		return nil, ErrNumber
	}
	if exp != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(abs(exp)), nil)
		if exp > 0 {
			r.Mul(r, new(big.Rat).SetInt(p))
		} else {
			r.Quo(r, new(big.Rat).SetInt(p))
		}
	}
	return r, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// roundHalfEven rounds r to the nearest integer, ties to even, and
// returns its low 64 bits as a signed integer.
func roundHalfEven(r *big.Rat) int64 {
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // truncated
	// Compare 2|m| with den.
	twice := new(big.Int).Abs(m)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(den); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	// Low 64 bits, two's complement.
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	q.Mod(q, mod)
	return int64(q.Uint64())
}

// Float returns the double closest to a number literal, as Haskell's
// fromRational does. Values beyond the double range are ±Inf.
func Float(lit []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return 0, ErrNumber
	}
	return f, nil
}
