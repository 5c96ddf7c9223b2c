//go:build unix

package config

import (
	"bytes"
	"errors"
	"fmt"
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
	if _, err := ld.Parse(m.Data); !errors.Is(err, ErrDataChanged) {
		t.Fatalf("Parse of a truncated mapping: %v, want ErrDataChanged", err)
	}
	if _, err := ld.Parse(data); err != nil {
		t.Fatalf("Parse after the fault: %v", err)
	}
}

// TestErrDataChanged holds config's sentinel to the errors behind it:
// users match ErrDataChanged (internal/mapfile is not theirs to import),
// and reload, which reads the file with internal/mapfile, matches
// mapfile.ErrTruncated; both must find every one of these.
func TestErrDataChanged(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"mapping truncated (mapfile.Guard)", mapfile.ErrTruncated},
		{"text changed while read", errChanged},
		{"wrapped by Parse", fmt.Errorf("reading configuration: %w", errChanged)},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, ErrDataChanged) || !errors.Is(tt.err, mapfile.ErrTruncated) {
			t.Errorf("%s: %v does not match both ErrDataChanged and mapfile.ErrTruncated", tt.name, tt.err)
		}
	}
}

// TestParseWhileRewritten loads a mapped config.data again and again
// while another writer rewrites it in place between two versions. Each
// load fails as changed, or succeeds; and the Loader never keeps a leaf
// under the hash of a text it was not made from: once the file is still,
// a load with the same Loader is exactly the reference's.
func TestParseWhileRewritten(t *testing.T) {
	o := clustergen.Default()
	o.Nodes = 0
	o.TargetSize = 2 * mapfile.MinMapSize
	a, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	// The same size, other names: every instance's leaf differs.
	b := bytes.ReplaceAll(a, []byte(`"name":"inst`), []byte(`"name":"INST`))
	if bytes.Equal(a, b) {
		t.Fatal("no instance names to change")
	}
	path := filepath.Join(t.TempDir(), "config.data")
	if err := os.WriteFile(path, a, 0o600); err != nil {
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
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := a
			if i%2 == 1 {
				v = b
			}
			// In place, no truncation: the mapping shows the bytes as
			// they are written.
			for off := 0; off < len(v); off += 64 << 10 {
				if _, err := f.WriteAt(v[off:min(off+64<<10, len(v))], int64(off)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	var ld Loader
	changed, loaded := 0, 0
	for range 40 {
		_, err := ld.Parse(m.Data)
		switch {
		case err == nil:
			loaded++
		case errors.Is(err, ErrDataChanged):
			changed++
		default:
			close(stop)
			<-done
			t.Fatalf("load while rewritten: %v", err)
		}
	}
	close(stop)
	<-done
	if _, err := f.WriteAt(a, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d loads noticed the change, %d did not", changed, loaded)
	checkAgainstReference(t, &ld, m.Data, 2000)
}
