package testdaemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// BuildTimeout bounds one `go build`.
const BuildTimeout = 5 * time.Minute

// GoconfdPkg is the import path of goconfd's daemon.
const GoconfdPkg = "github.com/goconfd/goconfd/cmd/ganeti-confd"

type build struct {
	once sync.Once
	bin  string
	err  error
}

var (
	buildMu  sync.Mutex
	builds   = map[string]*build{}
	buildDir string
)

// Build builds the command of the import path pkg with `go build` in the
// module root, once per test binary, and returns the binary's path. The
// binaries live in one temporary directory that RemoveBuilt removes.
func Build(pkg string) (string, error) {
	buildMu.Lock()
	b := builds[pkg]
	if b == nil {
		b = &build{}
		builds[pkg] = b
	}
	buildMu.Unlock()
	b.once.Do(func() { b.bin, b.err = goBuild(pkg) })
	return b.bin, b.err
}

func goBuild(pkg string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	buildMu.Lock()
	if buildDir == "" {
		buildDir, err = os.MkdirTemp("", "goconfd-testdaemon-")
	}
	dir := buildDir
	buildMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("building %s: %w", pkg, err)
	}
	// One directory per package, so that every binary keeps its command name.
	bin := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "_"), path.Base(pkg))
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("building %s: %w", pkg, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// RemoveBuilt removes what Build built; call it from TestMain after
// m.Run.
func RemoveBuilt() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
		buildDir = ""
		builds = map[string]*build{}
	}
}

// GoconfdBin returns $GOCONFD_BIN, or else goconfd's daemon built by
// Build.
func GoconfdBin() (string, error) {
	if b := os.Getenv(EnvBin); b != "" {
		return b, nil
	}
	return Build(GoconfdPkg)
}

// Goconfd is GoconfdBin that fails the test on error.
func Goconfd(t testing.TB) string {
	t.Helper()
	bin, err := GoconfdBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
