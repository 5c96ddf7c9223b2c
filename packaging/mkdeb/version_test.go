package main

import (
	"os/exec"
	"testing"
)

func TestDebVersion(t *testing.T) {
	for _, tc := range []struct {
		describe, time, hash string
		dirty                bool
		want                 string
		wantErr              bool
	}{
		{"v1.2.3-0-gabc1234", "", "", false, "1.2.3", false},
		{"v1.2.3-5-gabc1234", "", "", false, "1.2.3+git5.gabc1234", false},
		{"v1.2.3-5-gabc1234", "", "", true, "1.2.3+git5.gabc1234+dirty", false},
		{"v0.1.0~rc1-0-g0123456", "", "", false, "0.1.0~rc1", false},
		{"", "20261202102532", "abc1234", false, "0.0~git20261202102532.abc1234", false},
		{"", "20261202102532", "abc1234", true, "0.0~git20261202102532.abc1234+dirty", false},
		{"", "", "abc1234", false, "", true},
		{"release-1", "", "", false, "", true},
		{"v1.2.3_x-0-gabc", "", "", false, "", true},
	} {
		got, err := debVersion(tc.describe, tc.time, tc.hash, tc.dirty)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("debVersion(%q, %q, %q, %v) = %q, %v; want %q (error %v)",
				tc.describe, tc.time, tc.hash, tc.dirty, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestDebVersionOrder checks that the versions sort as the history does,
// with dpkg's rules where dpkg is present.
func TestDebVersionOrder(t *testing.T) {
	older, _ := debVersion("", "20261202102532", "abc1234", false)
	newer, _ := debVersion("", "20261202112532", "0000001", false)
	tagged, _ := debVersion("v0.1.0-0-gabc", "", "", false)
	after, _ := debVersion("v0.1.0-3-gdef", "", "", false)
	assertOrder(t, older, newer, tagged, after)
}

func assertOrder(t *testing.T, versions ...string) {
	t.Helper()
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg is not installed: cannot check the order with dpkg's rules")
	}
	for i := 1; i < len(versions); i++ {
		if err := exec.Command(dpkg, "--compare-versions", versions[i-1], "lt", versions[i]).Run(); err != nil {
			t.Errorf("dpkg does not sort %q before %q: %v", versions[i-1], versions[i], err)
		}
	}
}
