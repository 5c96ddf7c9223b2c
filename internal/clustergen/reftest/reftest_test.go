package reftest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

func TestAvailableWithoutReference(t *testing.T) {
	t.Setenv(testdaemon.EnvRefCache, t.TempDir())
	t.Setenv(testdaemon.EnvRequired, "")
	ok, why := Available()
	if ok || !strings.Contains(why, "no executable") {
		t.Errorf("Available() = %v, %q; want false and the missing binary", ok, why)
	}
	var skipped bool
	t.Run("require", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Require(t)
	})
	if !skipped {
		t.Error("Require did not skip the test without the reference")
	}
}

func TestScriptDir(t *testing.T) {
	root, err := testdaemon.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if t.Setenv(testdaemon.EnvRefDir, ""); testdaemon.RefDir() != filepath.Join(root, "conformance", "reference") {
		t.Errorf("RefDir() = %s, want the module's conformance/reference", testdaemon.RefDir())
	}
	if !filepath.IsAbs(ScriptDir) {
		t.Errorf("ScriptDir %q is not absolute", ScriptDir)
	}
}
