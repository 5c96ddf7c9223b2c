package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/daemon"
)

// readUnit returns a unit file's settings: each key's values in order.
func readUnit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			k = strings.TrimSpace(k)
			keys[k] = append(keys[k], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestHardenedUnit checks the hardened unit against what the daemon
// needs: it runs in the foreground with options it takes and says when
// it is ready, it has no privilege (confd's port is unprivileged), it
// can write where its log and pid files are and nowhere else, and it
// only reads Ganeti's data. Where systemd-analyze is installed, the
// unit's exposure score must stay as written next to it.
func TestHardenedUnit(t *testing.T) {
	const unit = "../../examples/systemd/ganeti-confd-hardened.service"
	keys := readUnit(t, unit)
	one := func(k string) string {
		if len(keys[k]) != 1 {
			t.Errorf("%s set %d times, want once", k, len(keys[k]))
			return ""
		}
		return keys[k][0]
	}
	want := map[string]string{
		"Type": "notify", "User": daemon.ConfdUser, "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"CapabilityBoundingSet": "", "AmbientCapabilities": "", "ReadOnlyPaths": "/var/lib/ganeti",
		"PrivateDevices": "yes", "ProtectHome": "yes",
	}
	for k, v := range want {
		if got := one(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if daemon.DefaultPort < 1024 {
		t.Errorf("port %d is privileged: an empty capability set cannot bind it", daemon.DefaultPort)
	}
	if wd := one("WatchdogSec"); wd == "" || wd == "0" {
		t.Errorf("WatchdogSec = %q, want a watchdog", wd)
	}

	// Writable: the directories of the log and the pid file, which
	// Ganeti's layout puts under /var/log/ganeti and /var/run/ganeti
	// (/run/ganeti: /var/run is a link to /run).
	paths := daemon.NewPaths("")
	var writable []string
	for _, p := range strings.Fields(one("ReadWritePaths")) {
		writable = append(writable, strings.TrimPrefix(p, "-"))
	}
	for _, f := range []string{paths.LogFile, strings.Replace(paths.PidFile, "/var/run/", "/run/", 1)} {
		ok := false
		for _, w := range writable {
			ok = ok || filepath.Dir(f) == w
		}
		if !ok {
			t.Errorf("%s is not in ReadWritePaths %q", f, writable)
		}
	}
	for _, w := range writable {
		if strings.HasPrefix(filepath.Dir(paths.Config), w) {
			t.Errorf("ReadWritePaths %q makes Ganeti's data writable", w)
		}
	}

	fields := strings.Fields(one("ExecStart"))
	if len(fields) == 0 || !strings.HasSuffix(fields[0], "/"+daemon.Program) {
		t.Fatalf("ExecStart = %q", keys["ExecStart"])
	}
	var args []string
	for _, a := range fields[1:] {
		if !strings.HasPrefix(a, "$") {
			args = append(args, a)
		}
	}
	if opts, err := daemon.Parse(args); err != nil || !opts.Foreground {
		t.Errorf("ExecStart arguments %q: %+v, %v; want -f", args, opts, err)
	}

	sock := readUnit(t, "../../examples/systemd/ganeti-confd.socket")
	if got := sock["ListenDatagram"]; len(got) != 1 || got[0] != strconv.Itoa(daemon.DefaultPort) {
		t.Errorf("socket unit ListenDatagram = %q, want %d", got, daemon.DefaultPort)
	}

	notes, err := os.ReadFile("../../examples/systemd/ganeti-confd-hardened.security.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Overall exposure level: (\d+\.\d) OK`).FindSubmatch(notes)
	if m == nil {
		t.Fatalf("no score in the notes:\n%s", notes)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: the score is not checked")
	}
	out, err := exec.Command(analyze, "security", "--offline=true", unit).CombinedOutput()
	if err != nil {
		t.Skipf("systemd-analyze security --offline=true: %v (an older systemd?)\n%s", err, out)
	}
	got := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d)`).FindSubmatch(out)
	if got == nil {
		t.Fatalf("no score in:\n%s", out)
	}
	g, _ := strconv.ParseFloat(string(got[1]), 64)
	w, _ := strconv.ParseFloat(string(m[1]), 64)
	if g > w {
		t.Errorf("exposure %.1f, worse than the %.1f the notes give:\n%s", g, w, out)
	}
}
