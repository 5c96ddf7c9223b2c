package main

import (
	"os"
	"testing"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/manpage"
)

// TestManPageDescribesEveryOption keeps ganeti-confd(8) in step with the
// option table -h prints.
func TestManPageDescribesEveryOption(t *testing.T) {
	page, err := os.ReadFile("../../docs/man/ganeti-confd.8.md")
	if err != nil {
		t.Fatal(err)
	}
	opts := manpage.Options(daemon.Usage(version))
	if len(opts) < 10 {
		t.Fatalf("found only %q in -h: the help's layout changed?", opts)
	}
	if missing := manpage.MissingFromPage(string(page), opts); len(missing) > 0 {
		t.Errorf("docs/man/ganeti-confd.8.md does not describe %q", missing)
	}
}
