package client

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/goconfd/goconfd"

// serverSide are the packages a client must never pull in (docs/architecture.md:
// arrows point down, protocol and client never import the server side).
// confdtest runs a server too: only tests import it.
var serverSide = []string{"config", "query", "server", "reload", "internal/daemon", "internal/clustergen", "confdtest"}

// TestImports checks the promise of the package comment with the go
// command's own view of the import graph: client and the confd-client
// tool depend on the standard library and protocol (with the JSON reader
// under it), internal/uuid (the reply salts) and internal/layout (a
// node's files and the services database, shared with the daemon) only,
// and the tool on internal/version for --version, on internal/latency
// (an HDR histogram, itself standard library only) for the percentiles of
// -r, and on internal/statusdoc (types only) for the /status document
// daemon-status reads.
func TestImports(t *testing.T) {
	lib := []string{module + "/client", module + "/protocol", module + "/internal/tjson", module + "/internal/hs", module + "/internal/uuid", module + "/internal/layout"}
	tool := append(slices.Clone(lib), module+"/internal/version", module+"/internal/latency", "github.com/HdrHistogram/hdrhistogram-go", module+"/internal/statusdoc")
	for pkg, allowed := range map[string][]string{"./": lib, "../cmd/confd-client": tool} {
		deps := goList(t, pkg)
		if len(deps) == 0 {
			t.Fatalf("go list %s: no dependencies listed", pkg)
		}
		for _, d := range deps {
			for _, s := range serverSide {
				if d == module+"/"+s || strings.HasPrefix(d, module+"/"+s+"/") {
					t.Errorf("%s depends on the server side: %s", pkg, d)
				}
			}
			if !slices.Contains(allowed, d) && !strings.HasPrefix(d, module+"/cmd/") {
				t.Errorf("%s depends on %s; only the standard library and %v are allowed", pkg, d, allowed)
			}
		}
	}
}

// TestImportCheckWorks makes sure the check above would notice: the
// daemon's command does depend on the server side.
func TestImportCheckWorks(t *testing.T) {
	deps := goList(t, "../cmd/ganeti-confd")
	if !slices.Contains(deps, module+"/server") || !slices.Contains(deps, module+"/config") {
		t.Fatalf("go list sees no server side in cmd/ganeti-confd: %v", deps)
	}
}

// goList returns the non-standard packages pkg depends on, itself
// included.
func goList(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
