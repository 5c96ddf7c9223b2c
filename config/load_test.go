package config

import (
	"os"
	"strings"
	"testing"
)

func TestUnavailableText(t *testing.T) {
	_, err := Load("/nonexistent/config.data")
	if got := UnavailableText("/nonexistent/config.data", err); got != "Failure during configuration update: /nonexistent/config.data: getFileStatus: does not exist (No such file or directory)" {
		t.Errorf("missing file: %q", got)
	}
	dir := t.TempDir()
	path := dir + "/config.data"
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if got := UnavailableText(path, err); !strings.HasPrefix(got, "Cannot load configuration from "+path+": parsing configuration: ") {
		t.Errorf("bad file: %q", got)
	}
	if got := UnavailableText("", ErrNotLoaded); got != "Configuration not yet loaded" {
		t.Errorf("not loaded: %q", got)
	}
}
