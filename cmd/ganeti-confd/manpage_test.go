package main

import (
	"testing"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/manpage"
)

// TestManPageDescribesEveryOption keeps ganeti-confd(8) in step with the
// option table -h prints.
func TestManPageDescribesEveryOption(t *testing.T) {
	opts := manpage.Options(daemon.Usage(version))
	if len(opts) < 10 {
		t.Fatalf("found only %q in -h: the help's layout changed?", opts)
	}
	if err := manpage.Check(opts, "../../docs/man/ganeti-confd.8.md", ""); err != nil {
		t.Error(err)
	}
}
