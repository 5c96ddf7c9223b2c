package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/goconfd/goconfd/internal/manpage"
)

// TestManPageAndCompletionCoverEveryOption keeps confd-load(1) and the
// bash completion in step with the options -h prints.
func TestManPageAndCompletionCoverEveryOption(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"-h"}, &stdout, &stderr)
	opts := manpage.Options(stdout.String() + stderr.String())
	if len(opts) < 6 {
		t.Fatalf("found only %q in -h: the help's layout changed?", opts)
	}
	for _, f := range []struct {
		path    string
		missing func(string, []string) []string
	}{
		{"../../docs/man/confd-load.1.md", manpage.MissingFromPage},
		{"../../packaging/completion/confd-load", manpage.MissingFromCompletion},
	} {
		text, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if missing := f.missing(string(text), opts); len(missing) > 0 {
			t.Errorf("%s does not cover %q", f.path, missing)
		}
	}
}
