package tjson

import "testing"

// BenchmarkInt measures Int on the literals a request or a config holds:
// plain integers (the fast path) and the rarer ones that need rounding.
func BenchmarkInt(b *testing.B) {
	for _, bm := range []struct{ name, lit string }{
		{"plain", "1700000000"},
		{"fraction", "2.5"},
		{"exponent", "1.25e1"},
		{"wraps", "18446744073709551617"},
		{"tiny", "1e-4096"},
		{"long fraction", "123456789.50000000000000000001"},
	} {
		lit := []byte(bm.lit)
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Int(lit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
