package main

// Real-process test of what the daemon tells systemd (Type=notify):
// READY=1, STATUS= after every load, WATCHDOG=1 while it serves, and
// STOPPING=1. The stalled-loop case is tested in-process
// (server.TestLivenessStalledLoop, sdnotify.TestRunReportsAndFeedsWatchdog).

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

func TestSystemdNotify(t *testing.T) {
	cfg := []byte(examples.Config)
	sock := testdaemon.ListenNotify(t)
	msgs := sock.Messages()
	d := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{
		Bin: testdaemon.Goconfd(t), Config: cfg, Key: []byte(examples.Key),
		Env: []string{"NOTIFY_SOCKET=" + sock.Path, "WATCHDOG_USEC=200000"},
	})

	// waitFor returns the first message so far, or to come, for which ok
	// holds, counting the watchdog pings on the way. It looks at the
	// messages already seen too: the notifier's first STATUS= may reach
	// the socket before READY=1 (they come from different goroutines),
	// and it is sent once. The wait is long because a loaded CI machine
	// can starve the daemon for seconds; a passing run never waits it out.
	pings := 0
	var seen []string
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		for _, m := range seen {
			if ok(m) {
				return m
			}
		}
		deadline := time.After(60 * time.Second)
		for {
			select {
			case m := <-msgs:
				seen = append(seen, m)
				if m == "WATCHDOG=1" {
					pings++
				}
				if ok(m) {
					return m
				}
			case <-deadline:
				t.Fatalf("no %s within 60 s; messages: %q; log:\n%s", what, seen, d.Tail(20))
			}
		}
	}
	is := func(s string) func(string) bool { return func(m string) bool { return m == s } }
	has := func(s string) func(string) bool { return func(m string) bool { return strings.Contains(m, s) } }

	waitFor("READY=1", is("READY=1"))
	waitFor("STATUS= while serving", has("STATUS=serving serial 128 since "))
	waitFor("watchdog pings", func(string) bool { return pings >= 3 })

	cfgPath := filepath.Join(d.Root, testdaemon.ConfigRel)
	if err := os.WriteFile(cfgPath, []byte("{broken"), 0o640); err != nil {
		t.Fatal(err)
	}
	m := waitFor("STATUS= with the reload error", has("; last reload error (failing since "))
	if !strings.HasPrefix(m, "STATUS=serving serial 128 since ") || !strings.Contains(m, cfgPath) {
		t.Errorf("status while the file is broken: %q", m)
	}
	if err := os.WriteFile(cfgPath, cfg, 0o640); err != nil {
		t.Fatal(err)
	}
	waitFor("STATUS= once fixed", has(", since fixed): "))
	before := pings
	waitFor("watchdog pings after the reloads", func(string) bool { return pings >= before+3 })

	if err := d.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor("STOPPING=1", is("STOPPING=1"))
}
