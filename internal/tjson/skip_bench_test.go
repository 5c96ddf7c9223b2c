package tjson

import (
	"os"
	"testing"
)

// benchConfig returns the config.data that GOCONFD_BENCH_CONFIG names,
// and skips the benchmark when it names none.
func benchConfig(b *testing.B) []byte {
	b.Helper()
	path := os.Getenv("GOCONFD_BENCH_CONFIG")
	if path == "" {
		b.Skip("set GOCONFD_BENCH_CONFIG to a config.data")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkSkipFile checks a large document without building it (what a
// config load does first), e.g.
//
//	GOCONFD_BENCH_CONFIG=/tmp/c10.json go test ./internal/tjson -run '^$' -bench SkipFile
func BenchmarkSkipFile(b *testing.B) {
	data := benchConfig(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var s Scanner
		s.Reset(data, false)
		if err := s.Skip(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawKnownFile reads a large document with RawDepth 2 when every
// Raw text is known (a reload of an unchanged config), e.g.
//
//	GOCONFD_BENCH_CONFIG=/tmp/c10.json go test ./internal/tjson -run '^$' -bench RawKnownFile
func BenchmarkRawKnownFile(b *testing.B) {
	data := benchConfig(b)
	for _, known := range []bool{false, true} {
		name := "checked"
		if known {
			name = "known"
		}
		b.Run(name, func(b *testing.B) {
			opt := Options{Container: true, RawDepth: 2, RawKnown: func(string) bool { return known }}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
