package config

import (
	"os"
	"testing"
)

// benchFile reads the config that GOCONFD_BENCH_CONFIG names, or skips.
// Generate one with internal/clustergen/cmd/clustergen, e.g.
//
//	go run ./internal/clustergen/cmd/clustergen -size 50MB -o /tmp/c50.json
//	GOCONFD_BENCH_CONFIG=/tmp/c50.json go test ./config -run '^$' -bench File -benchtime 3x
func benchFile(b *testing.B) []byte {
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

// BenchmarkParseFile loads a config with nothing to reuse.
func BenchmarkParseFile(b *testing.B) {
	data := benchFile(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReparseFile loads a config again with the Loader that loaded
// it: every leaf is reused, as when Ganeti rewrites config.data with a
// new serial number.
func BenchmarkReparseFile(b *testing.B) {
	data := benchFile(b)
	var ld Loader
	if _, err := ld.Parse(data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ld.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
