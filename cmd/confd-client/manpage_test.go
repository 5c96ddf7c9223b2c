package main

import (
	"bytes"
	"context"
	"os"
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
	for _, f := range []struct {
		path    string
		missing func(string, []string) []string
	}{
		{"../../docs/man/confd-client.1.md", manpage.MissingFromPage},
		{"../../packaging/completion/confd-client", manpage.MissingFromCompletion},
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
