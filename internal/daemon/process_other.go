//go:build !linux

package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Detach is only supported on Linux; elsewhere it says so and returns 1.
// Run the daemon with -f under a supervisor instead.
func Detach(args []string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "%sdetaching is only supported on Linux; run with -f\n", startErrPrefix)
	return 1
}

func setCommandName(string) {}

func becomeDaemon() error { return nil }

// lockFile does not lock outside Linux: goconfd's daemon runs where
// Ganeti runs, and elsewhere a second instance is not refused.
func lockFile(*os.File) error { return nil }

// redirectStdio is not supported outside Linux, where detaching is not
// either.
func redirectStdio(*os.File) error { return errors.ErrUnsupported }

// RaiseInterrupt exits with ExitInterrupted.
func RaiseInterrupt() { os.Exit(ExitInterrupted) }
