package scenariorun

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// detectorExecutor replaces the registry in unit tests. Its plugin "sim"
// succeeds, and its anomaly detector's clear_metrics returns the error
// code that clearErrors maps the metric to. The step call of "sim" waits
// until clear_metrics was called for every metric in clearErrors, so that
// the execution cannot end before the baselines were reset. The
// end-to-end tests run the real anomaly-detector plugin.
type detectorExecutor struct {
	clearErrors map[string]string

	mu      sync.Mutex
	cleared []string
	done    chan struct{} // closed when every metric was cleared
}

func (x *detectorExecutor) Capabilities(id string) ([]string, error) {
	if id != "sim" && id != AnomalyPluginID {
		return nil, status.Errorf(codes.NotFound, "plugin %q not found; list the plugins with mockforged plugins list", id)
	}
	return []string{"observability"}, nil
}

func (x *detectorExecutor) Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error) {
	ok := &registry.Result{PluginID: id, PluginVersion: "1.0.0", Response: &pluginv1.ExecuteResponse{Success: true, DataJson: []byte(`{"anomalies": []}`)}}
	if id != AnomalyPluginID {
		select {
		case <-x.done:
		case <-ctx.Done():
		}
		return ok, nil
	}
	var p struct {
		Operation string   `json:"operation"`
		Metrics   []string `json:"metrics"`
	}
	_ = json.Unmarshal(req.ParametersJson, &p)
	if p.Operation != "clear_metrics" {
		return ok, nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cleared = append(x.cleared, p.Metrics...)
	if len(x.cleared) == len(x.clearErrors) {
		close(x.done)
	}
	code := x.clearErrors[p.Metrics[0]]
	if code == "" {
		return ok, nil
	}
	return &registry.Result{PluginID: id, PluginVersion: "1.0.0", Response: &pluginv1.ExecuteResponse{
		Error: &pluginv1.ErrorDetail{Code: code, Message: "metric " + p.Metrics[0] + " failed with " + code},
	}}, nil
}

const resetScenario = `name: reset
probes:
  - {metric: fresh, interval: 1s, plugin: {plugin: sim}}
  - {metric: known, interval: 1s, plugin: {plugin: sim}}
  - {metric: broken, interval: 1s, plugin: {plugin: sim}}
guards:
  - {metric: fresh, anomaly: {severity: high, reset_baseline: true}}
  - {metric: known, anomaly: {severity: high, reset_baseline: true}}
  - {metric: broken, anomaly: {severity: high, reset_baseline: true}}
steps:
  - {plugin: sim, timeout: 10s}
`

func TestResetBaselineOfUnknownMetricIsNoFailure(t *testing.T) {
	exec := &detectorExecutor{
		clearErrors: map[string]string{
			"scenario.reset.fresh":  anomalyNotFound,
			"scenario.reset.known":  "",
			"scenario.reset.broken": "storage",
		},
		done: make(chan struct{}),
	}
	o, _ := startOrchestrator(t, exec, resetScenario)
	rec, _, err := o.Run(context.Background(), "acme", "reset", false)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	events := waitVerdict(t, o, rec.ID)

	var failures []string
	for _, ev := range events {
		if ev.Type == scenariostore.EventProbeFailed {
			failures = append(failures, ev.Error)
		}
	}
	if len(failures) != 1 {
		t.Fatalf("probe_failed events = %q, want exactly one, for the metric whose reset failed", failures)
	}
	if !strings.Contains(failures[0], "scenario.reset.broken") || !strings.Contains(failures[0], "storage") {
		t.Errorf("probe_failed error = %q, want the broken metric and its error code", failures[0])
	}
	exec.mu.Lock()
	cleared := len(exec.cleared)
	exec.mu.Unlock()
	if cleared != 3 {
		t.Errorf("clear_metrics was called for %d metrics, want 3, one call each", cleared)
	}
}

func TestRunUnknownPluginMessage(t *testing.T) {
	src := "name: unknown\nsteps:\n  - plugin: no-such-plugin\n"
	exec := &detectorExecutor{done: make(chan struct{})}
	o, _ := startOrchestrator(t, exec, src)
	_, _, err := o.Run(context.Background(), "acme", "unknown", false)
	if status.Code(err) != codes.NotFound {
		t.Errorf("Run code = %s, want NotFound (error: %v)", status.Code(err), err)
	}
	msg := status.Convert(err).Message()
	if strings.Contains(msg, "rpc error") || strings.Contains(msg, "desc =") {
		t.Errorf("message %q shows the gRPC status's internals", msg)
	}
	if !strings.Contains(msg, `plugin "no-such-plugin" not found`) || !strings.Contains(msg, "plugins list") {
		t.Errorf("message %q should name the plugin and how to list plugins", msg)
	}
}

func TestMaxDurationValidator(t *testing.T) {
	exec := &detectorExecutor{done: make(chan struct{})}
	o, _ := startOrchestrator(t, exec)
	validate, err := o.MaxDurationValidator("acme")
	if err != nil {
		t.Fatalf("MaxDurationValidator: %v", err)
	}
	tests := []struct {
		name    string
		src     string
		wantErr bool
	}{
		{"above the starter plan's hour", "name: long\nmax_duration: 2h\nsteps: [{plugin: sim}]\n", true},
		{"at the limit", "name: hour\nmax_duration: 1h\nsteps: [{plugin: sim}]\n", false},
		{"unset takes the limit", "name: unset\nsteps: [{plugin: sim}]\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenario.Parse([]byte(tt.src), "test.yaml", validate)
			if !tt.wantErr {
				if err != nil {
					t.Errorf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse accepted a max_duration above the tenant's")
			}
			for _, want := range []string{"/max_duration (line 2)", "2h0m0s", "1h0m0s", "--max-duration"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestRunChecksMaxDurationAgain stores a scenario without the API's
// checks, as one stored before the tenant's limit was lowered would be,
// and checks that a run rejects it.
func TestRunChecksMaxDurationAgain(t *testing.T) {
	exec := &detectorExecutor{done: make(chan struct{})}
	o, _ := startOrchestrator(t, exec, "name: long\nmax_duration: 2h\nsteps: [{plugin: sim}]\n")
	_, _, err := o.Run(context.Background(), "acme", "long", true)
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("dry Run code = %s, want ResourceExhausted (error: %v)", status.Code(err), err)
	}
	if !strings.Contains(err.Error(), "--max-duration") {
		t.Errorf("dry Run error %v should name --max-duration", err)
	}
}
