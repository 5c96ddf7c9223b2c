package soak

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// nobody is the user and the group a daemon runs as when the test runs
// as root: nobody and nogroup on Debian. Root reads every file whatever
// its mode, so a fault like "config.data made unreadable" can only be
// shown to a daemon without that privilege, as Ganeti runs confd (the
// gnt-confd user, docs/security.md).
const nobody = 65534

// unprivileged is how a fault test runs its daemons so that a file can be
// made unreadable to them: as the test's own user when that is not root;
// when it is root, as nobody, with the files set up as Ganeti sets them
// up for gnt-confd (readable through the group, which the data directory
// hands to every file written in it).
type unprivileged struct {
	// Bin is the daemon's binary, where the daemon's user can run it.
	Bin string
	// Prepare runs the daemon as nobody (testdaemon.Config.Prepare); nil
	// when the test is not root.
	Prepare func(*exec.Cmd)
	// User says whom the daemon runs as, for the report.
	User string
}

// dropRoot prepares the root directory root (laid out by
// testdaemon.LayoutRoot) under dir, a directory of t.TempDir, for daemons
// that cannot read a file the test makes unreadable. When the test is not
// root nothing needs to change. As root, the daemon becomes nobody:
// bin is copied into dir, dir and its parent (t.TempDir's, made 0700) are
// opened for others to search, var/run/ganeti and var/log/ganeti are
// given to nobody, and var/lib/ganeti, config.data and hmac.key to the
// group nogroup (0640, 0440), the directory with the set-group-ID bit so
// that every file the test writes there later is the group's too.
func dropRoot(t *testing.T, bin, dir, root string) unprivileged {
	t.Helper()
	if os.Geteuid() != 0 {
		return unprivileged{Bin: bin, User: fmt.Sprintf("uid %d", os.Geteuid())}
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatalf("opening %s to the daemon's user: %v", d, err)
		}
	}
	if err := searchable(filepath.Dir(dir)); err != nil {
		t.Fatalf("a daemon running as nobody could not reach %s: %v (set TMPDIR to a directory others may search)", dir, err)
	}
	runBin := filepath.Join(dir, "bin", filepath.Base(bin))
	if err := copyFile(runBin, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rel      string
		uid, gid int
		mode     os.FileMode
	}{
		{testdaemon.RunDir, nobody, nobody, 0o755},
		{testdaemon.LogDir, nobody, nobody, 0o755},
		{testdaemon.LibDir, 0, nobody, 0o750 | os.ModeSetgid},
		{testdaemon.ConfigRel, 0, nobody, 0o640},
		{testdaemon.KeyRel, 0, nobody, 0o440},
	} {
		p := filepath.Join(root, c.rel)
		if err := os.Chown(p, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, c.mode); err != nil {
			t.Fatal(err)
		}
	}
	return unprivileged{
		Bin: runBin,
		Prepare: func(cmd *exec.Cmd) {
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}
		},
		User: fmt.Sprintf("nobody (uid %d, the test being root)", nobody),
	}
}

// searchable checks that others may search dir and every directory
// above it.
func searchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is %v", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// copyFile copies src to dst (creating dst's directory) with mode perm.
func copyFile(dst, src string, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return nil
}
