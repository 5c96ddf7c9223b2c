package config

import (
	"os"
	"testing"
)

func BenchmarkParseFile(b *testing.B) {
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
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
