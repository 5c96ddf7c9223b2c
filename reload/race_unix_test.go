//go:build unix

package reload

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/mapfile"
)

// TestRewrittenWhileRead rewrites a large (mapped) config.data in place
// while it is being loaded: the mixed content is never published, and
// the next check loads what the file holds by then.
func TestRewrittenWhileRead(t *testing.T) {
	o := clustergen.Default()
	o.Nodes = 0
	o.TargetSize = 2 * mapfile.MinMapSize
	o.ClusterSerial = 1000
	base, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(base, []byte(`"serial_no":1000`))
	if at < 0 {
		t.Fatal("cluster serial not found")
	}
	version := func(serial int) []byte {
		v := bytes.Clone(base)
		copy(v[at+len(`"serial_no":`):], strconv.Itoa(serial))
		return v
	}
	for _, tt := range []struct {
		name    string
		rewrite func(path string) error
		want    int64
	}{
		// The same size: the mapping shows the new bytes, which the hash
		// after the load tells.
		{"same size", func(path string) error { return os.WriteFile(path, version(3000), 0o640) }, 3000},
		// Shorter: reading past the new end faults.
		{"truncated", func(path string) error { return os.WriteFile(path, version(3000)[:4096], 0o640) }, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.data")
			var rec recorder
			w := New(Config{Path: path, Publish: rec.publish, Logger: quiet()})
			writeAtomic(t, path, version(1000))
			if err := w.LoadNow(); err != nil {
				t.Fatal(err)
			}
			writeAtomic(t, path, version(2000))
			w.afterRead = func() {
				w.afterRead = nil
				if err := tt.rewrite(path); err != nil {
					t.Error(err)
				}
			}
			if err := w.LoadNow(); err != nil {
				t.Fatal(err)
			}
			if got := rec.serial(); got != 1000 {
				t.Fatalf("serial %d served after a rewrite during the load, want 1000 still", got)
			}
			if st := w.Status(); st.ReadRaces != 1 || st.Failures != 0 {
				t.Fatalf("status %+v: want 1 read race, no failure", st)
			}
			// The next check (LoadNow here, an event or the safety check
			// in the daemon) reads the file again.
			if err := w.LoadNow(); err != nil {
				t.Fatal(err)
			}
			if tt.want > 0 {
				if got := rec.serial(); got != tt.want {
					t.Fatalf("serial %d, want %d", got, tt.want)
				}
			} else if st := w.Status(); !st.FailingNow || rec.serial() != 1000 {
				t.Fatalf("a truncated file: status %+v, serial %d; want it failing with 1000 served", st, rec.serial())
			}
		})
	}
}
