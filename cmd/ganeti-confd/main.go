// Command ganeti-confd is goconfd's drop-in replacement for Ganeti's
// configuration daemon: it answers confd queries over UDP (port 1814)
// from $GANETI_ROOTDIR/var/lib/ganeti/config.data, signed with
// hmac.key. Run it with -h for its options.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
