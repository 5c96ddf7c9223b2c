package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnavailableText checks the answer text for each way a load fails:
// exactly Ganeti's for a missing file and before the first load, Ganeti's
// prefix followed by goconfd's parse error for a file that does not parse.
func TestUnavailableText(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "config.data")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	loadErr := func(path string) error {
		_, err := Load(path)
		if err == nil {
			t.Fatalf("Load(%q) succeeded", path)
		}
		return err
	}
	tests := []struct {
		name       string
		path       string
		err        error
		want       string
		wantPrefix bool
	}{
		{name: "missing file", path: "/nonexistent/config.data", err: loadErr("/nonexistent/config.data"),
			want: "Failure during configuration update: /nonexistent/config.data: getFileStatus: does not exist (No such file or directory)"},
		{name: "bad file", path: bad, err: loadErr(bad),
			want: "Cannot load configuration from " + bad + ": parsing configuration: ", wantPrefix: true},
		{name: "not loaded", err: ErrNotLoaded, want: "Configuration not yet loaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UnavailableText(tt.path, tt.err)
			if got != tt.want && !(tt.wantPrefix && strings.HasPrefix(got, tt.want)) {
				t.Errorf("UnavailableText = %q, want %q (prefix: %v)", got, tt.want, tt.wantPrefix)
			}
		})
	}
}
