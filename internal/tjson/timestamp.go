package tjson

import (
	"math"
	"math/big"
	"math/bits"
)

// pico is 10^12, the picoseconds in a second of System.Time's ClockTime.
const pico = 1_000_000_000_000

// TimeAsDouble is what Ganeti 3.0 makes of a timestamp (a ctime or mtime)
// it reads and writes back: TimeAsDoubleJSON (src/Ganeti/JSON.hs) splits
// the double into whole seconds and picoseconds of a ClockTime, and
// rebuilds a double from them:
//
//	TOD s ps = divMod (round (t * 10^12)) (10^12)  -- t :: Double
//	t'       = fromIntegral s + fromIntegral ps / 10^12
//
// Both steps round, so many doubles come back as a neighbour:
// 1358348755.779906 comes back as 1.3583487557799058e9. It is the one
// implementation for the config's normalization (config) and for the
// generator, which writes only timestamps that come back unchanged
// (internal/clustergen). The divMod is exact for every double, as
// Haskell's Integer arithmetic is.
func TimeAsDouble(t float64) float64 {
	p := t * 1e12
	var ss float64
	var ps uint64
	switch {
	case math.Abs(p) < 1<<63:
		n := int64(math.RoundToEven(p))
		q, r := n/pico, n%pico
		if r < 0 {
			q--
			r += pico
		}
		ss, ps = float64(q), uint64(r)
	case !math.IsInf(p, 0) && math.Abs(p) < 1<<100:
		// |p| is a whole number m × 2^e with e >= 11; divide the 128-bit
		// value by 10^12 (hi < 10^12 since |p| < 2^100). Every timestamp
		// of this century is here.
		u := math.Float64bits(math.Abs(p))
		m := u&(1<<52-1) | 1<<52
		e := uint(u>>52&0x7ff) - 1075
		hi, lo := m>>(64-e), m<<e
		q, r := bits.Div64(hi, lo, pico)
		if p < 0 && r != 0 {
			q++ // floor division
			r = pico - r
		}
		// q < 2^100 / 10^12 < 2^61: an Int, converted to the nearest.
		ss, ps = float64(q), r
		if p < 0 {
			ss = -ss
		}
	default:
		var n *big.Int
		if math.IsInf(p, 0) {
			// round of an infinite Double is toRational's 2^1024 (GHC's
			// decodeFloat of Infinity: mantissa 2^52, exponent 972).
			n = new(big.Int).Lsh(big.NewInt(1), 1024)
			if p < 0 {
				n.Neg(n)
			}
		} else {
			n, _ = new(big.Float).SetFloat64(p).Int(nil)
		}
		q, r := new(big.Int).DivMod(n, big.NewInt(pico), new(big.Int))
		ss, ps = bigIntegerToDouble(q), r.Uint64()
	}
	return ss + float64(ps)/1e12
}

// bigIntegerToDouble is GHC's fromIntegral :: Integer -> Double: an
// Integer that fits an Int is converted by the machine, to the nearest
// double; a larger one by GMP's mpn_get_d, which truncates toward zero
// (measured: 12345678901234567891 seconds come back as
// 12345678901234565120, not ...67168).
func bigIntegerToDouble(q *big.Int) float64 {
	if q.IsInt64() {
		return float64(q.Int64())
	}
	f, _ := new(big.Float).SetPrec(53).SetMode(big.ToZero).SetInt(q).Float64()
	return f
}
