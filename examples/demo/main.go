// Command demo serves the demo cluster of examples/ (embedded in the
// binary) on a loopback port in the foreground, and prints the
// confd-client command that asks it:
//
//	go run ./examples/demo
//
// It is ganeti-confd's service (internal/service) with nothing of a
// daemon around it: no options of Ganeti's, no pid file, no log file (it
// logs to stderr), no directory to prepare. The config and the key are
// written to temporary files, removed when it stops (Ctrl-C). -port
// changes the port (0: any free one).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/service"
)

// defaultPort is the demo's port: not confd's 1814, so that it runs
// beside a real confd and without root.
const defaultPort = 18140

// keyInTree is the key's path in the repository, which the printed
// command names when it is run from the repository's root.
const keyInTree = "examples/hmac.key"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run serves the demo cluster until ctx ends. Its log goes to stderr;
// once it serves, it prints to stdout where, and the command that asks
// it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Uint("port", defaultPort, "UDP `port` on 127.0.0.1 (0: any free one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *port > 65535 {
		fs.Usage()
		return errors.New("usage: demo [-port N]")
	}

	configFile, err := writeTemp("goconfd-demo-config-*.data", examples.Config)
	if err != nil {
		return err
	}
	defer os.Remove(configFile)
	// The server reads a private copy of the key (mode 0600, as Ganeti
	// keeps hmac.key), so that it has no looser permissions to warn about
	// (a clone's examples/hmac.key is readable by all). The command names
	// the key in the tree when run from the repository's root, else the
	// copy.
	keyFile, err := writeTemp("goconfd-demo-*.key", examples.Key)
	if err != nil {
		return err
	}
	defer os.Remove(keyFile)
	shownKey := keyFile
	if b, err := os.ReadFile(keyInTree); err == nil && bytes.Equal(b, []byte(examples.Key)) {
		shownKey = keyInTree
	}

	log := slog.New(daemon.NewHandler(daemon.HandlerOptions{
		Program: "goconfd-demo", Pid: os.Getpid(), Outputs: []io.Writer{stderr},
	}))
	var svc *service.Service
	ready := func() {
		p := svc.Addr().Port()
		fmt.Fprintf(stdout, "goconfd serves the demo cluster (examples/config.data) on 127.0.0.1:%d; from the repository's root, ask it with\n\n", p)
		fmt.Fprintf(stdout, "  go run ./cmd/confd-client --key-file %s -a 127.0.0.1 --port %d cluster-master\n\n", shownKey, p)
		fmt.Fprintln(stdout, "(other questions: node-role node2, node-drbd node1, instances-ips-list, ... see examples/README.md; Ctrl-C stops it)")
	}
	svc, err = service.Listen(service.Config{
		Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: uint16(*port),
		ConfigPath: configFile, KeyPath: keyFile, Logger: log, Ready: ready,
	})
	if err != nil {
		return fmt.Errorf("listening on 127.0.0.1:%d (-port 0 takes any free port): %w", *port, err)
	}
	if err := svc.Load(); err != nil {
		_ = svc.Close()
		return fmt.Errorf("loading the demo cluster: %w", err)
	}
	return svc.Serve(ctx)
}

// writeTemp writes data to a new temporary file and returns its name.
func writeTemp(pattern, data string) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("writing the demo cluster: %w", err)
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the demo cluster: %w", err)
	}
	return f.Name(), nil
}
