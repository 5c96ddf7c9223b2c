package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/metrics"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

var metricsAddrRE = regexp.MustCompile(`serving metrics addr=(127\.0\.0\.1:\d+)`)

// statusDaemon is a goconfd with metrics, and its files.
type statusDaemon struct {
	*testdaemon.Daemon
	root, metricsAddr string
	config            []byte
}

// startStatusDaemon runs goconfd on the example cluster with
// --metrics-address on a port the kernel chooses.
func startStatusDaemon(t *testing.T) *statusDaemon {
	t.Helper()
	cfg, err := os.ReadFile("../../examples/config.data")
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("../../examples/hmac.key")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := testdaemon.LayoutRoot(root, cfg, key); err != nil {
		t.Fatal(err)
	}
	d := testdaemon.StartT(t, testdaemon.Config{
		Bin: goconfdBin(t),
		Args: func(port uint16) []string {
			return append(testdaemon.ConfdArgs(port), "--metrics-address", "127.0.0.1:0")
		},
		Dir: dir, Env: testdaemon.ConfdEnv(root), Ready: testdaemon.PingProbe(key),
	})
	m := metricsAddrRE.FindStringSubmatch(d.Output())
	if m == nil {
		t.Fatalf("the log does not say where metrics are served\n%s", d.Tail(2000))
	}
	return &statusDaemon{Daemon: d, root: root, metricsAddr: m[1], config: cfg}
}

// writeConfig replaces the daemon's config.data by renaming a new file
// over it.
func (sd *statusDaemon) writeConfig(t *testing.T, data []byte) {
	t.Helper()
	path := filepath.Join(sd.root, testdaemon.ConfigRel)
	if err := os.WriteFile(path+".tmp", data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonStatus runs daemon-status against a real goconfd as a probe
// would: healthy, the file on disk not the content served, the file
// broken, and no daemon at all.
func TestDaemonStatus(t *testing.T) {
	sd := startStatusDaemon(t)
	dir := t.TempDir()
	// A config that the daemon does not read: another serial.
	other := filepath.Join(dir, "other.data")
	if err := os.WriteFile(other, bytes.Replace(sd.config, []byte(`"serial_no": 1337`), []byte(`"serial_no": 1338`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{daemonStatusCmd, "--root", sd.root, "--metrics-address", sd.metricsAddr}
	ping := fmt.Sprintf("--ping=127.0.0.1:%d", sd.Addr.Port())
	deadPort := freePort(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"healthy", nil, statusHealthy, "ok: serving serial 1337 (cluster serial 128)", ""},
		{"healthy, with a ping", []string{ping}, statusHealthy, "is the content served", ""},
		{"file not compared", []string{"--config=-"}, statusHealthy, "requests: ", ""},
		{"another file on disk", []string{"--config", other, "--grace=200ms"}, statusUnhealthy,
			"differs from the content served", "is not the content served"},
		{"ping with no server", []string{fmt.Sprintf("--ping=127.0.0.1:%d", deadPort), "--timeout=300ms"}, statusNoAnswer, "", "no answer to a ping"},
		{"no daemon", []string{"--metrics-address", fmt.Sprintf("127.0.0.1:%d", deadPort)}, statusNoAnswer, "", "no answer"},
		{"bad address", []string{"--metrics-address", "localhost"}, statusUsage, "", "want HOST:PORT"},
		{"extra argument", []string{"x"}, statusUsage, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, append(append([]string(nil), base...), tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.wantStdout) || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
		})
	}
	if code, _, stderr := runTool(t, daemonStatusCmd); code != statusUsage || !strings.Contains(stderr, "--metrics-address HOST:PORT is required") {
		t.Errorf("without --metrics-address: exit %d, stderr %q", code, stderr)
	}

	// Broken on disk: the old config is still served, and that is a
	// failure for the probe; --json gives the daemon's document.
	sd.writeConfig(t, []byte("{"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, stdout, stderr := runTool(t, append(base, "--json")...)
		var st metrics.Status
		if code == statusUnhealthy {
			if err := json.Unmarshal([]byte(stdout), &st); err != nil || !st.Failing || st.Serial != 1337 {
				t.Errorf("--json while failing: %v, %+v\n%s", err, st, stdout)
			}
			if !strings.Contains(stderr, "fails to load since") {
				t.Errorf("stderr does not say why: %q", stderr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still exit %d after config.data broke; stderr %q", code, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Fixed: healthy again once the daemon has seen it.
	sd.writeConfig(t, sd.config)
	deadline = time.Now().Add(10 * time.Second)
	for {
		code, stdout, stderr := runTool(t, base...)
		if code == statusHealthy {
			break
		}
		if code != statusUnhealthy || time.Now().After(deadline) {
			t.Fatalf("after the fix: exit %d\n%s%s", code, stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDaemonStatusNotServing checks a daemon that answers every request
// with status 1 (its config never loaded): daemon-status exits 1, and
// says why, with and without a ping.
func TestDaemonStatusNotServing(t *testing.T) {
	key, err := os.ReadFile("../../examples/hmac.key")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := testdaemon.LayoutRoot(root, []byte("{"), key); err != nil {
		t.Fatal(err)
	}
	d := testdaemon.StartT(t, testdaemon.Config{
		Bin: goconfdBin(t),
		Args: func(port uint16) []string {
			return append(testdaemon.ConfdArgs(port), "--metrics-address", "127.0.0.1:0")
		},
		Dir: dir, Env: testdaemon.ConfdEnv(root),
		// This daemon answers every ping with an error: it is ready
		// when its log says it serves.
		Ready: func(context.Context, netip.AddrPort) error {
			out, _ := os.ReadFile(filepath.Join(dir, "daemon.out"))
			if !bytes.Contains(out, []byte(" INFO serving addr=")) {
				return fmt.Errorf("%w: not serving yet", testdaemon.ErrNotReady)
			}
			return nil
		},
	})
	m := metricsAddrRE.FindStringSubmatch(d.Output())
	if m == nil {
		t.Fatalf("the log does not say where metrics are served\n%s", d.Tail(2000))
	}
	base := []string{daemonStatusCmd, "--root", root, "--metrics-address", m[1]}
	tests := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr []string
	}{
		{"status", nil, "config:   none served", []string{"not serving a config"}},
		{"with a ping", []string{fmt.Sprintf("--ping=127.0.0.1:%d", d.Addr.Port())}, "config:   none served",
			[]string{"not serving a config", "ping: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, append(append([]string(nil), base...), tt.args...)...)
			ok := code == statusUnhealthy && strings.Contains(stdout, tt.wantStdout)
			for _, w := range tt.wantStderr {
				ok = ok && strings.Contains(stderr, w)
			}
			if !ok {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, statusUnhealthy, stdout, stderr)
			}
		})
	}
}
