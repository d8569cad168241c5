package scenariorun

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/scenariostore"
	"github.com/mockforge/mockforged/host/tenant"
)

// startOrchestrator returns a started Orchestrator over a fresh tenant
// store with tenant "acme" on the starter plan, and stores each source as
// a scenario of acme.
func startOrchestrator(t *testing.T, exec Executor, sources ...string) (*Orchestrator, *scenariostore.Store) {
	t.Helper()
	m, store := newAcmeStore(t, sources...)
	return startOn(t, m, store, exec), store
}

// newAcmeStore opens a fresh tenant store with tenant "acme" on the
// starter plan, and stores each source as a scenario of acme.
func newAcmeStore(t *testing.T, sources ...string) (*tenant.Manager, *scenariostore.Store) {
	t.Helper()
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
	for _, src := range sources {
		s, err := parseScenario([]byte(src), "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := store.CreateDefinition(ctx, "acme", scenariostore.Definition{Name: s.Name, Source: []byte(src)}); err != nil {
			t.Fatal(err)
		}
	}
	return m, store
}

// startOn starts an Orchestrator over m and store and stops it when the
// test ends.
func startOn(t *testing.T, m *tenant.Manager, store *scenariostore.Store, exec Executor) *Orchestrator {
	t.Helper()
	o := New(Options{Store: store, Executor: exec, Gate: TenantGate{Manager: m}, Logger: hclog.NewNullLogger()})
	if err := o.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o.Stop(stopCtx)
	})
	return o
}

// waitVerdict waits up to 10s for the execution's verdict and returns its
// journal.
func waitVerdict(t *testing.T, o *Orchestrator, id string) []scenariostore.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, events, err := o.Get("acme", id, true)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if rec.Ended() {
			return events
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s has no verdict after 10s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
