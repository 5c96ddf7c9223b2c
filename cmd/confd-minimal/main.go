// Command confd-minimal is the performance report's baseline server
// (internal/minimal): it verifies confd requests and signs replies
// exactly as goconfd does, answers every valid one with one fixed
// answer, and does nothing else. It is a measuring instrument, not a
// confd: it serves no configuration.
//
//	confd-minimal --key-file hmac.key -p 18150 [-b 127.0.0.1] [--sockets N]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/goconfd/goconfd/internal/minimal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("confd-minimal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key-file", "", "HMAC key `file` (required)")
	bind := fs.String("b", "127.0.0.1", "bind `address` (loopback only)")
	port := fs.Uint("p", 0, "UDP `port` (required)")
	sockets := fs.Int("sockets", runtime.GOMAXPROCS(0), "sockets sharing the port, one goroutine each")
	answer := fs.String("answer", "3000000", "the answer sent to every request, as JSON text")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	addr, err := netip.ParseAddr(*bind)
	if *keyFile == "" || *port == 0 || *port > 65535 || err != nil || !addr.IsLoopback() || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: confd-minimal --key-file FILE -p PORT [-b LOOPBACK-ADDRESS] [--sockets N] [--answer JSON]")
		return 2
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "confd-minimal: %v\n", err)
		return 1
	}
	s := &minimal.Server{Key: key, Answer: []byte(*answer)}
	ap, err := s.Listen(netip.AddrPortFrom(addr, uint16(*port)), *sockets)
	if err != nil {
		fmt.Fprintf(stderr, "confd-minimal: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "confd-minimal: serving on %s with %d sockets\n", ap, *sockets)
	if err := s.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "confd-minimal: %v\n", err)
		return 1
	}
	return 0
}
