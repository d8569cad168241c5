package prommetrics

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

func TestExpositionFormats(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	for _, tenant := range []string{"acme", "globex"} {
		mustCall(t, c, tenant, Params{Operation: OpRecord, Name: "chaos_faults_injected_total", Type: "counter",
			Help: "Faults injected by chaos scenarios.", Labels: map[string]string{"fault": "latency"}, Value: ptr(3.0)}, nil)
		mustCall(t, c, tenant, Params{Operation: OpRecord, Name: "chaos_queue_depth", Type: "gauge",
			Help: "Depth of the order queue.", Labels: map[string]string{"queue": "orders"}, Value: ptr(17.0)}, nil)
		for _, v := range []float64{0.05, 0.2, 2} {
			mustCall(t, c, tenant, Params{Operation: OpRecord, Name: "chaos_request_duration_seconds", Type: "histogram",
				Help: "Request duration under chaos.", Buckets: []float64{0.1, 0.5, 1}, Value: ptr(v)}, nil)
		}
	}
	mustCall(t, c, "globex", Params{Operation: OpRecord, Name: "chaos_queue_depth", Type: "gauge",
		Labels: map[string]string{"queue": "orders"}, Value: ptr(4.0)}, nil)
	addr := listenerAddress(t, c)

	formats := []struct {
		name        string
		accept      string
		contentType string
		// counterType is the counter's TYPE line: OpenMetrics names the
		// family without _total, and expfmt's parser adds it back.
		counterType string
		// lint runs promtool, which reads the text format only.
		lint bool
	}{
		{name: "text", accept: acceptText, contentType: "text/plain; version=0.0.4",
			counterType: "# TYPE chaos_faults_injected_total counter\n", lint: true},
		{name: "OpenMetrics", accept: acceptOpenMetrics, contentType: "application/openmetrics-text; version=1.0.0",
			counterType: "# TYPE chaos_faults_injected counter\n"},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			body, contentType := fetch(t, addr, f.accept)
			if !strings.HasPrefix(contentType, f.contentType) {
				t.Fatalf("Content-Type %q, want %q", contentType, f.contentType)
			}
			if !strings.Contains(string(body), f.counterType) {
				t.Errorf("exposition lacks %q:\n%s", f.counterType, body)
			}
			families := parseExposition(t, body, contentType)

			counter := findMetric(t, families, "chaos_faults_injected_total", map[string]string{"tenant": "acme", "fault": "latency"})
			if got := counter.GetCounter().GetValue(); got != 3 {
				t.Errorf("acme's counter %g, want 3", got)
			}
			if mf := families["chaos_faults_injected_total"]; mf.GetType() != dto.MetricType_COUNTER || mf.GetHelp() != "Faults injected by chaos scenarios." {
				t.Errorf("counter family type %v help %q", mf.GetType(), mf.GetHelp())
			}

			acme := findMetric(t, families, "chaos_queue_depth", map[string]string{"tenant": "acme", "queue": "orders"})
			globex := findMetric(t, families, "chaos_queue_depth", map[string]string{"tenant": "globex", "queue": "orders"})
			if acme.GetGauge().GetValue() != 17 || globex.GetGauge().GetValue() != 4 {
				t.Errorf("gauges acme %g globex %g, want 17 and 4", acme.GetGauge().GetValue(), globex.GetGauge().GetValue())
			}

			h := findMetric(t, families, "chaos_request_duration_seconds", map[string]string{"tenant": "globex"}).GetHistogram()
			if h.GetSampleCount() != 3 || h.GetSampleSum() != 2.25 {
				t.Errorf("histogram count %d sum %g, want 3 and 2.25", h.GetSampleCount(), h.GetSampleSum())
			}
			wantBuckets := map[float64]uint64{0.1: 1, 0.5: 2, 1: 2}
			for _, b := range h.GetBucket() {
				if want, ok := wantBuckets[b.GetUpperBound()]; ok && b.GetCumulativeCount() != want {
					t.Errorf("bucket le=%g has %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
				}
			}

			if f.lint {
				promtoolCheck(t, body)
			}
		})
	}
}

func TestExpositionAfterDelete(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	mustCall(t, c, "acme", Params{Operation: OpRecord, Name: "chaos_up", Type: "gauge", Value: ptr(1.0)}, nil)
	mustCall(t, c, "acme", Params{Operation: OpDelete, All: true}, nil)
	body, contentType := fetch(t, listenerAddress(t, c), acceptText)
	if families := parseExposition(t, body, contentType); len(families) != 0 {
		t.Errorf("families %v after every series was deleted, want none", familyNames(families))
	}
}
