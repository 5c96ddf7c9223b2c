package daemon

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestParseCheckConfig checks --check-config's forms: alone, with
// =FILE, or with one FILE argument.
func TestParseCheckConfig(t *testing.T) {
	tests := []struct {
		args     []string
		wantFile string
		wantCfg  string
		wantCode int // 0: parsed
	}{
		{[]string{"--check-config"}, "", "", 0},
		{[]string{"--check-config=/a"}, "/a", "", 0},
		{[]string{"--check-config", "/a"}, "/a", "", 0},
		{[]string{"/a", "--check"}, "/a", "", 0},
		{[]string{"--ch", "--key", "/k"}, "", "", 0},
		{[]string{"--co", "/c", "--check-config"}, "", "/c", 0},
		{[]string{"--check-config", "/a", "/b"}, "", "", 1},
		{[]string{"--check-config=/a", "/b"}, "", "", 1},
		{[]string{"--c"}, "", "", 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			o, err := Parse(tt.args)
			if tt.wantCode != 0 {
				var ue *UsageError
				if !errors.As(err, &ue) || ue.Code != tt.wantCode {
					t.Fatalf("Parse = %+v, %v; want exit status %d", o, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !o.CheckConfig || o.CheckFile != tt.wantFile || o.Config != tt.wantCfg {
				t.Errorf("Parse = %+v, want CheckConfig with file %q and config %q", o, tt.wantFile, tt.wantCfg)
			}
		})
	}
}

// TestUsageCheckConfig checks that --check-config is listed without
// widening Ganeti's table, and completes a file.
func TestUsageCheckConfig(t *testing.T) {
	u := Usage("1")
	if !strings.Contains(u, fmt.Sprintf("  %-17s  goconfd: ", "--check-config")) {
		t.Errorf("usage lacks --check-config in a column of Ganeti's width:\n%s", u)
	}
	if !strings.Contains(Completion(), "--check-config file\n") {
		t.Errorf("completion lacks --check-config:\n%s", Completion())
	}
}
