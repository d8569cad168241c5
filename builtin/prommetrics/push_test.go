package prommetrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

// startPushgateway runs Debian's prometheus-pushgateway on a free loopback
// port, keeping metrics in memory only, and returns its address.
func startPushgateway(t *testing.T) string {
	t.Helper()
	path := requireCommand(t, "prometheus-pushgateway")
	addr := freeAddress(t)
	startProcess(t, path, "--web.listen-address="+addr, "--persistence.file=", "--log.level=warn")
	waitFor(t, 15*time.Second, "the Pushgateway to be ready", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return addr
}

// gatewayMetrics scrapes the Pushgateway, whose /metrics shows every pushed
// group.
func gatewayMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	body, contentType := fetch(t, addr, acceptText)
	return parseExposition(t, body, contentType)
}

// gatewayValue returns the gauge value of name with labels at the
// Pushgateway, and false when the series is not there.
func gatewayValue(t *testing.T, addr, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf := gatewayMetrics(t, addr)[name]
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			if got[k] != v {
				match = false
			}
		}
		if match {
			return m.GetGauge().GetValue() + m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func TestPushgatewayReceivesAndForgetsSeries(t *testing.T) {
	gateway := startPushgateway(t)
	config := fmt.Sprintf(`{"listen": "", "pushgateway": {"url": "http://%s", "job": "chaos", "interval": "1s", "grouping": {"instance": "test-host"}}}`, gateway)
	c, _ := startPlugin(t, config)

	mustCall(t, c, "acme", Params{Operation: OpRecord, Name: "chaos_faults_injected_total", Type: "counter",
		Labels: map[string]string{"fault": "reset"}, Value: ptr(5.0)}, nil)
	want := map[string]string{"job": "chaos", "instance": "test-host", "tenant": "acme", "fault": "reset"}
	waitFor(t, 10*time.Second, "the counter at the Pushgateway", func() bool {
		v, ok := gatewayValue(t, gateway, "chaos_faults_injected_total", want)
		return ok && v == 5
	})

	var listed ListResult
	mustCall(t, c, "acme", Params{Operation: OpList}, &listed)
	if listed.Pushgateway == nil || listed.Pushgateway.LastPush == nil || listed.Pushgateway.LastError != "" {
		t.Errorf("pushgateway status %+v, want a last push and no error", listed.Pushgateway)
	}
	if listed.Pushgateway != nil && listed.Pushgateway.Job != "chaos" {
		t.Errorf("job %q, want chaos", listed.Pushgateway.Job)
	}

	mustCall(t, c, "acme", Params{Operation: OpDelete, Name: "chaos_faults_injected_total"}, nil)
	waitFor(t, 10*time.Second, "the deleted counter to leave the Pushgateway", func() bool {
		_, ok := gatewayValue(t, gateway, "chaos_faults_injected_total", want)
		return !ok
	})
}

func TestPushgatewayLastPushOnCleanup(t *testing.T) {
	gateway := startPushgateway(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newPlugin(testLogger(t))
	ctx := context.Background()
	config := fmt.Sprintf(`{"listen": "", "pushgateway": {"url": "http://%s", "interval": "1h"}}`, gateway)
	if err := p.Initialize(ctx, json.RawMessage(config)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.record("acme", recordRequest{Name: "chaos_up", Type: "gauge", Value: ptr(1.0)}); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	v, ok := gatewayValue(t, gateway, "chaos_up", map[string]string{"job": "mockforged", "tenant": "acme"})
	if !ok || v != 1 {
		t.Errorf("chaos_up at the Pushgateway after Cleanup: %g, %v; want 1, true", v, ok)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestPushgatewayUnreachableIsReported(t *testing.T) {
	closed := freeAddress(t)
	config := fmt.Sprintf(`{"listen": "", "pushgateway": {"url": "http://user:s3cret@%s", "interval": "1s"}}`, closed)
	c, _ := startPlugin(t, config)
	var listed ListResult
	waitFor(t, 10*time.Second, "a failed push in the list", func() bool {
		mustCall(t, c, "acme", Params{Operation: OpList}, &listed)
		return listed.Pushgateway != nil && listed.Pushgateway.LastError != ""
	})
	if !strings.Contains(listed.Pushgateway.LastError, "connection refused") {
		t.Errorf("last error %q, want connection refused", listed.Pushgateway.LastError)
	}
	if strings.Contains(listed.Pushgateway.URL, "s3cret") || strings.Contains(listed.Pushgateway.LastError, "s3cret") {
		t.Errorf("status %+v shows the URL's password", listed.Pushgateway)
	}
}
