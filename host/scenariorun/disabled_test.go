package scenariorun

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/scenariostore"
	"github.com/mockforge/mockforged/host/tenant"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// blockingExecutor stands in for the registry: a call whose parameters
// hold "block": true waits until release is closed or its context ends,
// and every call is recorded. The end-to-end tests run real plugins.
type blockingExecutor struct {
	release chan struct{}
	blocked chan struct{} // closed by the first blocking call

	mu    sync.Mutex
	once  sync.Once
	calls []string // parameters of every call, in order
}

func (x *blockingExecutor) Capabilities(string) ([]string, error) {
	return []string{"observability"}, nil
}

func (x *blockingExecutor) Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error) {
	x.mu.Lock()
	x.calls = append(x.calls, string(req.ParametersJson))
	x.mu.Unlock()
	var p struct {
		Block bool `json:"block"`
	}
	_ = json.Unmarshal(req.ParametersJson, &p)
	if p.Block {
		x.once.Do(func() { close(x.blocked) })
		select {
		case <-x.release:
		case <-ctx.Done():
		}
	}
	return &registry.Result{PluginID: id, PluginVersion: "1.0.0",
		Response: &pluginv1.ExecuteResponse{Success: true, DataJson: req.ParametersJson}}, nil
}

func TestTenantDisabledMidRunStillGetsVerdict(t *testing.T) {
	ctx := context.Background()
	m, err := tenant.Open(filepath.Join(t.TempDir(), tenant.StoreFileName), tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if _, err := m.Create(ctx, "acme", tenant.PlanStarter); err != nil {
		t.Fatal(err)
	}
	store := scenariostore.New(m)
	src := []byte(`name: held
steps:
  - name: fault
    plugin: sim
    parameters: {fault: inject}
    rollback: {parameters: {fault: remove}}
  - name: hold
    plugin: sim
    parameters: {block: true}
  - name: after
    plugin: sim
    parameters: {never: true}
`)
	if err := store.CreateDefinition(ctx, "acme", scenariostore.Definition{Name: "held", Source: src}); err != nil {
		t.Fatal(err)
	}
	exec := &blockingExecutor{release: make(chan struct{}), blocked: make(chan struct{})}
	o := New(Options{Store: store, Executor: exec, Gate: TenantGate{Manager: m}, Logger: hclog.NewNullLogger()})
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o.Stop(stopCtx)
	})

	rec, _, err := o.Run(ctx, "acme", "held", false)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-exec.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("step hold did not start within 10s")
	}
	if _, err := m.SetDisabled(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	close(exec.release)

	// The stored summary is read through the daemon's view, because the
	// API's view rejects the disabled tenant.
	journal := store.ForDaemon()
	var ended scenariostore.Execution
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, found, err := journal.GetExecution("acme", rec.ID)
		if err != nil || !found {
			t.Fatalf("GetExecution = %v, %v", found, err)
		}
		if got.Ended() {
			ended = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the execution has no stored verdict after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	if ended.State != scenariostore.VerdictFailed || !strings.Contains(ended.Reason, "disabled") {
		t.Errorf("verdict %s (%s), want failed because the tenant is disabled", ended.State, ended.Reason)
	}
	events, err := journal.Events("acme", rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d; the journal has a gap", i, ev.Seq)
		}
	}
	var rollbacks []scenariostore.Event
	for _, ev := range events {
		if ev.Type == scenariostore.EventRollbackFinished {
			rollbacks = append(rollbacks, ev)
		}
	}
	if len(rollbacks) != 1 || rollbacks[0].Step != "fault" || rollbacks[0].Success == nil || !*rollbacks[0].Success {
		t.Errorf("rollbacks = %+v, want fault's, successful", rollbacks)
	}
	if last := events[len(events)-1]; last.Type != scenariostore.EventVerdict || last.Verdict != scenariostore.VerdictFailed {
		t.Errorf("last event = %+v, want the failed verdict", last)
	}
	exec.mu.Lock()
	calls := strings.Join(exec.calls, " ")
	exec.mu.Unlock()
	if strings.Contains(calls, "never") {
		t.Errorf("step after ran for the disabled tenant; calls: %s", calls)
	}
	if !strings.Contains(calls, `"fault":"remove"`) {
		t.Errorf("the rollback call did not reach the plugin; calls: %s", calls)
	}
}

func TestNewExecutionIDIsValid(t *testing.T) {
	id := newExecutionID(time.Now())
	if !scenariostore.ValidExecutionID(id) {
		t.Errorf("newExecutionID made %q, which ValidExecutionID rejects", id)
	}
}
