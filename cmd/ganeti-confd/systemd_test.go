package main

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/daemon"
)

// TestSystemdExample checks the unit in examples/systemd against what
// the daemon does: it runs in the foreground with options the daemon
// takes, and says when it is ready (Type=notify).
func TestSystemdExample(t *testing.T) {
	f, err := os.Open("../../examples/systemd/ganeti-confd.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if keys["Type"] != "notify" || keys["User"] != daemon.ConfdUser {
		t.Errorf("Type = %q, User = %q; want notify and %s", keys["Type"], keys["User"], daemon.ConfdUser)
	}
	fields := strings.Fields(keys["ExecStart"])
	if len(fields) == 0 || !strings.HasSuffix(fields[0], "/"+daemon.Program) {
		t.Fatalf("ExecStart = %q", keys["ExecStart"])
	}
	var args []string
	for _, a := range fields[1:] {
		if !strings.HasPrefix(a, "$") { // environment files' arguments
			args = append(args, a)
		}
	}
	opts, err := daemon.Parse(args)
	if err != nil || !opts.Foreground {
		t.Errorf("ExecStart arguments %q: %+v, %v; want -f", args, opts, err)
	}
}
