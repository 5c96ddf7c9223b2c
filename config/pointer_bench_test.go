package config

import (
	"testing"

	"github.com/goconfd/goconfd/internal/clustergen"
)

// BenchmarkAppendQuery evaluates CONFIG_QUERY pointers that end in the
// skeleton, inside a leaf's encoding, and that name a whole leaf.
func BenchmarkAppendQuery(b *testing.B) {
	o := clustergen.Default()
	o.Nodes, o.Instances = 40, 1000
	data, _, err := clustergen.Generate(o)
	if err != nil {
		b.Fatal(err)
	}
	s, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	inst := s.Instances()[len(s.Instances())/2]
	for _, bm := range []struct{ name, ptr string }{
		{"skeleton scalar", "/cluster/master_node"},
		{"cluster", "/cluster"},
		{"instance", "/instances/" + inst.Key},
		{"inside instance", "/instances/" + inst.Key + "/nics/0/mac"},
		{"inside instance, last member", "/instances/" + inst.Key + "/uuid"},
		{"missing", "/instances/" + inst.Key + "/nosuchkey"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			ptr := []byte(bm.ptr)
			buf := make([]byte, 0, MaxAnswerSize+1024)
			if _, ok := s.AppendQuery(buf, ptr); !ok && bm.name != "missing" {
				b.Fatalf("%s: not found", bm.ptr)
			}
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = s.AppendQuery(buf[:0], ptr)
			}
		})
	}
}
