package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// describedNames returns the names of the metrics the collector
// describes.
func describedNames(t *testing.T) map[string]bool {
	t.Helper()
	ch := make(chan *prometheus.Desc, 100)
	collector{}.Describe(ch)
	close(ch)
	names := map[string]bool{}
	re := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		names[m[1]] = true
	}
	return names
}

var metricNameRE = regexp.MustCompile(`goconfd_[a-z_]+`)

// baseName strips a histogram series' suffix.
func baseName(s string) string {
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(s, suf); ok && b == "goconfd_request_duration_seconds" {
			return b
		}
	}
	return s
}

// TestDocsListEveryMetric checks that docs/metrics.md names every metric
// and no other goconfd metric.
func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	names := describedNames(t)
	for n := range names {
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/metrics.md does not list %s", n)
		}
	}
	for _, n := range metricNameRE.FindAllString(string(doc), -1) {
		if !names[baseName(n)] {
			t.Errorf("docs/metrics.md names %s, which does not exist", n)
		}
	}
}

// TestGrafanaDashboard checks that the example dashboard is JSON and
// queries only metrics that exist.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("../../examples/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("not a dashboard: %v", err)
	}
	if len(dash.Panels) < 10 {
		t.Errorf("%d panels", len(dash.Panels))
	}
	names := describedNames(t)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range metricNameRE.FindAllString(tg.Expr, -1) {
				if !names[baseName(n)] {
					t.Errorf("panel %q queries %s, which does not exist", p.Title, n)
				}
				used[baseName(n)] = true
			}
		}
	}
	for _, main := range []string{
		"goconfd_requests_answered_total", "goconfd_datagrams_dropped_total", "goconfd_kernel_dropped_datagrams_total",
		"goconfd_request_duration_seconds", "goconfd_config_serial", "goconfd_config_load_failing", "goconfd_config_loads_total",
		"goconfd_config_age_seconds", "goconfd_hmac_key_age_seconds",
	} {
		if !used[main] {
			t.Errorf("no panel shows %s", main)
		}
	}
}
