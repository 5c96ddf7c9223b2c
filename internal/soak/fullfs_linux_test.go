package soak

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// TestFaultFullFileSystem puts var/lib/ganeti on a small tmpfs that the
// test fills, and writes new configs the two ways a writer can fail on
// it: Ganeti's (a temporary file that cannot be written whole, never
// renamed) and in place (config.data cut short by ENOSPC). goconfd must
// keep serving the last good config, log the truncated file once, and
// serve the next complete one. It needs to mount a tmpfs (root).
func TestFaultFullFileSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("a real daemon")
	}
	bin := testdaemon.Goconfd(t)
	key := []byte("fullfs-key-0123456789abcdef\n")
	small, _ := version(t, 0)
	o := clustergen.Default()
	o.Instances = 200
	o.ClusterSerial = baseSerial + 1
	big, _, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	lib := filepath.Join(root, testdaemon.LibDir)
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	// Room for the small config and the key, not for the big one, even
	// once the small one is gone.
	size := (len(small) + len(big)/2 + 8192 + 4095) / 4096 * 4096
	if len(big) <= size {
		t.Fatalf("the big config (%d bytes) fits in %d", len(big), size)
	}
	if err := syscall.Mount("tmpfs", lib, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(lib, 0); err != nil {
			t.Errorf("unmounting %s: %v", lib, err)
		}
	})
	if err := testdaemon.LayoutRoot(root, small, key); err != nil {
		t.Fatal(err)
	}
	d := testdaemon.StartT(t, testdaemon.Config{
		Bin: bin, Dir: dir, Env: testdaemon.ConfdEnv(root),
		Args: testdaemon.ConfdArgs, Ready: testdaemon.PingProbe(key),
	})
	a := newAsker(t, d.Addr)
	cfg := filepath.Join(root, testdaemon.ConfigRel)
	a.eventually(key, baseSerial, "start")
	failedLines := func() int { return strings.Count(d.Output(), "config failed to load") }

	// Ganeti's way: the temporary file cannot be written whole, so it is
	// never renamed.
	tmp := cfg + ".tmp"
	err = os.WriteFile(tmp, big, 0o640)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing %d bytes on a %d-byte tmpfs: %v, want ENOSPC", len(big), size, err)
	}
	a.steady(key, baseSerial, 500*time.Millisecond, "temporary file cut short")
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("fault: full file system, temporary file cut short (never renamed): last good served, %d log lines\n", failedLines())

	// In place: config.data itself is cut short.
	err = os.WriteFile(cfg, big, 0o640)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing %d bytes in place on a %d-byte tmpfs: %v, want ENOSPC", len(big), size, err)
	}
	a.steady(key, baseSerial, 500*time.Millisecond, "config.data cut short")
	if n := failedLines(); n != 1 {
		t.Errorf("config.data cut short: %d log lines, want 1", n)
	}
	// The writer's next try, with a config that fits (in place, as
	// there is no room for a temporary copy): served.
	next, _ := version(t, 2)
	if err := os.WriteFile(cfg, next, 0o640); err != nil {
		t.Fatal(err)
	}
	took := a.eventually(key, baseSerial+2, "after the full file system")
	fmt.Printf("fault: full file system, config.data cut short in place: last good served, %d log line; the next complete file served after %v\n",
		failedLines(), took.Round(time.Millisecond))
}
