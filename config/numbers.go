package config

// Numbers as the Haskell side of Ganeti 3.0 reads and writes them.
//
// Text.JSON (json-0.10) reads every JSON number as an exact Rational and
// writes a Rational back as a plain integer when its denominator is 1, and
// otherwise as Haskell's `show` of the nearest Double (a Rational that
// overflows the Double becomes null). The object model converts on the
// way: an Int takes `round` (half to even) and wraps to 64 bits, an Integer
// takes `round` unbounded, a Double takes `fromRational` (the nearest
// double) and is written back through `toRational`, so whole doubles come
// out as integers (32.0 is written 32), and timestamps go through the
// picosecond ClockTime of src/Ganeti/JSON.hs (TimeAsDoubleJSON,
// tjson.TimeAsDouble).
//
// Reading a literal exactly and Haskell's round, for Int and Integer, are
// tjson.Decimal's (internal/tjson/decimal.go), the one implementation the
// request decoder uses too; this file has the rest.
//
// All of this is measured against the real 3.0.2 server; see
// testdata/golden/cases, numbers_test.go and tjson's decimal_test.go.

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/tjson"
)

// maxIntegerDigits bounds the decimal digits of an exact integer that we
// write out for an unbounded Integer field or a free-form number. The real
// server writes 1e400 as 401 digits and would try to expand 1e1000000000
// the same way; we refuse such a number instead of allocating without
// bound.
const maxIntegerDigits = 1024

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// canonicalInt reports whether lit is already written the way Haskell
// writes an Int: an optional minus and digits without leading zeros, short
// enough not to wrap, and not "-0".
func canonicalInt(lit string) bool {
	s := lit
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
		if s == "0" {
			return false
		}
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// toFloat64 is Haskell's `fromRational :: Rational -> Double` of the literal
// (the nearest double; ±Inf beyond the range). lit must be valid.
func toFloat64(lit string, d tjson.Decimal) float64 {
	if d.IsZero() {
		return 0 // "-0" is the rational 0, not the double -0.0
	}
	f, _ := strconv.ParseFloat(lit, 64) // ErrRange still yields ±Inf or ±0
	return f
}

// twoTo1024 is `toRational (1/0 :: Double)`: GHC's decodeFloat of Infinity
// gives mantissa 2^52 and exponent 972.
var twoTo1024 = new(big.Int).Lsh(big.NewInt(1), 1024).String()

// wholeFloatText writes a whole (or infinite) double as `toRational` of it
// prints: the exact integer.
func wholeFloatText(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return twoTo1024
	case math.IsInf(f, -1):
		return "-" + twoTo1024
	case math.Abs(f) < 1<<63:
		return strconv.FormatInt(int64(f), 10)
	}
	i, _ := new(big.Float).SetFloat64(f).Int(nil)
	return i.String()
}

// doubleText writes a Double field's value: `JSRational False (toRational
// d)` printed by Text.JSON, i.e. the exact integer when d is whole, and
// Haskell's `show d` otherwise.
func doubleText(f float64) string {
	if math.IsInf(f, 0) || f == math.Trunc(f) {
		return wholeFloatText(f)
	}
	return showDouble(f)
}

// showDouble is Haskell's `show :: Double -> String` (GHC.Float's
// FFGeneric format with the shortest digits that read back the same):
// plain notation for 0.1 <= |x| < 10^7, scientific otherwise, always with
// a fraction digit.
func showDouble(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 0) {
		if f < 0 {
			return "-Infinity"
		}
		return "Infinity"
	}
	if f < 0 || (f == 0 && math.Signbit(f)) {
		return "-" + showDouble(-f)
	}
	if f == 0 {
		return "0.0"
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	// b is "d.ddde±xx" or "de±xx".
	epos := bytes.IndexByte(b, 'e')
	var dsBuf [24]byte
	ds := dsBuf[:0]
	for _, c := range b[:epos] {
		if c != '.' {
			ds = append(ds, c)
		}
	}
	x, _ := strconv.Atoi(string(b[epos+1:]))
	e := x + 1 // f = 0.ds × 10^e
	var outBuf [40]byte
	out := outBuf[:0]
	if e >= 0 && e <= 7 {
		if e == 0 {
			out = append(out, "0."...)
			out = append(out, ds...)
			return string(out)
		}
		if len(ds) <= e {
			out = append(out, ds...)
			for i := len(ds); i < e; i++ {
				out = append(out, '0')
			}
			out = append(out, ".0"...)
			return string(out)
		}
		out = append(out, ds[:e]...)
		out = append(out, '.')
		out = append(out, ds[e:]...)
		return string(out)
	}
	out = append(out, ds[0], '.')
	if len(ds) == 1 {
		out = append(out, '0')
	} else {
		out = append(out, ds[1:]...)
	}
	out = append(out, 'e')
	out = strconv.AppendInt(out, int64(e-1), 10)
	return string(out)
}

// freeNumberText writes a number inside a free-form JSValue (hvparams,
// diskparams …): the exact integer when the rational is whole, otherwise
// `show` of the nearest double. ok is false when the double overflows,
// where Text.JSON writes null, and tooBig is true when the integer is longer
// than maxIntegerDigits.
func freeNumberText(lit string, d tjson.Decimal) (text string, ok, tooBig bool) {
	if d.IsIntegral() {
		if canonicalInt(lit) {
			return lit, true, false
		}
		s, fits := d.RoundIntegerText(maxIntegerDigits)
		return s, fits, !fits
	}
	f := toFloat64(lit, d)
	if math.IsInf(f, 0) {
		return "", false, false
	}
	return showDouble(f), true, false
}

// timestampText converts a ctime/mtime the way TimeAsDoubleJSON
// (src/Ganeti/JSON.hs) does (tjson.TimeAsDouble) and writes it back as a
// Double, so 1358348755.779906 comes back as 1.3583487557799058e9.
func timestampText(lit string, d tjson.Decimal) string {
	return doubleText(tjson.TimeAsDouble(toFloat64(lit, d)))
}

// readIntFull is Ganeti's tryRead at type Int (src/Ganeti/Utils.hs): the
// whole string must be one Int (Haskell's reads, wrapped to 64 bits).
func readIntFull(s string) (int64, bool) {
	n, ok := hs.ReadFull(s)
	return n.Int(), ok
}

// parseUnitAssumeBinary is src/Ganeti/Utils.hs's parseUnitAssumeBinary at
// type Int: an Int (as `reads` takes it), spaces, and an optional unit;
// the result is in MiB, every kilo being 1024.
func parseUnitAssumeBinary(s string) (int64, bool) {
	n, rest, ok := hs.Reads(s)
	if !ok {
		return 0, false
	}
	v := n.Int()
	unit := strings.TrimLeft(rest, " ")
	var scale uint64
	switch strings.ToUpper(unit) {
	case "", "MIB", "MB":
		scale = 1
	case "GIB", "GB":
		scale = 1024
	case "TIB", "TB":
		scale = 1024 * 1024
	}
	switch unit {
	case "m", "M":
		scale = 1
	case "g", "G":
		scale = 1024
	case "t", "T":
		scale = 1024 * 1024
	}
	if scale == 0 {
		return 0, false
	}
	return int64(uint64(v) * scale), true
}
