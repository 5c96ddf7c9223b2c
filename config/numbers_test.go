package config

import (
	"math"
	"testing"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/tjson"
)

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestShowDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{0.1, "0.1"},
		{0.5, "0.5"},
		{1, "1.0"},
		{3.14, "3.14"},
		{0.01, "1.0e-2"},
		{1e-5, "1.0e-5"},
		{9999999, "9999999.0"},
		{9999999.5, "9999999.5"},
		{1e7, "1.0e7"},
		{12345678.5, "1.23456785e7"},
		{1.354038435343601e9, "1.354038435343601e9"},
		{-1.5e-3, "-1.5e-3"},
		{5e-324, "5.0e-324"},
		{math.MaxFloat64, "1.7976931348623157e308"},
		{0.30000000000000004, "0.30000000000000004"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		if got := showDouble(tt.f); got != tt.want {
			t.Errorf("showDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// TestDoubleText checks how a Double field is written back: whole values as
// exact integers (Text.JSON's JSRational with denominator 1).
func TestDoubleText(t *testing.T) {
	tests := []struct {
		lit  string
		want string
	}{
		{"32.0", "32"},                 // [3.0] rich.json spindle-ratio
		{"2", "2"},                     // [3.0]
		{"0.1", "0.1"},                 // [3.0]
		{"1e-2", "1.0e-2"},             // [3.0]
		{"12345678.5", "1.23456785e7"}, // [3.0]
		{"-0", "0"},                    // [3.0]
		{"1e-400", "0"},                // [3.0]
		{"-2.0", "-2"},                 // [3.0]
		{"0.1e1", "1"},                 // [3.0]
		{"1e400", twoTo1024},           // [3.0] Infinity is toRational'd to 2^1024
		{"-1e400", "-" + twoTo1024},
		{"1.5e300", "1500000000000000078757140382806630373056702871662238732373781173267703686983362293679557062620671796065556665749325817265413784853040645863467188277180060474272580801389863705606745350692182135089053429852456199917621678558451461320111979114170213741868888183230085264257173504208294580298189100810240"}, // [3.0]
	}
	for _, tt := range tests {
		d, ok := tjson.ParseDecimal(tt.lit)
		if !ok {
			t.Fatalf("tjson.ParseDecimal(%q) failed", tt.lit)
		}
		if got := doubleText(toFloat64(tt.lit, d)); got != tt.want {
			t.Errorf("Double %s is written %q, want %q", tt.lit, got, tt.want)
		}
	}
}

func TestFreeNumberText(t *testing.T) {
	tests := []struct {
		lit        string
		want       string
		wantOK     bool
		wantTooBig bool
	}{
		{lit: "1.0", want: "1", wantOK: true},        // [3.0]
		{lit: "1e2", want: "100", wantOK: true},      // [3.0]
		{lit: "0.10", want: "0.1", wantOK: true},     // [3.0]
		{lit: "-0.0", want: "0", wantOK: true},       // [3.0]
		{lit: "1.5e-400", want: "0.0", wantOK: true}, // [3.0] not whole, so `show` of 0.0
		{lit: "-1.5e-400", want: "-0.0", wantOK: true},
		{lit: "5e-324", want: "5.0e-324", wantOK: true},                                       // [3.0]
		{lit: "2.5e-324", want: "5.0e-324", wantOK: true},                                     // [3.0]
		{lit: "1.7976931348623159e308", want: "17976931348623159" + zeros(292), wantOK: true}, // [3.0]
		{lit: "1" + repeatDigits(40) + ".5", wantOK: false},                                   // [3.0] overflows the double: null
		{lit: "1e1024", wantTooBig: true},
	}
	for _, tt := range tests {
		d, ok := tjson.ParseDecimal(tt.lit)
		if !ok {
			t.Fatalf("tjson.ParseDecimal(%q) failed", tt.lit)
		}
		got, ok, tooBig := freeNumberText(tt.lit, d)
		if got != tt.want || ok != tt.wantOK || tooBig != tt.wantTooBig {
			t.Errorf("freeNumberText(%s) = %q, %v, %v; want %q, %v, %v", tt.lit, got, ok, tooBig, tt.want, tt.wantOK, tt.wantTooBig)
		}
	}
}

func repeatDigits(n int) string {
	b := make([]byte, 0, 10*n)
	for range n {
		b = append(b, "2345678901"...)
	}
	return string(b)
}

func TestReadsInt(t *testing.T) {
	tests := []struct {
		s        string
		want     int64
		wantRest string
		wantOK   bool
	}{
		{"12", 12, "", true},
		{"  12", 12, "", true},
		{"12 ", 12, " ", true},
		{"( 1)", 1, "", true},
		{"((7) )x", 7, "x", true},
		{"-1", -1, "", true},
		{"- 1", -1, "", true},
		{"(-1)", -1, "", true},
		{"0x1f", 31, "", true},
		{"0X1Fg", 31, "g", true},
		{"0o17", 15, "", true},
		{"0x", 0, "x", true},
		{"012", 12, "", true},
		{"12M", 12, "M", true},
		{"5e", 5, "e", true},
		{"5.", 5, ".", true},
		{"18446744073709551617", 1, "", true},
		{"5.5", 0, "", false},
		{"5e3", 0, "", false},
		{"5e-3", 0, "", false},
		{"--1", 0, "", false},
		{"+1", 0, "", false},
		{"-(1)", 0, "", false},
		{"(1", 0, "", false},
		{"", 0, "", false},
		{"x", 0, "", false},
	}
	for _, tt := range tests {
		n, rest, ok := hs.Reads(tt.s)
		got := n.Int()
		if ok != tt.wantOK || (ok && (got != tt.want || rest != tt.wantRest)) {
			t.Errorf("hs.Reads(%q) = %d, %q, %v; want %d, %q, %v", tt.s, got, rest, ok, tt.want, tt.wantRest, tt.wantOK)
		}
	}
}

func TestParseUnitAssumeBinary(t *testing.T) {
	tests := []struct {
		s      string
		want   int64
		wantOK bool
	}{
		{"2G", 2048, true},      // [3.0]
		{" 12 M", 12, true},     // [3.0]
		{"(5) g", 5120, true},   // [3.0]
		{"0x10", 16, true},      // [3.0]
		{"1 T", 1048576, true},  // [3.0]
		{"3tib", 3145728, true}, // [3.0]
		{"5 MB", 5, true},       // [3.0]
		{"-1g", -1024, true},    // [3.0]
		{"0x1G", 1024, true},    // [3.0]
		{"7 Gb", 7168, true},    // [3.0]
		{"12.5", 0, false},      // [3.0]
		{"2 g ", 0, false},      // [3.0]
		{"1k", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseUnitAssumeBinary(tt.s)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseUnitAssumeBinary(%q) = %d, %v; want %d, %v", tt.s, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCanonicalInt(t *testing.T) {
	for lit, want := range map[string]bool{
		"0": true, "7": true, "-7": true, "123456789012345678": true,
		"-0": false, "00": false, "1234567890123456789": false, "1.0": false, "1e2": false, "": false, "-": false,
	} {
		if got := canonicalInt(lit); got != want {
			t.Errorf("canonicalInt(%q) = %v, want %v", lit, got, want)
		}
	}
}
