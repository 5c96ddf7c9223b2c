package config

import (
	"os"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

func richDoc(t testing.TB) tjson.Value {
	t.Helper()
	data, err := os.ReadFile("testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := tjson.Parse(data, tjson.Options{Container: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/rich.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		// Every precomputed answer must be valid JSON.
		for _, b := range [][]byte{s.VersionJSON(), s.NodePipListJSON(), s.McPipListJSON(), s.DataCollectorsJSON()} {
			if _, err := tjson.Parse(b, tjson.Options{}); err != nil {
				t.Fatalf("invalid answer %s: %v", b, err)
			}
		}
		for _, n := range s.Nodes() {
			if a, e := n.DRBD(); e == nil {
				if _, err := tjson.Parse(a, tjson.Options{}); err != nil {
					t.Fatalf("invalid drbd answer %s: %v", a, err)
				}
			}
		}
	})
}

func BenchmarkParseRich(b *testing.B) {
	data, err := os.ReadFile("testdata/rich.json")
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
