package anomaly

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// newTestPlugin returns a plugin whose storage is storage, initialised
// with config.
func newTestPlugin(t *testing.T, storage *memStorage, config string) *Plugin {
	t.Helper()
	p := newPlugin()
	p.log = hclog.NewNullLogger()
	if storage != nil {
		p.storeFor = storage.For
	}
	if err := p.Initialize(context.Background(), json.RawMessage(config)); err != nil {
		t.Fatalf("Initialize(%s): %v", config, err)
	}
	return p
}

// exec runs one operation for tenant and returns the result.
func exec(t *testing.T, p *Plugin, tenant string, params any) *sdk.ExecuteResult {
	t.Helper()
	raw, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{TenantID: tenant, Parameters: raw})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res
}

// mustOK runs an operation that must succeed and decodes its data into out.
func mustOK(t *testing.T, p *Plugin, tenant string, params, out any) *sdk.ExecuteResult {
	t.Helper()
	res := exec(t, p, tenant, params)
	if !res.Success {
		t.Fatalf("operation failed: %s", res.Message)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode data: %v", err)
		}
	}
	return res
}

// mustFail runs an operation that must fail with code and a message
// containing want.
func mustFail(t *testing.T, p *Plugin, tenant string, params any, code, want string) {
	t.Helper()
	res := exec(t, p, tenant, params)
	if res.Success {
		t.Fatalf("operation succeeded, want a %s failure", code)
	}
	if res.Error == nil || res.Error.Code != code {
		t.Errorf("error %+v, want code %s", res.Error, code)
	}
	if !strings.Contains(res.Message, want) {
		t.Errorf("message %q does not contain %q", res.Message, want)
	}
}

// points returns n noisy points of mean mu starting at t0 with a
// one-minute step.
func points(seed uint64, n int, mu float64) []PointParam {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]PointParam, n)
	for i := range out {
		out[i] = PointParam{Timestamp: Timestamp{t0.Add(time.Duration(i) * time.Minute)}, Value: mu + r.NormFloat64()}
	}
	return out
}

func TestPluginDescribesItself(t *testing.T) {
	p := New()
	if md := p.Metadata(); md.ID != "anomaly-detector" || md.Version == "" {
		t.Errorf("metadata %+v", md)
	}
	if caps := p.Capabilities(); len(caps) != 1 || caps[0] != sdk.CapabilityAnomalyDetection {
		t.Errorf("capabilities %v", caps)
	}
	var schema map[string]any
	if err := json.Unmarshal(p.ConfigSchema(), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["additionalProperties"] != false {
		t.Error("schema allows additional properties")
	}
}

func TestIngestAndDetect(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	pts := points(1, 300, 100)
	pts[250].Value = 150

	var ing IngestResult
	res := mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "latency", Points: pts,
		Context: map[string]string{"experiment": "exp-1"}}, &ing)
	if ing.Ingested != 300 || ing.Metrics["latency"] != 300 {
		t.Errorf("ingest result %+v", ing)
	}
	if len(ing.Anomalies) != 1 || !ing.Anomalies[0].Timestamp.Equal(pts[250].Timestamp.Time) {
		t.Fatalf("anomalies %+v, want one at point 250", ing.Anomalies)
	}
	if ing.Anomalies[0].Context["experiment"] != "exp-1" {
		t.Errorf("context %v not copied", ing.Anomalies[0].Context)
	}
	if !strings.Contains(res.Message, "ingested 300 points") {
		t.Errorf("message %q", res.Message)
	}

	var d detect.Detection
	mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "latency", Value: new(130.0)}, &d)
	if !d.IsAnomaly || d.Anomaly == nil {
		t.Errorf("value 130 not flagged: %+v", d)
	}
	mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "latency", Value: new(100.5)}, &d)
	if d.IsAnomaly {
		t.Errorf("value 100.5 flagged: %+v", d)
	}

	var w detect.WindowReport
	mustOK(t, p, "acme", DetectWindowParams{Operation: OpDetectWindow, Metric: "latency", Lookback: "1h"}, &w)
	if len(w.Anomalies) != 1 || w.Points != 61 {
		t.Errorf("window report: %d points, anomalies %+v; want 61 points and the spike", w.Points, w.Anomalies)
	}
}

func TestIngestManyMetrics(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	pts := append(points(2, 50, 1), points(3, 50, 2)...)
	for i := range pts {
		pts[i].Metric = []string{"cpu", "error_rate"}[i/50]
	}
	var ing IngestResult
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Points: pts}, &ing)
	if ing.Metrics["cpu"] != 50 || ing.Metrics["error_rate"] != 50 {
		t.Errorf("metrics %v, want 50 points each", ing.Metrics)
	}
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 2 || list.Metrics[0].Name != "cpu" || !list.Metrics[0].Ready {
		t.Errorf("list %+v", list)
	}
}

func TestIngestRejectsBadPoints(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(4, 40, 1)}, nil)

	late := points(5, 3, 1)
	tests := []struct {
		name   string
		params any
		code   string
		want   string
	}{
		{"older than stored", IngestParams{Operation: OpIngest, Metric: "cpu", Points: late}, codeOutOfOrder, "point 0 (metric \"cpu\"): timestamp"},
		{"no points", IngestParams{Operation: OpIngest, Metric: "cpu"}, codeInvalid, "missing points"},
		{"no metric", IngestParams{Operation: OpIngest, Points: points(6, 1, 1)}, codeInvalidPoint, "point 0: missing metric name"},
		{"bad policy", IngestParams{Operation: OpIngest, Metric: "cpu", Points: late, OutOfOrder: "sort"}, codeInvalid, "invalid out-of-order policy"},
		{"unknown parameter", map[string]any{"operation": "ingest", "metric": "cpu", "pointz": []int{}}, codeInvalid, "unknown parameter \"pointz\" for operation ingest: the valid parameters are operation, metric, points, out_of_order and context"},
		{"unknown operation", map[string]any{"operation": "predict"}, codeInvalid, "unknown operation \"predict\""},
		{"space in name", IngestParams{Operation: OpIngest, Metric: "cpu load", Points: points(7, 1, 1)}, codeInvalidPoint, "invalid metric name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, p, "acme", tt.params, tt.code, tt.want)
		})
	}

	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 40 {
		t.Errorf("after rejected calls: %+v, want cpu with its 40 points only", list.Metrics)
	}
}

func TestIngestNaNRejectedAtomically(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	raw := `{"operation":"ingest","metric":"cpu","points":[` +
		`{"timestamp":"2026-01-05T00:00:00Z","value":1},{"timestamp":"2026-01-05T00:01:00Z","value":"NaN"}]}`
	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{TenantID: "acme", Parameters: json.RawMessage(raw)})
	if err != nil || res.Success {
		t.Fatalf("NaN accepted: %+v %v", res, err)
	}
	mustFail(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "cpu", Value: new(1.0)}, codeNotFound, "metric \"cpu\" not found")
}

func TestIngestDropOutOfOrder(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	pts := points(8, 5, 1)
	pts[2].Timestamp = Timestamp{t0.Add(-time.Hour)}
	var ing IngestResult
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: pts, OutOfOrder: "drop"}, &ing)
	if ing.Ingested != 4 || ing.Dropped != 1 {
		t.Errorf("ingested %d dropped %d, want 4 and 1", ing.Ingested, ing.Dropped)
	}
}

func TestUpdateBaseline(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(9, 10, 5)}, nil)
	mustFail(t, p, "acme", MetricParams{Operation: OpUpdateBaseline, Metric: "cpu"}, codeTooFew, "has 10 points, needs at least 30")
	mustFail(t, p, "acme", MetricParams{Operation: OpUpdateBaseline, Metric: "disk"}, codeNotFound, "metric \"disk\" not found")

	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu",
		Points: points(10, 40, 5)[10:]}, nil)
	var b BaselineResult
	mustOK(t, p, "acme", MetricParams{Operation: OpUpdateBaseline, Metric: "cpu"}, &b)
	if b.Baseline.Samples != 40 || b.Baseline.Center < 4 || b.Baseline.Center > 6 {
		t.Errorf("baseline %+v, want 40 samples around 5", b.Baseline)
	}
}

// ingestCollectiveSpike ingests 200 points of metrics cpu, latency and
// errors for tenant acme, with a spike at point 150 in cpu and latency.
func ingestCollectiveSpike(t *testing.T, p *Plugin) {
	t.Helper()
	for i, name := range []string{"cpu", "latency", "errors"} {
		pts := points(uint64(20+i), 200, 10)
		if name != "errors" {
			pts[150].Value = 40
		}
		mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: name, Points: pts}, nil)
	}
}

func TestDetectCollectiveOperation(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	ingestCollectiveSpike(t, p)
	var out CollectiveResult
	mustOK(t, p, "acme", DetectCollectiveParams{Operation: OpDetectCollective, Lookback: "2h", Bucket: "5m"}, &out)
	if len(out.Metrics) != 3 || len(out.Anomalies) != 1 {
		t.Fatalf("result %+v, want one collective anomaly over 3 metrics", out)
	}
	if a := out.Anomalies[0]; a.Value != 2 || a.Severity != detect.SeverityHigh {
		t.Errorf("anomaly %+v, want 2 of 3 metrics with severity high", a)
	}
	mustFail(t, p, "acme", DetectCollectiveParams{Operation: OpDetectCollective, Lookback: "soon"}, codeInvalid, "invalid lookback \"soon\"")
}

func TestClearMetrics(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	for _, name := range []string{"a", "b", "c"} {
		mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: name, Points: points(30, 5, 1)}, nil)
	}
	mustFail(t, p, "acme", ClearMetricsParams{Operation: OpClearMetrics}, codeInvalid, "either")
	mustFail(t, p, "acme", ClearMetricsParams{Operation: OpClearMetrics, Metrics: []string{"a", "zz"}}, codeNotFound, "\"zz\" not found")

	var cleared ClearMetricsResult
	mustOK(t, p, "acme", ClearMetricsParams{Operation: OpClearMetrics, Metrics: []string{"a"}}, &cleared)
	if fmt.Sprint(cleared.Cleared) != "[a]" {
		t.Errorf("cleared %v", cleared.Cleared)
	}
	mustOK(t, p, "acme", ClearMetricsParams{Operation: OpClearMetrics, All: true}, &cleared)
	if fmt.Sprint(cleared.Cleared) != "[b c]" {
		t.Errorf("cleared %v, want [b c]", cleared.Cleared)
	}
	if keys, _ := storage.For(context.Background(), "acme").List(context.Background(), ""); len(keys) != 0 {
		t.Errorf("stored keys left: %v", keys)
	}
}

func TestModelsSurviveRestart(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "latency", Points: points(40, 200, 100)}, nil)
	mustOK(t, p, "globex", IngestParams{Operation: OpIngest, Metric: "latency", Points: points(41, 50, 7)}, nil)
	if err := p.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}

	restarted := newTestPlugin(t, storage, `{}`)
	var list ListMetricsResult
	mustOK(t, restarted, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 200 {
		t.Fatalf("acme after restart: %+v, want latency with 200 points", list.Metrics)
	}
	mustOK(t, restarted, "globex", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 50 {
		t.Fatalf("globex after restart: %+v, want its own latency with 50 points", list.Metrics)
	}
	mustFail(t, restarted, "initech", DetectParams{Operation: OpDetect, Metric: "latency", Value: new(1.0)}, codeNotFound, "not found")
}

func TestStorageFailureChangesNothing(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(50, 40, 1)}, nil)
	store := storage.For(context.Background(), "acme").(*memStore)
	store.failPut = modelKeyPrefix

	more := points(51, 60, 1)[40:]
	mustFail(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: more}, codeStorage, "storage quota exceeded")
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if list.Metrics[0].Samples != 40 {
		t.Errorf("samples %d after a failed store, want 40", list.Metrics[0].Samples)
	}
}

func TestStorageUnavailableSaidOnce(t *testing.T) {
	p := newTestPlugin(t, nil, `{}`)
	p.storeFor = sdk.StorageForTenant // outside the host: no storage
	first := mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(60, 5, 1)}, nil)
	if !strings.Contains(first.Message, "kept in memory only") {
		t.Errorf("first message %q does not mention memory-only storage", first.Message)
	}
	second := mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(61, 10, 1)[5:]}, nil)
	if strings.Contains(second.Message, "memory only") {
		t.Errorf("second message %q repeats the storage note", second.Message)
	}
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 10 {
		t.Errorf("in-memory metrics %+v, want cpu with 10 points", list.Metrics)
	}
}

func TestMaxMetrics(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{"max_metrics": 2}`)
	for _, name := range []string{"a", "b"} {
		mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: name, Points: points(70, 3, 1)}, nil)
	}
	mustFail(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "c", Points: points(71, 3, 1)}, codeLimit, "max_metrics (2)")
	mustOK(t, p, "other", IngestParams{Operation: OpIngest, Metric: "c", Points: points(72, 3, 1)}, nil)
}

func TestConfigValidation(t *testing.T) {
	p := New().(*Plugin)
	tests := []struct {
		config string
		want   string
	}{
		{`{"sensitivity": 2}`, "invalid sensitivity 2"},
		{`{"moving_average_window": 5000}`, "invalid moving_average_window"},
		{`{"std_dev_threshhold": 3}`, `unknown key "std_dev_threshhold": the valid keys are std_dev_threshold,`},
		{`{"enable_seasonal": true}`, "missing seasonal_period"},
		{`{"spike_threshold": "abc"}`, `spike_threshold must be a number such as 12.5, not the string "abc"`},
		{`{"spike_threshold": 2}`, "invalid spike_threshold 2: must be between 3 and 1000"},
		{`{"seasonal_period": "weekly"}`, `anomaly-detector config: invalid seasonal_period "weekly": use a whole number`},
		{`[1]`, "expected a JSON object such as"},
		{`{"sensitivity":`, "the JSON ends early: write one complete JSON object"},
		{`{"sensitivity": null}`, "sensitivity is null: give a value, or leave the key out for its default"},
	}
	for _, tt := range tests {
		err := p.ValidateConfig(context.Background(), json.RawMessage(tt.config))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateConfig(%s) = %v, want an error containing %q", tt.config, err, tt.want)
		}
		if err := p.Initialize(context.Background(), json.RawMessage(tt.config)); err == nil {
			t.Errorf("Initialize(%s) accepted an invalid config", tt.config)
		}
	}
	if err := p.ValidateConfig(context.Background(), json.RawMessage(`{"enable_seasonal": true, "seasonal_period": "24h", "robust": true}`)); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestReconfigureAppliesToLoadedModels(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(80, 100, 10)}, nil)
	var d detect.Detection
	mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "cpu", Value: new(12.6)}, &d)
	if d.IsAnomaly {
		t.Fatalf("12.6 flagged at the default threshold: %+v", d)
	}
	if err := p.Initialize(context.Background(), json.RawMessage(`{"std_dev_threshold": 1.5}`)); err != nil {
		t.Fatal(err)
	}
	mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "cpu", Value: new(12.6)}, &d)
	if !d.IsAnomaly {
		t.Errorf("12.6 not flagged at std_dev_threshold 1.5: %+v", d)
	}
}

func TestReconfigureMatchesRestart(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	for i, name := range []string{"a", "b"} {
		pts := points(uint64(90+i), 400+100*i, 100)
		mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: name, Points: pts}, nil)
	}
	// Use the models under a smaller retention, then go back.
	for _, config := range []string{`{"retention_points": 100}`, `{}`} {
		if err := p.Initialize(context.Background(), json.RawMessage(config)); err != nil {
			t.Fatal(err)
		}
		mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, nil)
	}
	var live ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &live)
	var liveDetect detect.Detection
	mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "b", Value: new(120.0)}, &liveDetect)

	restarted := newTestPlugin(t, storage, `{}`)
	var fresh ListMetricsResult
	mustOK(t, restarted, "acme", ListMetricsParams{Operation: OpListMetrics}, &fresh)
	var freshDetect detect.Detection
	mustOK(t, restarted, "acme", DetectParams{Operation: OpDetect, Metric: "b", Value: new(120.0)}, &freshDetect)

	for i, name := range []string{"a", "b"} {
		want := int64(400 + 100*i)
		if live.Metrics[i].Samples != want || fresh.Metrics[i].Samples != want {
			t.Errorf("metric %s: %d samples in the running plugin, %d after a restart, want %d in both",
				name, live.Metrics[i].Samples, fresh.Metrics[i].Samples, want)
		}
	}
	if liveDetect.Deviation != freshDetect.Deviation || liveDetect.Expected != freshDetect.Expected {
		t.Errorf("detect in the running plugin %+v, after a restart %+v, want the same", liveDetect, freshDetect)
	}
}

func TestReconfigureWritesNothing(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(95, 300, 10)}, nil)
	store := storage.For(context.Background(), "acme").(*memStore)
	before := store.puts
	if err := p.Initialize(context.Background(), json.RawMessage(`{"retention_points": 100}`)); err != nil {
		t.Fatal(err)
	}
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, nil)
	mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "cpu", Value: new(10.0)}, nil)
	if store.puts != before {
		t.Errorf("%d stores after a config change and a read, want none", store.puts-before)
	}
}

func TestFailedSaveRestoresStoredBytes(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "a", Points: points(96, 400, 10)}, nil)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "b", Points: points(97, 400, 10)}, nil)
	if err := p.Initialize(context.Background(), json.RawMessage(`{"retention_points": 100}`)); err != nil {
		t.Fatal(err)
	}
	store := storage.For(context.Background(), "acme").(*memStore)
	store.failPut = modelKeyPrefix + "b"

	next := []PointParam{
		{Metric: "a", Timestamp: Timestamp{t0.Add(time.Hour * 24)}, Value: 10},
		{Metric: "b", Timestamp: Timestamp{t0.Add(time.Hour * 24)}, Value: 10},
	}
	mustFail(t, p, "acme", IngestParams{Operation: OpIngest, Points: next}, codeStorage, "storage quota exceeded")

	restarted := newTestPlugin(t, storage, `{}`)
	var list ListMetricsResult
	mustOK(t, restarted, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if list.Metrics[0].Name != "a" || list.Metrics[0].Samples != 400 {
		t.Errorf("metric %+v after a failed save, want a with its 400 stored points", list.Metrics[0])
	}
}

func TestListMetricsWithoutBaseline(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "young", Points: points(98, 5, 10)}, nil)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "old", Points: points(99, 40, 10)}, nil)
	res := mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, nil)
	var raw struct {
		Metrics []map[string]json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(res.Data, &raw); err != nil {
		t.Fatal(err)
	}
	old, young := raw.Metrics[0], raw.Metrics[1]
	if _, ok := young["baseline"]; ok || string(young["baseline_ready"]) != "false" {
		t.Errorf("metric with 5 points: %s, want baseline_ready false and no baseline", res.Data)
	}
	if strings.Contains(string(res.Data), "0001-01-01") {
		t.Errorf("list_metrics shows a zero time: %s", res.Data)
	}
	if _, ok := old["baseline"]; !ok {
		t.Errorf("metric with 40 points has no baseline: %s", res.Data)
	}
}

func TestIngestDropSkipsStoredPoints(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	pts := points(100, 12, 10)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: pts[:10]}, nil)
	var res IngestResult
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: pts[7:], OutOfOrder: "drop"}, &res)
	if res.Ingested != 2 || res.Dropped != 3 {
		t.Errorf("result %+v, want 2 ingested and 3 dropped", res)
	}
	if res.Metrics["cpu"] != 2 || res.TotalSamples["cpu"] != 12 {
		t.Errorf("metrics %v and total_samples %v, want 2 points added to cpu and 12 in total", res.Metrics, res.TotalSamples)
	}
}
