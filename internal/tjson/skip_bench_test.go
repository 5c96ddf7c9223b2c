package tjson

import (
	"os"
	"testing"
)

// BenchmarkSkipFile checks a large document without building it (what a
// config load does first), e.g.
//
//	GOCONFD_BENCH_CONFIG=/tmp/c10.json go test ./internal/tjson -run '^$' -bench SkipFile
func BenchmarkSkipFile(b *testing.B) {
	path := os.Getenv("GOCONFD_BENCH_CONFIG")
	if path == "" {
		b.Skip("set GOCONFD_BENCH_CONFIG to a config.data")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
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
