package version

import (
	"runtime/debug"
	"testing"
)

func TestCompute(t *testing.T) {
	info := func(main string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/goconfd/goconfd", Version: main}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, tc := range []struct {
		name   string
		linked string
		read   func() (*debug.BuildInfo, bool)
		want   string
	}{
		{"linked wins", "0.2.0", info("v0.1.0"), "0.2.0"},
		{"no build info", "", none, "devel"},
		{"module version", "", info("v0.1.0"), "v0.1.0"},
		{"checkout", "", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "false"), "devel+0123456789ab"},
		{"dirty checkout", "", info("(devel)", "vcs.revision", "0123456789abcdef0123", "vcs.modified", "true"), "devel+0123456789ab-dirty"},
		{"short revision", "", info("", "vcs.revision", "abc"), "devel+abc"},
		{"no vcs", "", info("(devel)"), "devel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compute(tc.linked, tc.read); got != tc.want {
				t.Errorf("compute = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStringStable(t *testing.T) {
	if a, b := String(), String(); a == "" || a != b {
		t.Errorf("String() = %q then %q", a, b)
	}
}
