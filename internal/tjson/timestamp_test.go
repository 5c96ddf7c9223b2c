package tjson

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestTimeAsDouble checks the trip through ClockTime. Every input was
// loaded into the real 3.0.2 server as a ctime, and want is the double it
// wrote back (as config writes it: Haskell's show, or the exact integer of
// a whole double).
func TestTimeAsDouble(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"1354038435.343601", "1.354038435343601e9"},
		{"1358348755.779906", "1.3583487557799058e9"},
		{"1343869205.934807", "1.3438692059348073e9"},
		{"1694038761.717014", "1694038761.7170143"},
		{"5", "5"},
		{"0", "0"},
		{"0.5", "0.5"},
		{"-1.5", "-1.5"},
		{"1e20", "100000000000000000000"},
		{"0.0000000000001", "0"},
		{"-1e-13", "0"},
		{"123456789012345678.25", "123456789012345680"},
		// Whole seconds beyond an Int are converted by GMP, truncating.
		{"12345678901234567891.5", "12345678901234565120"},
		{"-12345678901234567891.5", "-12345678901234565120"},
		{"9300000000000000123.25", "9300000000000000000"},
		{"33333333333333333333333333.7", "33333333333333330626609152"},
		{"123456789123456789123456789123456789.987", "123456789123456765655915572175568896"},
		// 1e400 is read as +Inf; round gives toRational's 2^1024.
		{"1e400", "179769313486231587157166971483515830321548560399099385793407668385803615976697714176550461106674763465061018408338488683645694963279363017497443358450006371579864060709374210741127979359938755588756835418808188763549995957867335750730127796813512831616506981075210958335785608341418268944253321216"},
	}
	for _, tt := range tests {
		in, _ := strconv.ParseFloat(tt.in, 64) // 1e400 is +Inf, as Haskell's fromRational
		want, err := strconv.ParseFloat(tt.want, 64)
		if err != nil {
			t.Fatalf("want %q: %v", tt.want, err)
		}
		if got := TimeAsDouble(in); got != want {
			t.Errorf("TimeAsDouble(%s) = %v, want %v", tt.in, got, want)
		}
	}
}

// TestTimeAsDoubleExact compares TimeAsDouble with the same computation
// done on big integers, as Haskell's Integer does it, over timestamps of
// this century and of the past (negative), in every branch of the
// implementation (|t·10^12| below 2^63, below 2^100, beyond).
func TestTimeAsDoubleExact(t *testing.T) {
	exact := func(t float64) float64 {
		x, _ := new(big.Float).SetFloat64(math.RoundToEven(t * 1e12)).Int(nil)
		ss, ps := new(big.Int).DivMod(x, big.NewInt(1e12), new(big.Int))
		return bigIntegerToDouble(ss) + float64(ps.Int64())/1e12
	}
	r := rand.New(rand.NewPCG(1, 2))
	gens := []struct {
		name string
		gen  func() float64
	}{
		{"microsecond timestamps", func() float64 { return float64(r.IntN(2e9)) + float64(r.IntN(1e6))/1e6 }},
		{"nanosecond timestamps", func() float64 { return float64(r.IntN(2e9)) + float64(r.IntN(1e9))/1e9 }},
		{"negative", func() float64 { return -float64(r.IntN(2e9)) - r.Float64() }},
		{"below 2^63 ps", func() float64 { return r.Float64() * 9e6 }},
		{"beyond 2^100 ps", func() float64 { return math.Ldexp(1+r.Float64(), 60+r.IntN(200)) }},
	}
	for _, g := range gens {
		for range 50000 {
			v := g.gen()
			if got, want := TimeAsDouble(v), exact(v); got != want {
				t.Fatalf("%s: TimeAsDouble(%v) = %v, exact %v", g.name, v, got, want)
			}
		}
	}
}
