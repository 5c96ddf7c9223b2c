// Command clustergen writes a synthetic Ganeti 3.0 config.data and prints
// a summary of it, for benchmarks and demos.
//
//	clustergen -size 50MB -o /tmp/big.data
//	clustergen -nodes 100 -instances 2000 -o medium.data
//	clustergen -demo -o examples/config.data
//	clustergen -demo -markdown -o /dev/null   # the tables of examples/README.md
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "clustergen:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "clustergen:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line.
type usageError struct{ error }

// run parses args, writes the config and prints the summary to stdout.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clustergen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "config.data", "write the config to this `file` (- for standard output)")
	markdown := fs.Bool("markdown", false, "print the summary as the Markdown tables of examples/README.md")
	options := clustergen.Flags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %v", fs.Args())}
	}
	o, err := options()
	if err != nil {
		return usageError{err}
	}

	start := time.Now()
	data, facts, err := clustergen.Generate(o)
	if err != nil {
		return err
	}
	took := time.Since(start)
	if *out == "-" {
		_, err = stdout.Write(data)
		stdout = stderr
	} else {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if *markdown {
		_, err = io.WriteString(stdout, Markdown(facts))
	} else {
		_, err = io.WriteString(stdout, Summary(facts, *out, took))
	}
	return err
}
