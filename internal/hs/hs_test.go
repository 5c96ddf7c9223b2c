package hs

import (
	"math"
	"testing"
)

func TestShowString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\t\x01\x7f", `"\n\t\SOH\DEL"`},
		{"é", `"\233"`},
		{"é1", `"\233\&1"`},
		{"\x0eH", `"\SO\&H"`},
		{"\x0eI", `"\SOI"`},
		{"€x", `"\8364x"`},
		{"😀", `"\128512"`},
		{"\xed\xa0\xbd", `"\55357"`}, // a lone surrogate, as tjson stores it
		{"\x00", `"\NUL"`},
		{"\a\b\v\f\r", `"\a\b\v\f\r"`},
		{"n\u00e9\x01\"x", `"n\233\SOH\"x"`}, // measured on the real server
	}
	for _, tt := range tests {
		if got := ShowString(tt.in); got != tt.want {
			t.Errorf("ShowString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestReadFull(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1249637704", 1249637704, true},
		{"-5", -5, true},
		{"- 5", -5, true},
		{"  12", 12, true},
		{"\t\n12", 12, true},
		{"\u00a012", 12, true},
		{"\u300012", 12, true},
		{"(12)", 12, true},
		{"( ( 12 ) )", 12, true},
		{"((12))", 12, true},
		{"(-12)", -12, true},
		{"-0", 0, true},
		{"0x1F", 31, true},
		{"0X1f", 31, true},
		{"0o17", 15, true},
		{"0O17", 15, true},
		{"007", 7, true},
		{"0x", 0, false},
		{"0b101", 0, false},
		{"12 ", 0, false},
		{"(12) ", 0, false},
		{"+12", 0, false},
		{"12.0", 0, false},
		{"12.", 0, false},
		{"1e3", 0, false},
		{"1e", 0, false},
		{"12abc", 0, false},
		{"", 0, false},
		{"abc", 0, false},
		{"--5", 0, false},
		{"-(5)", 0, false},
		{"(12", 0, false},
		{"12)", 0, false},
		{"123.5", 0, false},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
	}
	for _, tt := range tests {
		n, ok := ReadFull(tt.in)
		got, fits := n.Int64()
		if ok != tt.ok || (ok && (!fits || got != tt.want)) {
			t.Errorf("ReadFull(%q) = %+v, %v; want %d, %v", tt.in, n, ok, tt.want, tt.ok)
		}
		// The []byte form agrees.
		if nb, okb := ReadFull([]byte(tt.in)); okb != ok || nb != n {
			t.Errorf("ReadFull([]byte(%q)) = %+v, %v; string form %+v, %v", tt.in, nb, okb, n, ok)
		}
	}
}

func TestIntegerRange(t *testing.T) {
	tests := []struct {
		in      string
		wantInt int64 // as an Int: wrapped
		fits    bool
	}{
		{"9223372036854775808", math.MinInt64, false},
		{"-9223372036854775809", math.MaxInt64, false},
		{"18446744073709551615", -1, false},
		{"18446744073709551616", 0, false},
		{"18446744073709551617", 1, false},
		{"0x10000000000000001", 1, false},
		{"99999999999999999999999", 0, false},
	}
	for _, tt := range tests {
		n, ok := ReadFull(tt.in)
		if !ok {
			t.Fatalf("ReadFull(%q) failed", tt.in)
		}
		if _, fits := n.Int64(); fits != tt.fits {
			t.Errorf("%q: fits = %v, want %v", tt.in, fits, tt.fits)
		}
		if tt.in != "99999999999999999999999" && n.Int() != tt.wantInt {
			t.Errorf("%q: Int() = %d, want %d", tt.in, n.Int(), tt.wantInt)
		}
	}
}

func TestReadsRest(t *testing.T) {
	n, rest, ok := Reads(" 12 MiB")
	if !ok || n.Int() != 12 || rest != " MiB" {
		t.Fatalf("Reads = %+v %q %v", n, rest, ok)
	}
}

func TestIsSpace(t *testing.T) {
	for _, r := range []rune{' ', '\t', '\n', '\v', '\f', '\r', 0xA0, 0x2003, 0x3000} {
		if !IsSpace(r) {
			t.Errorf("IsSpace(%U) = false", r)
		}
	}
	for _, r := range []rune{'a', 0, 0x85, 0x200B, 0x2028} {
		if IsSpace(r) {
			t.Errorf("IsSpace(%U) = true", r)
		}
	}
}

func FuzzReads(f *testing.F) {
	for _, s := range []string{"12", "(-0x1F)", " ( 7 ) ", "1e3", "--1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, rest, ok := Reads(s)
		if ok && len(rest) > len(s) {
			t.Fatalf("rest longer than input")
		}
		nb, restb, okb := Reads([]byte(s))
		if ok != okb || n != nb || string(restb) != rest {
			t.Fatalf("string and []byte forms disagree on %q", s)
		}
	})
}

func BenchmarkReadFull(b *testing.B) {
	salt := []byte("1795596400")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ReadFull(salt); !ok {
			b.Fatal("not read")
		}
	}
}

func TestDigitValue(t *testing.T) {
	tests := []struct {
		c    byte
		want uint64
	}{
		{'0', 0}, {'9', 9}, {'a', 10}, {'f', 15}, {'A', 10}, {'F', 15},
		// The bytes next to each range are no digits.
		{'/', 255}, {':', 255}, {'`', 255}, {'g', 255}, {'@', 255}, {'G', 255}, {0, 255}, {0xff, 255},
	}
	for _, tt := range tests {
		if got := DigitValue(tt.c); got != tt.want {
			t.Errorf("DigitValue(%q) = %d, want %d", tt.c, got, tt.want)
		}
	}
}
