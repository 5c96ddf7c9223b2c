package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/goconfd/goconfd/internal/manpage"
)

// TestManPageAndCompletionCoverEveryOption keeps confd-client(1) and the
// bash completion in step with the options -h prints.
func TestManPageAndCompletionCoverEveryOption(t *testing.T) {
	var opts []string
	for _, args := range [][]string{{"-h"}, {daemonStatusCmd, "-h"}, {watchCmd, "-h"}} {
		var stdout, stderr bytes.Buffer
		run(context.Background(), args, &stdout, &stderr)
		found := manpage.Options(stdout.String() + stderr.String())
		if len(found) < 6 {
			t.Fatalf("found only %q in %q: the help's layout changed?", found, args)
		}
		opts = append(opts, found...)
	}
	if err := manpage.Check(opts, "../../docs/man/confd-client.1.md", "../../packaging/completion/confd-client"); err != nil {
		t.Error(err)
	}
}
