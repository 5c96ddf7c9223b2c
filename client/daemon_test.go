package client

// Real servers for the tests: goconfd's daemon (built once per test
// binary) and Ganeti 3.0.2's own ganeti-confd when the reference is
// installed (conformance/reference/setup.sh), run by internal/testdaemon.

import (
	"os"
	"testing"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// Test data: the rich cluster of the conformance suite and the key of
// docs/protocol.md §1.8.
const (
	richConfig = "../config/testdata/rich.json"
	refKeyFile = "../conformance/testdata/hmac.key"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdaemon.RemoveBuilt()
	os.Exit(code)
}

// goconfdBin returns the path of goconfd's daemon, building it on first
// use (or $GOCONFD_BIN).
func goconfdBin(t testing.TB) string {
	t.Helper()
	return testdaemon.Goconfd(t)
}

// referenceBin returns the real ganeti-confd, or skips the test when the
// reference is not installed (fails with GOCONFD_CONFORMANCE=1).
func referenceBin(t testing.TB) string {
	t.Helper()
	return testdaemon.RequireReference(t)
}

// pyquery returns the path of pyquery.py (the real Python client), or
// skips as referenceBin does.
func pyquery(t testing.TB) string {
	t.Helper()
	return testdaemon.RefScript(t, "pyquery.py")
}

// daemon is a running confd process.
type daemon struct {
	*testdaemon.Confd
	name string
}

// startDaemon runs bin as a confd on a reserved loopback port, with a
// GANETI_ROOTDIR holding config and key, and waits until it answers a
// ping with status 0. It stops at the end of the test.
func startDaemon(t testing.TB, name, bin, config, keyFile string) *daemon {
	t.Helper()
	d := &daemon{Confd: testdaemon.StartConfd(t, bin, config, keyFile), name: name}
	t.Logf("%s on %v (ready in %v)", d.name, d.Addr, d.Ready)
	return d
}

// peer is the daemon's address as a Peer.
func (d *daemon) peer() Peer {
	return Peer{Host: d.Addr.Addr().String(), Port: d.Addr.Port()}
}
