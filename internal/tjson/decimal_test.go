package tjson

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// The cases marked [3.0] were loaded into the real 3.0.2 server
// (config/testdata/cases.json and config/testdata/golden/cases).

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		lit    string
		want   Decimal
		wantOK bool
	}{
		{lit: "0", want: Decimal{intDigits: "0"}, wantOK: true},
		{lit: "-0.000e5", want: Decimal{neg: true, intDigits: "0", fracDigits: "000", exp: 5}, wantOK: true},
		{lit: "5", want: Decimal{intDigits: "5"}, wantOK: true},
		{lit: "-5.5", want: Decimal{neg: true, intDigits: "5", fracDigits: "5"}, wantOK: true},
		{lit: "1200", want: Decimal{intDigits: "1200"}, wantOK: true},
		{lit: "0.0120", want: Decimal{intDigits: "0", fracDigits: "0120"}, wantOK: true},
		{lit: "3.2e1", want: Decimal{intDigits: "3", fracDigits: "2", exp: 1}, wantOK: true},
		{lit: "1E+400", want: Decimal{intDigits: "1", exp: 400}, wantOK: true},
		{lit: "1e-400", want: Decimal{intDigits: "1", exp: -400}, wantOK: true},
		{lit: "1e99999999999999999999", want: Decimal{intDigits: "1", exp: maxExp}, wantOK: true},
		{lit: "1e-99999999999999999999", want: Decimal{intDigits: "1", exp: -maxExp}, wantOK: true},
		{lit: "", wantOK: false},
		{lit: "-", wantOK: false},
		{lit: "01", wantOK: false},
		{lit: "1.", wantOK: false},
		{lit: ".5", wantOK: false},
		{lit: "1e", wantOK: false},
		{lit: "1e+", wantOK: false},
		{lit: "+1", wantOK: false},
		{lit: "1 ", wantOK: false},
		{lit: "0x10", wantOK: false},
		{lit: "Infinity", wantOK: false},
	}
	for _, tt := range tests {
		got, ok := ParseDecimal(tt.lit)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("ParseDecimal(%q) = %+v, %v; want %+v, %v", tt.lit, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestDecimalPredicates(t *testing.T) {
	tests := []struct {
		lit            string
		zero, integral bool
		sign           int
	}{
		{"0", true, true, 0},
		{"-0.000e5", true, true, 0},
		{"5", false, true, 1},
		{"-5.5", false, false, -1},
		{"5.50e1", false, true, 1},
		{"5.05e1", false, false, 1},
		{"1200e-2", false, true, 1},
		{"1201e-2", false, false, 1},
		{"-1e400", false, true, -1},
		{"1e-400", false, false, 1},
		{"0.000", true, true, 0},
	}
	for _, tt := range tests {
		d, ok := ParseDecimal(tt.lit)
		if !ok {
			t.Fatalf("ParseDecimal(%q) failed", tt.lit)
		}
		if got := d.IsZero(); got != tt.zero {
			t.Errorf("%s: IsZero() = %v, want %v", tt.lit, got, tt.zero)
		}
		if got := d.IsIntegral(); got != tt.integral {
			t.Errorf("%s: IsIntegral() = %v, want %v", tt.lit, got, tt.integral)
		}
		if got := d.Sign(); got != tt.sign {
			t.Errorf("%s: Sign() = %d, want %d", tt.lit, got, tt.sign)
		}
	}
}

// TestRoundInt64 checks Haskell's round :: Rational -> Int, through
// Decimal.RoundInt64 and through Int, which reads requests.
func TestRoundInt64(t *testing.T) {
	tests := []struct {
		lit  string
		want int64
	}{
		{"5.5", 6},                             // [3.0]
		{"6.5", 6},                             // [3.0]
		{"-2.5", -2},                           // [3.0]
		{"0.5", 0},                             // [3.0]
		{"1.5", 2},                             // [3.0]
		{"2.5000000000000000001", 3},           // [3.0]
		{"-0.5000001", -1},                     // [3.0]
		{"-12.5", -12},                         // [3.0]
		{"123.5e1", 1235},                      // [3.0]
		{"3000000.7", 3000001},                 // [3.0]
		{"18446744073709551617", 1},            // [3.0] wraps
		{"9223372036854775808", math.MinInt64}, // [3.0] wraps
		{"1e19", -8446744073709551616},         // [3.0] wraps
		{"1e400", 0},                           // [3.0] a multiple of 2^64
		{"0.04", 0},
		{"0.0000000000000000000000000001", 0},
		{"-0", 0},
		{"99999999999999999999.5", 7766279631452241920}, // 10^20 mod 2^64
		{"0", 0}, {"42", 42}, {"-7", -7}, {"2.5", 2}, {"0.4", 0}, {"-1.5", -2},
		{"0.500001", 1}, {"1e0", 1}, {"1E2", 100}, {"15e-1", 2}, {"25e-1", 2},
		{"9223372036854775807", math.MaxInt64}, {"18446744073709551616", 0},
		{"5000000.0", 5000000}, {"1e-4096", 0}, {"5e-1", 0}, {"6e-1", 1},
		{"123e-3", 0}, {"999e-3", 1}, {"0.0001e-4096", 0}, {"1e63", math.MinInt64},
		{"1e64", 0}, {"3e4096", 0}, {"-7e4000", 0}, {"1.5e1", 15}, {"1.25e1", 12},
		{"0.95", 1}, {"9.5", 10}, {"-0.5", 0}, {"0.05e1", 0}, {"0.15e1", 2},
		{"1844674407370955161.55e1", 0}, // a tie at 2^64-1, odd: up to 2^64, which wraps to 0
	}
	for _, tt := range tests {
		d, ok := ParseDecimal(tt.lit)
		if !ok {
			t.Fatalf("ParseDecimal(%q) failed", tt.lit)
		}
		if got := d.RoundInt64(); got != tt.want {
			t.Errorf("round(%s) :: Int = %d, want %d", tt.lit, got, tt.want)
		}
		if got, err := Int([]byte(tt.lit)); err != nil || got != tt.want {
			t.Errorf("Int(%s) = %d, %v; want %d", tt.lit, got, err, tt.want)
		}
	}
}

// TestIntErrors checks what Int refuses: exponents beyond MaxExponent
// (even on zero, which the real server would compute first) and what is
// not a JSON number.
func TestIntErrors(t *testing.T) {
	tests := []struct {
		lit  string
		want error
	}{
		{"1e99999", ErrExponent},
		{"0e5000", ErrExponent},
		{"1e-4097", ErrExponent},
		{"1e99999999999999999999", ErrExponent},
		{"", ErrNumber},
		{"1.", ErrNumber},
		{"+1", ErrNumber},
		{"0x10", ErrNumber},
		{"1/2", ErrNumber},
	}
	for _, tt := range tests {
		if got, err := Int([]byte(tt.lit)); err != tt.want {
			t.Errorf("Int(%q) = %d, %v; want error %v", tt.lit, got, err, tt.want)
		}
	}
}

func TestRoundIntegerText(t *testing.T) {
	const maxDigits = 1024
	tests := []struct {
		lit    string
		want   string
		wantOK bool
	}{
		{"5.5", "6", true}, // [3.0]
		{"4.5", "4", true}, // [3.0]
		{"1e30", "1" + strings.Repeat("0", 30), true},                  // [3.0]
		{"-7.5", "-8", true},                                           // [3.0]
		{"2.5e-1", "0", true},                                          // [3.0]
		{"12345678901234567890123.5", "12345678901234567890124", true}, // [3.0]
		{"-0.4", "0", true},
		{"-0.6", "-1", true},
		{"0.6", "1", true},
		{"-0", "0", true},
		{"0.5", "0", true},
		{"9.5", "10", true},
		{"-99.5", "-100", true},
		{"120e-1", "12", true},
		{"0.0012e4", "12", true},
		{"1e1023", "1" + strings.Repeat("0", 1023), true},
		{"1e1024", "", false},
		{"9" + strings.Repeat("9", 1023) + ".5", "1" + strings.Repeat("0", 1024), true}, // the carry may pass the bound
		{"1e-99999999999999999999", "0", true},
		{"1e99999999999999999999", "", false},
	}
	for _, tt := range tests {
		d, ok := ParseDecimal(tt.lit)
		if !ok {
			t.Fatalf("ParseDecimal(%q) failed", tt.lit)
		}
		got, ok := d.RoundIntegerText(maxDigits)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("round(%.40s) :: Integer = %.40q, %v; want %.40q, %v", tt.lit, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestIntAllocs checks that Int reads every kind of literal without
// allocating: a request decoder calls it for every number.
func TestIntAllocs(t *testing.T) {
	for _, lit := range []string{"1700000000", "2.5", "1.25e1", "18446744073709551617", "1e-4096", "123456789.50000000000000000001"} {
		b := []byte(lit)
		if allocs := testing.AllocsPerRun(100, func() { _, _ = Int(b) }); allocs != 0 {
			t.Errorf("Int(%s) allocates %v times, want 0", lit, allocs)
		}
	}
}

// ratOracle is the test oracle: the exact value of a literal that
// ParseDecimal accepts, computed with math/big, as Text.JSON holds it.
func ratOracle(lit string) *big.Rat {
	mant, exp := lit, int64(0)
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mant = lit[:i]
		e, err := strconv.ParseInt(strings.TrimPrefix(lit[i+1:], "+"), 10, 64)
		if err != nil {
			panic(err)
		}
		exp = e
	}
	r, ok := new(big.Rat).SetString(mant)
	if !ok {
		panic("bad mantissa " + mant)
	}
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(max(exp, -exp)), nil))
	if exp >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

// roundOracle rounds r to the nearest integer, ties to even.
func roundOracle(r *big.Rat) *big.Int {
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // truncated
	twice := new(big.Int).Abs(m)
	twice.Lsh(twice, 1)
	if c := twice.Cmp(den); c > 0 || c == 0 && q.Bit(0) == 1 {
		q.Add(q, big.NewInt(int64(num.Sign())))
	}
	return q
}

// FuzzRoundVsRat compares the digit-by-digit rounding (RoundInt64,
// RoundIntegerText, Int, IsIntegral, Sign) with exact rational arithmetic
// (math/big) on any literal ParseDecimal accepts with an exponent small
// enough for the oracle.
func FuzzRoundVsRat(f *testing.F) {
	for _, s := range []string{"0", "-0.0", "2.5", "-2.5", "3.5", "0.5000001", "99999999999999999999.5",
		"1e19", "18446744073709551617", "1.25e1", "1e-30", "123.456e2", "-9.5e-1", "1e64", "12e62"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		d, ok := ParseDecimal(lit)
		if !ok || d.exp > 300 || d.exp < -300 || len(lit) > 400 {
			return
		}
		r := ratOracle(lit)
		want := roundOracle(r)
		// Int wraps to 64 bits: the low 64 bits, two's complement.
		low := new(big.Int).And(want, new(big.Int).SetUint64(math.MaxUint64))
		wantInt := int64(low.Uint64())
		if got := d.RoundInt64(); got != wantInt {
			t.Errorf("RoundInt64(%s) = %d, want %d", lit, got, wantInt)
		}
		if got, err := Int([]byte(lit)); err != nil || got != wantInt {
			t.Errorf("Int(%s) = %d, %v; want %d", lit, got, err, wantInt)
		}
		if got, ok := d.RoundIntegerText(1 << 20); !ok || got != want.String() {
			t.Errorf("RoundIntegerText(%s) = %q, %v; want %q", lit, got, ok, want.String())
		}
		if got := d.IsIntegral(); got != r.IsInt() {
			t.Errorf("IsIntegral(%s) = %v, want %v", lit, got, r.IsInt())
		}
		if got := d.Sign(); got != r.Sign() {
			t.Errorf("Sign(%s) = %d, want %d", lit, got, r.Sign())
		}
	})
}
