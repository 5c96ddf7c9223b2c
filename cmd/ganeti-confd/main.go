// Command ganeti-confd is goconfd's drop-in replacement for Ganeti's
// configuration daemon: it answers confd queries over UDP (port 1814)
// from $GANETI_ROOTDIR/var/lib/ganeti/config.data, signed with
// hmac.key, and behaves as a process as Ganeti 3.0's does (options, exit
// codes, detaching, pid file, log file, signals). Run it with -h for its
// options.
package main

import (
	"context"
	"os"

	"github.com/goconfd/goconfd/internal/daemon"
)

func main() {
	code := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if code == daemon.ExitInterrupted {
		daemon.RaiseInterrupt()
	}
	os.Exit(code)
}
