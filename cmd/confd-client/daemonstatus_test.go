package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/metrics"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// statusDaemon is a goconfd with metrics, and its files.
type statusDaemon struct {
	*testdaemon.Confd
	config []byte
}

// startStatusDaemon runs goconfd on the example cluster with
// --metrics-address on a port the kernel chooses.
func startStatusDaemon(t *testing.T) *statusDaemon {
	t.Helper()
	cfg := []byte(examples.Config)
	c := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{
		Bin: goconfdBin(t), Config: cfg, Key: []byte(examples.Key), Metrics: true,
	})
	return &statusDaemon{Confd: c, config: cfg}
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
	base := []string{daemonStatusCmd, "--root", sd.Root, "--metrics-address", sd.MetricsAddr}
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
	sd.WriteConfig(t, []byte("{"))
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
	sd.WriteConfig(t, sd.config)
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
	key := []byte(examples.Key)
	// This daemon answers every ping with an error.
	d := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{
		Bin: goconfdBin(t), Config: []byte("{"), Key: key, Metrics: true, Ready: testdaemon.AnswerProbe(key),
	})
	base := []string{daemonStatusCmd, "--root", d.Root, "--metrics-address", d.MetricsAddr}
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
