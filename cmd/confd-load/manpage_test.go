package main

import (
	"bytes"
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
	if err := manpage.Check(opts, "../../docs/man/confd-load.1.md", "../../packaging/completion/confd-load"); err != nil {
		t.Error(err)
	}
}
