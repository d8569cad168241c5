package scenariorun

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/scenariostore"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// aheadDetector is an anomaly detector whose model of every metric holds a
// point later than any probe value: it rejects each ingest as out of
// order, as after a restart on a clock that stepped back. Its probe plugin
// "sim" answers at once, and the step waits for several ingests.
type aheadDetector struct {
	mu      sync.Mutex
	times   []time.Time
	enough  chan struct{}
	closing sync.Once
}

func (x *aheadDetector) Capabilities(string) ([]string, error) { return []string{"observability"}, nil }

func (x *aheadDetector) Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error) {
	ok := &registry.Result{PluginID: id, PluginVersion: "1.0.0", Response: &pluginv1.ExecuteResponse{Success: true, DataJson: []byte(`{}`)}}
	if id != AnomalyPluginID {
		if strings.Contains(string(req.ParametersJson), "step") {
			select {
			case <-x.enough:
			case <-ctx.Done():
			}
		}
		return ok, nil
	}
	var p struct {
		Operation  string `json:"operation"`
		OutOfOrder string `json:"out_of_order"`
		Points     []struct {
			Timestamp time.Time `json:"timestamp"`
		} `json:"points"`
	}
	_ = json.Unmarshal(req.ParametersJson, &p)
	if p.Operation != "ingest" {
		return ok, nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, pt := range p.Points {
		x.times = append(x.times, pt.Timestamp)
	}
	if len(x.times) >= 3 {
		x.closing.Do(func() { close(x.enough) })
	}
	if p.OutOfOrder != "reject" {
		return ok, nil // the value is dropped without a word
	}
	return &registry.Result{PluginID: id, PluginVersion: "1.0.0", Response: &pluginv1.ExecuteResponse{
		Error: &pluginv1.ErrorDetail{Code: anomalyOutOfOrder, Message: "timestamp is earlier than the metric's newest point"},
	}}, nil
}

func TestGuardReportsDetectorAheadOnce(t *testing.T) {
	src := `name: ahead
probes:
  - {metric: latency, interval: 50ms, plugin: {plugin: sim}}
guards:
  - {name: slow, metric: latency, anomaly: {severity: high}}
steps:
  - {plugin: sim, parameters: {step: true}, timeout: 10s}
`
	exec := &aheadDetector{enough: make(chan struct{})}
	o, _ := startOrchestrator(t, exec, src)
	rec, _, err := o.Run(context.Background(), "acme", "ahead", false)
	if err != nil {
		t.Fatal(err)
	}
	events := waitVerdict(t, o, rec.ID)

	var failures []string
	for _, ev := range events {
		if ev.Type == scenariostore.EventProbeFailed {
			failures = append(failures, ev.Error)
		}
	}
	if len(failures) != 1 {
		t.Fatalf("probe_failed events = %q, want one for the guard", failures)
	}
	for _, want := range []string{"scenario.ahead.latency", "reset_baseline: true", "guard slow"} {
		if !strings.Contains(failures[0], want) {
			t.Errorf("probe_failed error %q does not name %q", failures[0], want)
		}
	}
	exec.mu.Lock()
	defer exec.mu.Unlock()
	for i := 1; i < len(exec.times); i++ {
		if !exec.times[i].After(exec.times[i-1]) {
			t.Errorf("probe value %d has time %s, not after the one before (%s)", i, exec.times[i], exec.times[i-1])
		}
	}
}
