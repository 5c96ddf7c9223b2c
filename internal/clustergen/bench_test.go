package clustergen

import (
	"fmt"
	"testing"
)

// BenchmarkGenerate measures building configs of about 1, 10 and 50 MB
// (the instance count is fixed beforehand, so sizing is not measured).
func BenchmarkGenerate(b *testing.B) {
	for _, size := range []int{1 << 20, 10 << 20, 50 << 20} {
		o := Default()
		o.Nodes, o.TargetSize = 0, size
		no := sizedOptions(b, o)
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) { benchGenerate(b, no) })
	}
}

// BenchmarkGenerateTargetSize measures a 50 MB config asked for by size:
// the sampling that picks the instance count plus the generation.
func BenchmarkGenerateTargetSize(b *testing.B) {
	o := Default()
	o.Nodes, o.TargetSize = 0, 50<<20
	benchGenerate(b, o)
}

// BenchmarkGenerateIndent measures an indented 10 MB config.
func BenchmarkGenerateIndent(b *testing.B) {
	o := Default()
	o.Nodes, o.TargetSize, o.Indent = 0, 10<<20, true
	benchGenerate(b, sizedOptions(b, o))
}

// sizedOptions is o with the instance count for its TargetSize fixed, so
// that a benchmark measures the generation only.
func sizedOptions(b *testing.B, o Options) Options {
	b.Helper()
	no, err := o.normalized()
	if err != nil {
		b.Fatal(err)
	}
	if no, err = no.sized(); err != nil {
		b.Fatal(err)
	}
	return no
}

// benchGenerate measures Generate(o), in bytes a second.
func benchGenerate(b *testing.B, o Options) {
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := Generate(o)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}
