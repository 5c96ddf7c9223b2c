package main

// Real-process tests of --metrics-address: the daemon, built and run by
// internal/testdaemon, serves requests while the test scrapes /metrics,
// breaks and fixes config.data, and watches /healthz and /status follow.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/metrics"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// metricsDaemon is a goconfd with --metrics-address on a free loopback
// TCP port.
type metricsDaemon struct {
	*testdaemon.Confd
	// base is the metrics server's URL.
	base string
	http *http.Client
}

// startMetricsDaemon starts goconfd on the example cluster with metrics
// on a port the kernel chooses.
func startMetricsDaemon(t *testing.T) *metricsDaemon {
	t.Helper()
	c := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{
		Bin: testdaemon.Goconfd(t), Config: []byte(examples.Config), Key: []byte(examples.Key), Metrics: true,
	})
	return &metricsDaemon{Confd: c, base: "http://" + c.MetricsAddr, http: &http.Client{Timeout: 5 * time.Second}}
}

// get fetches path and returns the status code and body.
func (md *metricsDaemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := md.http.Get(md.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, md.Tail(2000))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// sample returns the value of the series (name and labels as the text
// format writes them) in a scrape, failing the test when it is absent.
func sample(t *testing.T, scrape, series string) float64 {
	t.Helper()
	for _, l := range strings.Split(scrape, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the scrape", series)
	return 0
}

// ping sends one ping and returns its reply's status and serial.
func (md *metricsDaemon) ping(t *testing.T, key []byte) (testdaemon.PingReply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return testdaemon.Ping(ctx, md.Addr, key)
}

// waitHealth polls /healthz until it answers code, and returns the body.
func (md *metricsDaemon) waitHealth(t *testing.T, code int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, body := md.get(t, metrics.PathHealth)
		if got == code {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still answers %d %q, want %d\n%s", got, body, code, md.Tail(2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetricsWhileServing scrapes a daemon that answers pings and drops
// a request signed with the wrong key, then breaks config.data: the
// scrape and /status show the failure while the old config is served,
// /healthz answers 503 until the file is fixed and 200 again after.
func TestMetricsWhileServing(t *testing.T) {
	md := startMetricsDaemon(t)
	if code, body := md.get(t, metrics.PathHealth); code != 200 || !strings.HasPrefix(body, "ok: serving serial 1337 (cluster serial 128)") {
		t.Fatalf("/healthz at start: %d %q", code, body)
	}
	const pings = 5
	for range pings {
		if r, err := md.ping(t, md.Key); err != nil || r.Status != 0 {
			t.Fatalf("ping: %+v, %v", r, err)
		}
	}
	if _, err := md.ping(t, []byte("wrong key\n")); err == nil {
		t.Fatal("a request signed with the wrong key was answered")
	}

	// The counters are published once per batch: the last datagram may
	// show a moment after its reply.
	var scrape string
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, scrape = md.get(t, metrics.PathMetrics)
		if sample(t, scrape, `goconfd_datagrams_dropped_total{reason="bad_hmac"}`) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tests := []struct {
		series string
		check  func(float64) bool
		want   string
	}{
		// The readiness probe pinged too.
		{`goconfd_requests_answered_total{status="ok",type="ping"}`, func(v float64) bool { return v >= pings+1 }, fmt.Sprint(">= ", pings+1)},
		{`goconfd_datagrams_dropped_total{reason="bad_hmac"}`, func(v float64) bool { return v == 1 }, "1"},
		{`goconfd_datagrams_dropped_total{reason="bad_magic"}`, func(v float64) bool { return v == 0 }, "0"},
		{`goconfd_replies_sent_total`, func(v float64) bool { return v >= pings+1 }, fmt.Sprint(">= ", pings+1)},
		{`goconfd_reply_sent_bytes_total`, func(v float64) bool { return v > 100*(pings+1) }, fmt.Sprint("> ", 100*(pings+1))},
		{`goconfd_config_serial`, func(v float64) bool { return v == 1337 }, "1337"},
		{`goconfd_config_cluster_serial`, func(v float64) bool { return v == 128 }, "128"},
		{`goconfd_config_load_failing`, func(v float64) bool { return v == 0 }, "0"},
		{`goconfd_config_loads_total{result="success"}`, func(v float64) bool { return v == 1 }, "1"},
		{`goconfd_config_age_seconds`, func(v float64) bool { return v > 0 && v < 60 }, "in (0, 60)"},
		{`goconfd_hmac_key_age_seconds`, func(v float64) bool { return v > 0 && v < 60 }, "in (0, 60)"},
		{`goconfd_sockets_open`, func(v float64) bool { return v >= 1 }, ">= 1"},
		// Read back from the kernel on Linux (capped at rmem_max when
		// not root); not known elsewhere.
		{`goconfd_socket_receive_buffer_bytes`, func(v float64) bool { return (v > 0) == (runtime.GOOS == "linux") }, "> 0 on Linux, else 0"},
		{`goconfd_socket_send_buffer_bytes`, func(v float64) bool { return (v > 0) == (runtime.GOOS == "linux") }, "> 0 on Linux, else 0"},
		{`goconfd_request_duration_seconds_count`, func(v float64) bool { return v >= 1 }, ">= 1 (the first answer is sampled)"},
	}
	for _, tt := range tests {
		if v := sample(t, scrape, tt.series); !tt.check(v) {
			t.Errorf("%s = %v, want %s", tt.series, v, tt.want)
		}
	}

	good, err := os.ReadFile(filepath.Join(md.Root, testdaemon.ConfigRel))
	if err != nil {
		t.Fatal(err)
	}
	md.WriteConfig(t, []byte(`{"version": 3000000, "cluster": {`))
	start := time.Now()
	body := md.waitHealth(t, 503)
	t.Logf("/healthz answered 503 %v after the bad write", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(body, "fails to load since") || !strings.Contains(body, "still serving serial 1337") {
		t.Errorf("/healthz body %q does not say why", body)
	}
	// The old config is still served, and the metrics say so.
	if r, err := md.ping(t, md.Key); err != nil || r.Status != 0 {
		t.Errorf("ping while config.data is broken: %+v, %v", r, err)
	}
	_, scrape = md.get(t, metrics.PathMetrics)
	for series, want := range map[string]float64{
		`goconfd_config_load_failing`:                  1,
		`goconfd_config_serial`:                        1337,
		`goconfd_config_loads_total{result="failure"}`: 1,
		`goconfd_config_loads_total{result="success"}`: 1,
	} {
		if v := sample(t, scrape, series); v != want {
			t.Errorf("after a failed reload: %s = %v, want %v", series, v, want)
		}
	}
	var st metrics.Status
	_, doc := md.get(t, metrics.PathStatus)
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		t.Fatalf("/status: %v\n%s", err, doc)
	}
	if st.Healthy || !st.Failing || st.FailingSince == nil || !strings.Contains(st.LastError, testdaemon.ConfigRel) || st.Serial != 1337 || st.SHA256 == "" {
		t.Errorf("/status after a failed reload: %+v", st)
	}

	// Fixed with a new serial: served, healthy, and the scrape follows.
	md.WriteConfig(t, bytes.Replace(good, []byte(`"serial_no": 1337`), []byte(`"serial_no": 1338`), 1))
	start = time.Now()
	if body := md.waitHealth(t, 200); !strings.HasPrefix(body, "ok: serving serial 1338") {
		t.Errorf("/healthz after the fix: %q", body)
	}
	t.Logf("/healthz answered 200 %v after the fix", time.Since(start).Round(time.Millisecond))
	_, scrape = md.get(t, metrics.PathMetrics)
	for series, want := range map[string]float64{
		`goconfd_config_load_failing`:                  0,
		`goconfd_config_serial`:                        1338,
		`goconfd_config_loads_total{result="success"}`: 2,
	} {
		if v := sample(t, scrape, series); v != want {
			t.Errorf("after the fix: %s = %v, want %v", series, v, want)
		}
	}
	// The failed load, long done, was paced and its cost counted.
	if last, total := sample(t, scrape, `goconfd_config_last_load_cost_seconds`), sample(t, scrape, `goconfd_config_load_cost_seconds_total`); last <= 0 || total < last {
		t.Errorf("after two reloads: last load cost %v, total %v; want a cost, and the total at least that", last, total)
	}
}

// TestMetricsAddressInUse checks that a metrics address that cannot be
// bound makes the start-up fail, naming it.
func TestMetricsAddressInUse(t *testing.T) {
	md := startMetricsDaemon(t)
	addr := md.MetricsAddr
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := testdaemon.LayoutRoot(root, []byte("{}"), md.Key); err != nil {
		t.Fatal(err)
	}
	_, err := testdaemon.Start(testdaemon.Config{
		Bin: testdaemon.Goconfd(t),
		Args: func(port uint16) []string {
			return append(testdaemon.ConfdArgs(port), "--metrics-address", addr)
		},
		Dir: dir, Env: testdaemon.ConfdEnv(root), Ready: testdaemon.PingProbe(md.Key), Attempts: 1,
	})
	if err == nil || !strings.Contains(err.Error(), "metrics address: listen tcp "+addr) {
		t.Errorf("second daemon on %s: %v", addr, err)
	}
}
