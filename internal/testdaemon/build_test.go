package testdaemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a command")
	}
	const pkg = "github.com/goconfd/goconfd/cmd/confd-client"
	bin, err := Build(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(bin) != "confd-client" {
		t.Errorf("Build(%s) = %s: not named for the command", pkg, bin)
	}
	again, err := Build(pkg)
	if err != nil || again != bin {
		t.Errorf("second Build: %s, %v; want the cached %s", again, err, bin)
	}
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	if !strings.Contains(string(out), "confd-client") && !strings.Contains(strings.ToLower(string(out)), "usage") {
		t.Errorf("%s --help printed %q", bin, out)
	}
	if _, err := Build("github.com/goconfd/goconfd/no/such/cmd"); err == nil || !strings.Contains(err.Error(), "no/such/cmd") {
		t.Errorf("building a missing package: %v", err)
	}
	t.Setenv(EnvBin, "/prebuilt/ganeti-confd")
	if got, err := GoconfdBin(); err != nil || got != "/prebuilt/ganeti-confd" {
		t.Errorf("GoconfdBin with %s set: %s, %v", EnvBin, got, err)
	}
	RemoveBuilt()
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Errorf("%s still there after RemoveBuilt: %v", bin, err)
	}
}
