package metrics

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

var (
	testNow  = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	testLoad = testNow.Add(-90 * time.Second)
)

// serving is a watcher's state while it serves serial 42.
func serving() reload.Status {
	return reload.Status{
		Mode: reload.Inotify, Serving: true, Loads: 3, Failures: 1, Checks: 7,
		LastGoodSerial: 42, LastGoodClusterSerial: 3190, LastGoodTime: testLoad,
		LastLoadDuration: 1500 * time.Microsecond, LastLoadBytes: 12345,
		LastLoadCost: 2 * time.Millisecond, LoadCost: 250 * time.Millisecond,
		LastGoodSHA256: strings.Repeat("ab", 32),
		KeyTime:        testNow.Add(-time.Hour),
	}
}

// failing is serving with a bad content on disk.
func failing() reload.Status {
	rs := serving()
	rs.FailingNow = true
	rs.FailingSince = testNow.Add(-10 * time.Second)
	rs.LastError = `/x/config.data: cluster: unknown key "bogus"`
	rs.LastErrorTime = testNow.Add(-5 * time.Second)
	return rs
}

func testStats() server.Stats {
	var st server.Stats
	st.Received = 20
	st.Outcomes[server.Answered] = 12
	st.Outcomes[server.DropHMAC] = 5
	st.Outcomes[server.DropType] = 3
	st.Answers[protocol.TypePing][protocol.StatusOK] = 10
	st.Answers[protocol.TypeNodeRoleByName][protocol.StatusError] = 2
	st.Sent, st.SentBytes, st.KernelDrops = 12, 1800, 4
	st.Latency.Buckets[2] = 3 // (2 µs, 4 µs]
	st.Latency.Buckets[5] = 1 // (16 µs, 32 µs]
	st.Latency.Count = 4
	st.Latency.Sum = 30 * time.Microsecond
	return st
}

func testSources(rs reload.Status) *Sources {
	return &Sources{
		Server:  testStats,
		Sockets: func() int { return 2 },
		Buffers: func() server.Buffers { return server.Buffers{Recv: 8 << 20, Send: 212992} },
		Reload:  func() reload.Status { return rs },
		Watch: func() server.WatchStats {
			return server.WatchStats{Parked: 3, Capacity: 4096, ParkedTotal: 10, Changed: 7}
		},
		Version: "1.2.3",
		Now:     func() time.Time { return testNow },
	}
}

// TestPromlint checks every metric's name and help, goconfd's and the
// standard collectors'.
func TestPromlint(t *testing.T) {
	reg := NewRegistry(testSources(serving()))
	problems, err := promlint.NewWithMetricFamilies(mustGather(t, reg)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func mustGather(t *testing.T, reg *prometheus.Registry) []*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func TestCollectorValues(t *testing.T) {
	tests := []struct {
		name   string
		rs     reload.Status
		metric string
		want   string
	}{
		{"answered", serving(), "goconfd_requests_answered_total", `
goconfd_requests_answered_total{status="ok",type="ping"} 10
goconfd_requests_answered_total{status="error",type="node-role"} 2
`},
		{"dropped", serving(), "goconfd_datagrams_dropped_total", `
goconfd_datagrams_dropped_total{reason="bad_hmac"} 5
goconfd_datagrams_dropped_total{reason="unknown_type"} 3
goconfd_datagrams_dropped_total{reason="bad_magic"} 0
`},
		{"kernel drops", serving(), "goconfd_kernel_dropped_datagrams_total", "goconfd_kernel_dropped_datagrams_total 4\n"},
		{"bytes", serving(), "goconfd_reply_sent_bytes_total", "goconfd_reply_sent_bytes_total 1800\n"},
		{"latency", serving(), "goconfd_request_duration_seconds", `
goconfd_request_duration_seconds_bucket{le="2e-06"} 0
goconfd_request_duration_seconds_bucket{le="4e-06"} 3
goconfd_request_duration_seconds_bucket{le="1.6e-05"} 3
goconfd_request_duration_seconds_bucket{le="3.2e-05"} 4
goconfd_request_duration_seconds_bucket{le="+Inf"} 4
goconfd_request_duration_seconds_sum 3e-05
goconfd_request_duration_seconds_count 4
`},
		{"serial", serving(), "goconfd_config_serial", "goconfd_config_serial 42\n"},
		{"cluster serial", serving(), "goconfd_config_cluster_serial", "goconfd_config_cluster_serial 3190\n"},
		{"age", serving(), "goconfd_config_age_seconds", "goconfd_config_age_seconds 90\n"},
		{"not failing", serving(), "goconfd_config_load_failing", "goconfd_config_load_failing 0\n"},
		{"failing", failing(), "goconfd_config_load_failing", "goconfd_config_load_failing 1\n"},
		{"failing still serves", failing(), "goconfd_config_serial", "goconfd_config_serial 42\n"},
		{"no config", reload.Status{Unavailable: "Configuration not yet loaded", LastGoodSerial: 7, LastGoodTime: testLoad},
			"goconfd_config_serial", "goconfd_config_serial 0\n"},
		{"reloads", serving(), "goconfd_config_loads_total", `
goconfd_config_loads_total{result="success"} 3
goconfd_config_loads_total{result="failure"} 1
`},
		{"load duration", serving(), "goconfd_config_last_load_duration_seconds", "goconfd_config_last_load_duration_seconds 0.0015\n"},
		{"key age", serving(), "goconfd_hmac_key_age_seconds", "goconfd_hmac_key_age_seconds 3600\n"},
		{"sockets", serving(), "goconfd_sockets_open", "goconfd_sockets_open 2\n"},
		{"receive buffer", serving(), "goconfd_socket_receive_buffer_bytes", "goconfd_socket_receive_buffer_bytes 8.388608e+06\n"},
		{"send buffer", serving(), "goconfd_socket_send_buffer_bytes", "goconfd_socket_send_buffer_bytes 212992\n"},
		{"load cost", serving(), "goconfd_config_last_load_cost_seconds", "goconfd_config_last_load_cost_seconds 0.002\n"},
		{"load cost total", serving(), "goconfd_config_load_cost_seconds_total", "goconfd_config_load_cost_seconds_total 0.25\n"},
		{"watch mode", serving(), "goconfd_config_watch_mode", `
goconfd_config_watch_mode{mode="inotify"} 1
goconfd_config_watch_mode{mode="polling"} 0
`},
		{"build info", serving(), "goconfd_build_info", "goconfd_build_info{goversion=\"" + runtime.Version() + "\",version=\"1.2.3\"} 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrape(t, Handler(testSources(tt.rs), slog.New(slog.DiscardHandler)), tt.metric)
			for _, line := range strings.Split(strings.TrimSpace(tt.want), "\n") {
				if !containsLine(got, line) {
					t.Errorf("scrape lacks %q:\n%s", line, got)
				}
			}
		})
	}
}

// TestCollectorCount checks that the collector gives every metric it
// describes, and one series per type and status and per drop reason.
func TestCollectorCount(t *testing.T) {
	c := collector{src: testSources(serving())}
	const want = protocol.NumTypes*server.NumStatuses + // answered
		(int(server.NumOutcomes) - 1) + // dropped
		7 + // received, truncated, kernel drops, sent, bytes, send and read errors
		2 + // latency, sockets
		2 + // receive and send buffers
		6 + // serving, serial, cluster serial, loaded time, age, failing
		2 + // loads by result
		6 + // load duration, size and cost, total cost, checks, read races
		3 + // watch modes
		4 + // key age, changes, failures, unusable
		1 + // build info
		2 + 3 + 4 + 1 // watch: parked, capacity, requests, answered, send errors
	if got := testutil.CollectAndCount(c); got != want {
		t.Errorf("collector gives %d metrics, want %d", got, want)
	}
	descs := make(chan *prometheus.Desc, 100)
	c.Describe(descs)
	close(descs)
	if n, want := len(descs), 37; n != want {
		t.Errorf("collector describes %d metrics, want %d", n, want)
	}
}

// scrape returns the lines of h's /metrics about the metric name.
func scrape(t *testing.T, h http.Handler, name string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var out []string
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(l, name+" ") || strings.HasPrefix(l, name+"{") ||
			strings.HasPrefix(l, name+"_bucket") || strings.HasPrefix(l, name+"_sum") || strings.HasPrefix(l, name+"_count") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name     string
		rs       reload.Status
		wantOK   bool
		wantText string
	}{
		{"serving", serving(), true, "ok: serving serial 42 (cluster serial 3190) loaded at 2026-12-02T09:58:30Z"},
		{"failing", failing(), false, `the config file fails to load since 2026-12-02T09:59:50Z: /x/config.data: cluster: unknown key "bogus"; ` +
			"still serving serial 42 (cluster serial 3190) loaded at 2026-12-02T09:58:30Z"},
		{"no config", reload.Status{Unavailable: "Configuration not yet loaded"}, false,
			`not serving a config: every request is answered with "Configuration not yet loaded"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, text := Health(tt.rs)
			if ok != tt.wantOK || text != tt.wantText {
				t.Errorf("Health = %v, %q; want %v, %q", ok, text, tt.wantOK, tt.wantText)
			}
		})
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		rs         reload.Status
		path       string
		wantCode   int
		wantType   string
		wantInBody string
	}{
		{"healthz ok", serving(), PathHealth, 200, "text/plain; charset=utf-8", "ok: serving serial 42"},
		{"healthz failing", failing(), PathHealth, 503, "text/plain; charset=utf-8", "fails to load since"},
		{"healthz not serving", reload.Status{Unavailable: "x"}, PathHealth, 503, "text/plain; charset=utf-8", "not serving a config"},
		{"metrics", serving(), PathMetrics, 200, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", "# HELP goconfd_config_serial "},
		{"status", failing(), PathStatus, 200, "application/json", `"failing": true`},
		{"index", serving(), "/", 200, "text/plain; charset=utf-8", "/healthz"},
		{"unknown path", serving(), "/nosuch", 404, "text/plain; charset=utf-8", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler(testSources(tt.rs), slog.New(slog.DiscardHandler))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.wantType {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantType)
			}
			if !strings.Contains(rec.Body.String(), tt.wantInBody) {
				t.Errorf("body lacks %q:\n%s", tt.wantInBody, rec.Body.String())
			}
		})
	}
}

func TestStatusDocument(t *testing.T) {
	h := Handler(testSources(failing()), slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", PathStatus, nil))
	var got Status
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("/status is not a Status: %v\n%s", err, rec.Body.String())
	}
	since := testNow.Add(-10 * time.Second)
	switch {
	case got.Healthy || !got.Failing || got.Serial != 42 || got.ClusterSerial != 3190:
		t.Errorf("state: %+v", got)
	case got.SHA256 != strings.Repeat("ab", 32) || got.LoadedAt == nil || !got.LoadedAt.Equal(testLoad) || got.AgeSeconds != 90:
		t.Errorf("config: %+v", got)
	case got.FailingSince == nil || !got.FailingSince.Equal(since) || !strings.Contains(got.LastError, "bogus"):
		t.Errorf("failure: %+v", got)
	case got.KeyAgeSeconds != 3600 || got.KeyLoadedAt == nil:
		t.Errorf("key: %+v", got)
	case got.Counters.Received != 20 || got.Counters.Answered != 12 || got.Counters.Dropped["bad_hmac"] != 5 ||
		got.Counters.Answers["ping"]["ok"] != 10 || got.Counters.Loads != 3 || got.Counters.LoadFailures != 1:
		t.Errorf("counters: %+v", got.Counters)
	case got.Version != "1.2.3" || got.WatchMode != "inotify":
		t.Errorf("version, mode: %q, %q", got.Version, got.WatchMode)
	}
}

// TestServer serves on a loopback port and stops with its context.
func TestServer(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", testSources(serving()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + srv.Addr().String() + PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "ok: ") {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if _, err := c.Get("http://" + srv.Addr().String() + PathHealth); err == nil {
		t.Error("still serving after Serve returned")
	}
}

func TestListenErrors(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "nosuchhost.invalid:80", "127.0.0.1:99999"} {
		if srv, err := Listen(addr, testSources(serving()), slog.New(slog.DiscardHandler)); err == nil {
			srv.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		} else if !strings.HasPrefix(err.Error(), "metrics address") {
			t.Errorf("Listen(%q): %v, want an error naming the metrics address", addr, err)
		}
	}
}
