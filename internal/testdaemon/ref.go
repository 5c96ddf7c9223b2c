package testdaemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Environment variables read by this package (see the package doc).
const (
	EnvBin      = "GOCONFD_BIN"
	EnvRequired = "GOCONFD_CONFORMANCE"
	EnvRefDir   = "GOCONFD_REF_DIR"
	EnvRefCache = "GANETI_REF_CACHE"
)

const (
	// defaultRefCache is where setup.sh unpacks the real server unless
	// GANETI_REF_CACHE says otherwise (the scripts' env.sh has the same
	// default).
	defaultRefCache = "/tmp/ganeti-ref"
	// refConfdRel is the real daemon's path inside the cache (env.sh).
	refConfdRel = "root/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd"
	// refDirRel is the reference scripts' directory in the module.
	refDirRel = "conformance/reference"
)

// Python is the interpreter with Debian's python3 modules, which Ganeti's
// client library needs (conformance/reference/README.md).
const Python = "/usr/bin/python3"

// ErrNoReference means the real server, or a file of the reference
// scripts, is not installed.
var ErrNoReference = errors.New("reference not installed")

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// ModuleRoot returns the directory of the go.mod that holds the working
// directory (a test runs in its package's directory), found by walking
// up.
func ModuleRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = fmt.Errorf("finding the module root: %w", err)
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("finding the module root: no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	return rootDir, rootErr
}

// RefDir returns the reference scripts' directory: $GOCONFD_REF_DIR, or
// conformance/reference in the module root. The path is absolute when it
// could be made so.
func RefDir() string {
	dir := os.Getenv(EnvRefDir)
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return refDirRel
		}
		dir = filepath.Join(root, refDirRel)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// RefCache returns where setup.sh unpacked the real server:
// $GANETI_REF_CACHE, or the scripts' default.
func RefCache() string {
	if c := os.Getenv(EnvRefCache); c != "" {
		return c
	}
	return defaultRefCache
}

// RefConfd returns the path of the real ganeti-confd 3.0.2, installed or
// not.
func RefConfd() string { return filepath.Join(RefCache(), refConfdRel) }

// CheckReference tells whether the real server is installed, and each
// named file of the reference scripts (such as "pyquery.py") is present:
// nil, or an error wrapping ErrNoReference that says what is missing.
func CheckReference(scripts ...string) error {
	bin := RefConfd()
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%w: no executable %s (run %s)", ErrNoReference, bin, filepath.Join(RefDir(), "setup.sh"))
	}
	for _, s := range scripts {
		p := filepath.Join(RefDir(), s)
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: reference script %s missing (set %s)", ErrNoReference, p, EnvRefDir)
		}
	}
	if len(scripts) > 0 {
		if _, err := os.Stat(Python); err != nil {
			return fmt.Errorf("%w: %s missing", ErrNoReference, Python)
		}
	}
	return nil
}

// Required reports whether GOCONFD_CONFORMANCE=1 makes a missing
// reference a failure instead of a reason to skip.
func Required() bool { return os.Getenv(EnvRequired) == "1" }

// SkipOrFail ends the test because of err from CheckReference: it skips
// it, or fails it when Required. Any other error fails the test.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	switch {
	case errors.Is(err, ErrNoReference) && Required():
		t.Fatalf("%v; %s=1 requires the reference", err, EnvRequired)
	case errors.Is(err, ErrNoReference):
		t.Skipf("skipping: %v; set %s=1 to make this a failure", err, EnvRequired)
	default:
		t.Fatal(err)
	}
}

// RequireReference returns the real ganeti-confd's path when it and the
// named reference scripts are installed; otherwise it skips the test, or
// fails it when Required.
func RequireReference(t testing.TB, scripts ...string) string {
	t.Helper()
	if err := CheckReference(scripts...); err != nil {
		SkipOrFail(t, err)
	}
	return RefConfd()
}

// RefScript returns the path of a reference script such as "pyquery.py",
// or skips (fails) the test as RequireReference does.
func RefScript(t testing.TB, name string) string {
	t.Helper()
	RequireReference(t, name)
	return filepath.Join(RefDir(), name)
}
