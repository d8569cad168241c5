package prometheus

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Accept headers of a scraper that requests one format.
const (
	acceptText        = "text/plain;version=0.0.4"
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0"
)

// expectation is a PromQL query whose single result must have labels
// including Labels and a value that Want accepts.
type expectation struct {
	Expr   string
	Labels map[string]string
	Want   valueCheck
}

// valueCheck accepts a value; Text describes what it accepts.
type valueCheck struct {
	Accept func(float64) bool
	Text   string
}

func eq(want float64) valueCheck {
	return valueCheck{Accept: func(v float64) bool { return v == want }, Text: fmt.Sprintf("= %g", want)}
}

func ge(want float64) valueCheck {
	return valueCheck{Accept: func(v float64) bool { return v >= want }, Text: fmt.Sprintf(">= %g", want)}
}

func expect(expr string, labels map[string]string, want valueCheck) expectation {
	return expectation{Expr: expr, Labels: labels, Want: want}
}

// unmet returns a description of why e does not hold yet, or "".
func (e expectation) unmet(p *prometheusServer) string {
	samples, err := p.query(e.Expr)
	switch {
	case err != nil:
		return fmt.Sprintf("%s: %v", e.Expr, err)
	case len(samples) != 1:
		return fmt.Sprintf("%s: %d series %v, want 1", e.Expr, len(samples), samples)
	case !includes(samples[0].Labels, e.Labels):
		return fmt.Sprintf("%s: labels %v, want them to include %v", e.Expr, samples[0].Labels, e.Labels)
	case !e.Want.Accept(samples[0].Value):
		return fmt.Sprintf("%s: value %g, want %s", e.Expr, samples[0].Value, e.Want.Text)
	}
	return ""
}

func TestPrometheusScrapesDaemonAndPlugin(t *testing.T) {
	d := startDaemon(t)
	pluginAddr := freeAddress(t)
	waitFor(t, 20*time.Second, "prometheus-metrics to accept its config", func() bool {
		_, _, code := d.run(strings.NewReader(`{"listen": "`+pluginAddr+`", "max_series_per_tenant": 4}`),
			"plugins", "configure", "prometheus-metrics", "--file", "-")
		return code == 0
	})
	d.cli("", "tenants", "create", "acme", "--plan", "professional")
	d.cli("", "tenants", "create", "limited", "--plan", "professional")
	d.cli("", "tenants", "set-quota", "limited", "--requests-per-minute", "1")

	recordChaosMetrics(t, d)
	rejectBadRecords(t, d)
	d.cli("", "metrics", "list", "--tenant", "limited")
	if _, errOut, code := d.run(nil, "metrics", "list", "--tenant", "limited"); code == 0 || !strings.Contains(errOut, "rate limit") {
		t.Errorf("second call of tenant limited: exit %d, stderr %q; want a rate limit rejection", code, errOut)
	}
	detectAnomaly(t, d)
	addDBFault(t, d)
	dropUnsafePlugin(t, d)

	p := startPrometheus(t, map[string]string{"mockforged": d.metricsAddr, "mockforged-chaos": pluginAddr})
	acme := map[string]string{"job": "mockforged-chaos", "tenant": "acme"}
	expectations := []expectation{
		expect(`up{job="mockforged"}`, nil, eq(1)),
		expect(`up{job="mockforged-chaos"}`, nil, eq(1)),
		expect(`chaos_faults_injected_total{fault="latency"}`, acme, eq(4)),
		expect(`chaos_queue_depth{tenant="acme",queue="orders"}`, acme, eq(17)),
		expect(`chaos_queue_depth{tenant="default",queue="orders"}`, map[string]string{"job": "mockforged-chaos"}, eq(5)),
		expect(`chaos_request_duration_seconds_count`, acme, eq(2)),
		expect(`chaos_request_duration_seconds_bucket{le="0.5"}`, acme, eq(2)),
		expect(`mockforged_plugin_calls_total{plugin="prometheus-metrics",tenant="acme",outcome="success"}`,
			map[string]string{"job": "mockforged"}, eq(7)),
		expect(`mockforged_plugin_calls_total{plugin="prometheus-metrics",tenant="acme",outcome="failure"}`, nil, eq(3)),
		expect(`mockforged_plugin_calls_total{plugin="prometheus-metrics",tenant="_unknown",outcome="resource_exhausted"}`, nil, eq(1)),
		expect(`mockforged_plugin_call_duration_seconds_count{plugin="prometheus-metrics"}`, nil, ge(10)),
		expect(`mockforged_tenant_rejections_total{tenant="limited"}`, map[string]string{"reason": "rate_limited"}, eq(1)),
		expect(`sum(mockforged_anomalies_detected_total{metric="checkout.latency_ms",type="statistical_outlier"})`, nil, eq(1)),
		expect(`mockforged_db_faults_active{tenant="default"}`, map[string]string{"type": "connection_reset"}, eq(1)),
		expect(`mockforged_chaos_experiments_active{tenant="default"}`, map[string]string{"plugin": "db-fault-injector"}, eq(1)),
		expect(`mockforged_plugin_launch_failures_total{reason="unsafe_file"}`, nil, eq(1)),
		expect(`mockforged_plugins{state="failed"}`, nil, eq(1)),
		expect(`mockforged_plugins{state="running"}`, nil, ge(3)),
		expect(`mockforged_build_info`, nil, eq(1)),
		expect(`process_resident_memory_bytes{job="mockforged"}`, nil, ge(1)),
		expect(`go_goroutines{job="mockforged"}`, nil, ge(1)),
	}
	waitForExpectations(t, p, expectations, 45*time.Second)

	checkExpositions(t, d.metricsAddr, pluginAddr)
	checkDashboardQueries(t, p)
}

// recordChaosMetrics records one metric of each type for tenants acme and
// default through the CLI, and lists acme's: seven successful calls of
// acme.
func recordChaosMetrics(t *testing.T, d *daemon) {
	t.Helper()
	for range 2 {
		d.cli("", "metrics", "record", "chaos_faults_injected_total", "2", "--type", "counter",
			"--label", "fault=latency", "--help-text", "Faults injected by chaos scenarios.", "--tenant", "acme")
	}
	d.cli("", "metrics", "record", "chaos_queue_depth", "17", "--type", "gauge", "--label", "queue=orders", "--tenant", "acme")
	d.cli("", "metrics", "record", "chaos_queue_depth", "5", "--type", "gauge", "--label", "queue=orders")
	for _, v := range []string{"0.25", "0.5"} {
		d.cli("", "metrics", "record", "chaos_request_duration_seconds", v, "--type", "histogram",
			"--buckets", "0.1,0.5,1", "--tenant", "acme")
	}
	d.cli("", "metrics", "record", "chaos_queue_depth", "3", "--type", "gauge", "--label", "queue=payments", "--tenant", "acme")

	out := d.cli("", "metrics", "list", "--tenant", "acme")
	lines := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		lines[strings.Join(strings.Fields(line), " ")] = true
	}
	for _, want := range []string{
		`chaos_faults_injected_total counter fault="latency" 4`,
		`chaos_queue_depth gauge queue="payments" 3`,
		"chaos_request_duration_seconds histogram - count=2 sum=0.75",
		"Series: 4 of 4",
	} {
		if !lines[want] {
			t.Errorf("metrics list lacks the row %q:\n%s", want, out)
		}
	}
}

// rejectBadRecords makes three records of acme that the plugin rejects:
// an invalid name, a type conflict and one series over the limit of 4.
func rejectBadRecords(t *testing.T, d *daemon) {
	t.Helper()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bad-name", "1", "--type", "gauge"}, `invalid_argument: invalid metric name "bad-name"`},
		{[]string{"chaos_queue_depth", "1", "--type", "histogram", "--label", "queue=orders"},
			`conflict: metric "chaos_queue_depth" is a gauge and cannot be recorded as a histogram`},
		{[]string{"chaos_queue_depth", "1", "--type", "gauge", "--label", "queue=refunds"},
			`limit_exceeded: tenant "acme" has 4 series, the limit of max_series_per_tenant (4)`},
	}
	for _, tt := range tests {
		args := append([]string{"metrics", "record"}, tt.args...)
		_, errOut, code := d.run(nil, append(args, "--tenant", "acme")...)
		if code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("mockforged %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, errOut, tt.want)
		}
	}
}

// detectAnomaly feeds the anomaly detector 200 steady points and a spike,
// which it reports as one anomaly of checkout.latency_ms.
func detectAnomaly(t *testing.T, d *daemon) {
	t.Helper()
	type point struct {
		Timestamp int64   `json:"timestamp"`
		Value     float64 `json:"value"`
	}
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC).Unix()
	points := make([]point, 0, 201)
	for i := range 200 {
		points = append(points, point{Timestamp: start + int64(i)*10, Value: 100 + 2*math.Sin(float64(i))})
	}
	points = append(points, point{Timestamp: start + 2000, Value: 400})
	params, err := json.Marshal(map[string]any{"operation": "ingest", "metric": "checkout.latency_ms", "points": points})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ingest.json")
	if err := os.WriteFile(file, params, 0o600); err != nil {
		t.Fatal(err)
	}
	out := d.cli("", "exec", "anomaly-detector", "--params-file", file)
	if !strings.Contains(out, ", 1 anomaly") {
		t.Errorf("ingest did not report one anomaly:\n%s", out)
	}
}

// addDBFault gives the database fault injector a TCP proxy and adds a
// connection_reset fault for five minutes.
func addDBFault(t *testing.T, d *daemon) {
	t.Helper()
	upstream := freeAddress(t)
	config := `{"proxies": [{"name": "t", "listen": "127.0.0.1:0", "upstream": "` + upstream + `", "protocol": "tcp"}]}`
	d.cli(config, "plugins", "configure", "db-fault-injector", "--file", "-")
	d.cli("", "db", "fault", "add", "t", "connection_reset", "--duration", "5m")
}

// dropUnsafePlugin puts a world-writable file into the plugins directory,
// which the daemon rejects as unsafe.
func dropUnsafePlugin(t *testing.T, d *daemon) {
	t.Helper()
	path := filepath.Join(d.pluginsDir, "unsafe-plugin")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
}

// waitForExpectations queries Prometheus until every expectation holds,
// and reports those that still do not after timeout.
func waitForExpectations(t *testing.T, p *prometheusServer, expectations []expectation, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var unmet []string
		for _, e := range expectations {
			if reason := e.unmet(p); reason != "" {
				unmet = append(unmet, reason)
			}
		}
		if len(unmet) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, reason := range unmet {
				t.Error(reason)
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkExpositions parses both endpoints' text and OpenMetrics output with
// expfmt, checks values in each, and lints the text output with promtool.
func checkExpositions(t *testing.T, daemonAddr, pluginAddr string) {
	t.Helper()
	for _, accept := range []string{acceptText, acceptOpenMetrics} {
		body, header := fetch(t, daemonAddr, accept)
		families := parseExposition(t, body, header)
		calls := map[string]string{"plugin": "prometheus-metrics", "tenant": "acme", "outcome": "success"}
		if v, ok := familyValue(families, "mockforged_plugin_calls_total", calls); !ok || v != 7 {
			t.Errorf("%s: daemon's mockforged_plugin_calls_total%v = %g, %v; want 7", accept, calls, v, ok)
		}
		if accept == acceptText {
			promtoolCheck(t, "the daemon's metrics", body)
		}

		body, header = fetch(t, pluginAddr, accept)
		families = parseExposition(t, body, header)
		counter := map[string]string{"tenant": "acme", "fault": "latency"}
		if v, ok := familyValue(families, "chaos_faults_injected_total", counter); !ok || v != 4 {
			t.Errorf("%s: plugin's chaos_faults_injected_total%v = %g, %v; want 4", accept, counter, v, ok)
		}
		if v, ok := familyValue(families, "chaos_request_duration_seconds", map[string]string{"tenant": "acme"}); !ok || v != 2 {
			t.Errorf("%s: plugin's histogram count %g, %v; want 2", accept, v, ok)
		}
		if accept == acceptText {
			promtoolCheck(t, "the plugin's metrics", body)
		}
	}
}

// rateWait bounds the wait for a rate() query to see two scrapes, at one
// scrape a second.
const rateWait = 10 * time.Second

// checkDashboardQueries runs every query of docs/grafana-dashboard.json,
// with its variables replaced by match-all values, and checks that
// Prometheus accepts it and that the call panels show data.
func checkDashboardQueries(t *testing.T, p *prometheusServer) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	variables := strings.NewReplacer("$__rate_interval", "1m", "$plugin", ".*", "$tenant", ".*", "$job", ".*")
	queries := 0
	for _, panel := range dashboard.Panels {
		for _, target := range panel.Targets {
			queries++
			expr := variables.Replace(target.Expr)
			samples, err := p.query(expr)
			if err != nil {
				t.Errorf("panel %q: %v", panel.Title, err)
				continue
			}
			if !strings.HasPrefix(panel.Title, "Calls per second") {
				continue
			}
			// rate() needs two scrapes of a series, and the expectations
			// above may have been met on the first scrape that saw it.
			for deadline := time.Now().Add(rateWait); len(samples) == 0 && err == nil && time.Now().Before(deadline); {
				time.Sleep(200 * time.Millisecond)
				samples, err = p.query(expr)
			}
			if err != nil {
				t.Errorf("panel %q: %v", panel.Title, err)
			} else if len(samples) == 0 {
				t.Errorf("panel %q shows no data for %s after %s", panel.Title, target.Expr, rateWait)
			}
		}
	}
	if queries < 15 {
		t.Errorf("the dashboard has %d queries; want one or more per panel", queries)
	}
}
