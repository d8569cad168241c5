package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/registry"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// okResponse is a successful response with data marshalled from v.
func okResponse(t *testing.T, v any) *apiv1.ExecuteResponse {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &apiv1.ExecuteResponse{Success: true, DataJson: data}
}

func TestAnomaliesCounted(t *testing.T) {
	m := New("test")
	ingest := okResponse(t, map[string]any{"anomalies": []map[string]string{
		{"metric": "checkout.latency_ms", "severity": "high", "type": "statistical_outlier"},
		{"metric": "checkout.latency_ms", "severity": "high", "type": "statistical_outlier"},
		{"metric": "errors", "severity": "apocalyptic", "type": "new_kind"},
		{"metric": "bad metric name", "severity": "low", "type": "trend_anomaly"},
	}})
	m.ObserveCall(anomalyPluginID, "acme", nil, ingest, nil, time.Millisecond)
	detect := okResponse(t, map[string]any{"is_anomaly": true, "anomaly": map[string]string{
		"metric": "cpu", "severity": "critical", "type": "seasonal_anomaly",
	}})
	m.ObserveCall(anomalyPluginID, "acme", nil, detect, nil, time.Millisecond)
	// Results of other plugins, and failed calls, count nothing.
	m.ObserveCall("dbfault", "acme", nil, ingest, nil, time.Millisecond)
	m.ObserveCall(anomalyPluginID, "acme", nil, &apiv1.ExecuteResponse{Success: false, DataJson: ingest.DataJson}, nil, time.Millisecond)

	name := "mockforged_anomalies_detected_total"
	wantSample(t, m, name, labels("metric", "checkout.latency_ms", "severity", "high", "type", "statistical_outlier"), 2)
	wantSample(t, m, name, labels("metric", "errors", "severity", "_other", "type", "_other"), 1)
	wantSample(t, m, name, labels("metric", "_other", "severity", "low", "type", "trend_anomaly"), 1)
	wantSample(t, m, name, labels("metric", "cpu", "severity", "critical", "type", "seasonal_anomaly"), 1)
}

func TestAnomalyMetricLabelsAreCapped(t *testing.T) {
	m := New("test")
	var anomalies []map[string]string
	for i := range maxAnomalyMetrics + 5 {
		anomalies = append(anomalies, map[string]string{"metric": fmt.Sprintf("m%d", i), "severity": "low", "type": "trend_anomaly"})
	}
	m.ObserveCall(anomalyPluginID, "acme", nil, okResponse(t, map[string]any{"anomalies": anomalies}), nil, time.Millisecond)

	wantSample(t, m, "mockforged_anomalies_detected_total", labels("metric", "m0", "severity", "low", "type", "trend_anomaly"), 1)
	wantSample(t, m, "mockforged_anomalies_detected_total", labels("metric", "_other", "severity", "low", "type", "trend_anomaly"), 5)
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == "mockforged_anomalies_detected_total" && len(mf.GetMetric()) != maxAnomalyMetrics+1 {
			t.Errorf("%d series, want %d", len(mf.GetMetric()), maxAnomalyMetrics+1)
		}
	}
}

// fault is a fault as db-fault-injector reports it.
func fault(id, proxy, kind string, expires time.Time) map[string]any {
	return map[string]any{"id": id, "proxy": proxy, "type": kind, "tenant": "acme", "expires_at": expires}
}

func TestDBFaultsTracked(t *testing.T) {
	m := New("test")
	now := time.Now()
	elapsed, _ := fakeClocks(m, now)
	call := func(tenantID string, params string, data any) {
		m.ObserveCall(dbFaultPluginID, tenantID, []byte(params), okResponse(t, data), nil, time.Millisecond)
	}
	add := `{"operation": "add_fault", "proxy": "pg", "type": "slow_query"}`
	call("acme", add, map[string]any{"fault": fault("f1", "pg", "slow_query", now.Add(time.Minute))})
	call("acme", add, map[string]any{"fault": fault("f2", "pg", "slow_query", now.Add(time.Hour))})
	call("acme", add, map[string]any{"fault": fault("f3", "my", "connection_reset", now.Add(time.Hour))})
	call("globex", add, map[string]any{"fault": fault("f4", "pg", "bandwidth", now.Add(time.Hour))})

	faults, experiments := "mockforged_db_faults_active", "mockforged_chaos_experiments_active"
	wantSample(t, m, faults, labels("tenant", "acme", "type", "slow_query"), 2)
	wantSample(t, m, faults, labels("tenant", "acme", "type", "connection_reset"), 1)
	wantSample(t, m, experiments, labels("plugin", dbFaultPluginID, "tenant", "acme"), 3)
	wantSample(t, m, experiments, labels("plugin", dbFaultPluginID, "tenant", "globex"), 1)

	*elapsed = 2 * time.Minute // f1 expired
	wantSample(t, m, faults, labels("tenant", "acme", "type", "slow_query"), 1)

	call("acme", `{"operation": "remove_fault", "id": "f2"}`, map[string]any{"fault": fault("f2", "pg", "slow_query", now.Add(time.Hour))})
	wantSample(t, m, faults, labels("tenant", "acme", "type", "slow_query"), 0)

	// A list of one proxy replaces that proxy's faults only.
	call("acme", `{"operation": "list_faults", "proxy": "pg"}`, map[string]any{"faults": []any{fault("f9", "pg", "query_error", now.Add(time.Hour))}})
	wantSample(t, m, faults, labels("tenant", "acme", "type", "query_error"), 1)
	wantSample(t, m, faults, labels("tenant", "acme", "type", "connection_reset"), 1)

	// A list of every proxy is the whole truth for the tenant.
	call("acme", `{"operation": "list_faults"}`, map[string]any{"faults": []any{}})
	wantSample(t, m, experiments, labels("plugin", dbFaultPluginID, "tenant", "acme"), 0)
	wantSample(t, m, experiments, labels("plugin", dbFaultPluginID, "tenant", "globex"), 1)

	call("globex", `{"operation": "reset"}`, map[string]any{"faults": []any{fault("f4", "pg", "bandwidth", now.Add(time.Hour))}})
	wantSample(t, m, experiments, labels("plugin", dbFaultPluginID, "tenant", "globex"), 0)
}

func TestDBFaultsForgottenOnRestart(t *testing.T) {
	m := New("test")
	params := []byte(`{"operation": "add_fault"}`)
	m.ObserveCall(dbFaultPluginID, "acme", params, okResponse(t, map[string]any{"fault": fault("f1", "pg", "slicer", time.Now().Add(time.Hour))}), nil, time.Millisecond)
	wantSample(t, m, "mockforged_db_faults_active", labels("tenant", "acme", "type", "slicer"), 1)
	m.PluginRestarted(dbFaultPluginID, registry.RestartCrash)
	wantSample(t, m, "mockforged_db_faults_active", labels("tenant", "acme", "type", "slicer"), 0)
}

// fakeExecutor returns a fixed result for every call. It replaces the
// registry in this unit test, and test/prometheus runs the real daemon.
type fakeExecutor struct {
	res *registry.Result
	err error
}

func (f fakeExecutor) Capabilities(string) ([]string, error) { return []string{"metrics"}, nil }

func (f fakeExecutor) Execute(context.Context, string, *pluginv1.ExecuteRequest) (*registry.Result, error) {
	return f.res, f.err
}

func TestObserveExecutor(t *testing.T) {
	m := New("test")
	ok := m.ObserveExecutor(fakeExecutor{res: &registry.Result{Response: &pluginv1.ExecuteResponse{Success: true}}})
	missing := m.ObserveExecutor(fakeExecutor{err: status.Error(codes.NotFound, "plugin not found")})
	req := &pluginv1.ExecuteRequest{TenantId: "acme", ParametersJson: []byte(`{}`)}
	if _, err := ok.Execute(context.Background(), "prometheus-metrics", req); err != nil {
		t.Fatal(err)
	}
	if _, err := missing.Execute(context.Background(), "nope", req); err == nil {
		t.Fatal("the error of the wrapped executor was lost")
	}
	if caps, _ := ok.Capabilities("prometheus-metrics"); strings.Join(caps, ",") != "metrics" {
		t.Errorf("capabilities %v, want those of the wrapped executor", caps)
	}
	calls := "mockforged_plugin_calls_total"
	wantSample(t, m, calls, labels("plugin", "prometheus-metrics", "tenant", "acme", "outcome", "success"), 1)
	wantSample(t, m, calls, labels("plugin", "_unknown", "tenant", "acme", "outcome", "not_found"), 1)
}

// fakeClocks replaces the clocks of m's experiment tracker: the monotonic
// clock reads *elapsed, zero at first, and the wall clock reads start plus
// *elapsed plus *offset. Setting *offset steps the wall clock alone.
func fakeClocks(m *Metrics, start time.Time) (elapsed, offset *time.Duration) {
	elapsed, offset = new(time.Duration), new(time.Duration)
	m.experiments.elapsed = func() time.Duration { return *elapsed }
	m.experiments.wall = func() time.Time { return start.Round(0).Add(*elapsed + *offset) }
	return elapsed, offset
}

// TestExperimentExpiryIgnoresWallClockSteps steps the daemon's wall clock
// while faults and experiments run: they must end by their duration on the
// monotonic clock, not when the wall clock says so.
func TestExperimentExpiryIgnoresWallClockSteps(t *testing.T) {
	m := New("test")
	elapsed, offset := fakeClocks(m, time.Now())
	wall := m.experiments.wall

	faults, chaos := "mockforged_db_faults_active", "mockforged_chaos_experiments_active"
	slow, reset := labels("tenant", "acme", "type", "slow_query"), labels("tenant", "acme", "type", "connection_reset")
	acmeChaos := labels("plugin", chaosMeshPluginID, "tenant", "acme")
	addFault := func(id, kind string, left time.Duration) {
		t.Helper()
		params := `{"operation": "add_fault", "proxy": "pg"}`
		m.ObserveCall(dbFaultPluginID, "acme", []byte(params), okResponse(t, map[string]any{"fault": fault(id, "pg", kind, wall().Add(left))}), nil, time.Millisecond)
	}
	addFault("f1", "slow_query", 10*time.Minute)
	addFault("f2", "connection_reset", time.Minute)
	created := wall().Add(-time.Second).Truncate(time.Second)
	m.ObserveCall(chaosMeshPluginID, "acme", []byte(`{"operation": "create"}`),
		okResponse(t, map[string]any{"experiment": chaosExperiment("PodChaos", "shop", "kill", "10m", created)}), nil, time.Millisecond)
	wantSample(t, m, faults, slow, 1)
	wantSample(t, m, faults, reset, 1)
	wantSample(t, m, chaos, acmeChaos, 1)

	// A day forward: nothing ended yet.
	*offset = 25 * time.Hour
	wantSample(t, m, faults, slow, 1)
	wantSample(t, m, faults, reset, 1)
	wantSample(t, m, chaos, acmeChaos, 1)

	// Two hours back, and two minutes on: only the one-minute fault ended.
	*offset = -2 * time.Hour
	*elapsed = 2 * time.Minute
	wantSample(t, m, faults, slow, 1)
	wantSample(t, m, faults, reset, 0)
	wantSample(t, m, chaos, acmeChaos, 1)

	*elapsed = 11 * time.Minute
	wantSample(t, m, faults, slow, 0)
	wantSample(t, m, chaos, acmeChaos, 0)
}
