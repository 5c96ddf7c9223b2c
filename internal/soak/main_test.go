package soak

import (
	"os"
	"testing"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// TestMain runs the tests, or, with floodEnv set, makes this binary the
// flood process of TestHostileTrafficUnderLoad. It removes the daemon
// binary built for the tests at the end.
func TestMain(m *testing.M) {
	if spec := os.Getenv(floodEnv); spec != "" {
		os.Exit(floodProcess(spec, os.Stdin, os.Stdout))
	}
	code := m.Run()
	testdaemon.RemoveBuilt()
	os.Exit(code)
}
