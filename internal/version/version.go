// Package version reports goconfd's version, the same for every binary,
// the package and the log: what the build was told at link time, or else
// what the Go toolchain recorded of the module and its VCS revision.
//
// The package build (packaging/) links the version it gives the .deb:
//
//	go build -ldflags "-X github.com/goconfd/goconfd/internal/version.linked=0.1.0" ./cmd/...
//
// so that `dpkg -l`, `ganeti-confd -V` and the daemon's startup line agree.
package version

import (
	"runtime/debug"
	"sync"
)

// linked is set at link time with -ldflags "-X …/internal/version.linked=V".
var linked string

// String returns goconfd's version: the linked one if any; else the
// module's version when it was built as a dependency or with
// `go install …@vX`; else "devel+<revision>" (12 hex digits, "-dirty"
// when the tree had changes) when built from a checkout; else "devel".
func String() string {
	once.Do(func() { cached = compute(linked, debug.ReadBuildInfo) })
	return cached
}

var (
	once   sync.Once
	cached string
)

// compute is String without the cache, with its inputs as arguments so
// that every case can be tested.
func compute(linked string, read func() (*debug.BuildInfo, bool)) string {
	if linked != "" {
		return linked
	}
	info, ok := read()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel+" + rev
	if dirty {
		v += "-dirty"
	}
	return v
}
