//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/mapfile"
)

// TestParseTruncatedMapping loads a mapped config.data that is truncated
// after it was mapped: an error, no crash, and the Loader still loads
// the next good version.
func TestParseTruncatedMapping(t *testing.T) {
	o := clustergen.Default()
	o.Nodes = 0
	o.TargetSize = 2 * mapfile.MinMapSize
	data, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.data")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := mapfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Mapped() {
		t.Skip("not mapped here")
	}
	// Keep the first page: the top of the document reads, the rest
	// faults.
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	var ld Loader
	if _, err := ld.Parse(m.Data); !errors.Is(err, mapfile.ErrTruncated) {
		t.Fatalf("Parse of a truncated mapping: %v, want ErrTruncated", err)
	}
	if _, err := ld.Parse(data); err != nil {
		t.Fatalf("Parse after the fault: %v", err)
	}
}
