package scenariorun

import (
	"context"
	"testing"
	"time"

	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/scenariostore"
)

// TestExecutionIDsSortAfterStoredOnes stores an execution whose id lies an
// hour ahead, as after a wall clock stepped back while the daemon was down,
// and checks that a new execution still lists after it.
func TestExecutionIDsSortAfterStoredOnes(t *testing.T) {
	ctx := context.Background()
	src := "name: quick\nsteps:\n  - {plugin: sim}\n"
	m, store := newAcmeStore(t, src)
	ahead := clock.Now().Add(time.Hour)
	earlier := scenariostore.Execution{ID: newExecutionID(ahead), Tenant: "acme", Scenario: "quick",
		State: scenariostore.VerdictCompleted, StartedAt: ahead.UTC(), EndedAt: ahead.UTC(), Source: []byte(src)}
	if err := store.ForDaemon().PutExecution(ctx, earlier); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	close(done)
	o := startOn(t, m, store, &detectorExecutor{done: done})
	rec, _, err := o.Run(ctx, "acme", "quick", false)
	if err != nil {
		t.Fatal(err)
	}
	waitVerdict(t, o, rec.ID)
	if rec.ID <= earlier.ID {
		t.Errorf("new execution id %s sorts before the stored %s", rec.ID, earlier.ID)
	}
	if rec.StartedAt.After(earlier.StartedAt) {
		t.Errorf("started_at %s should come from the wall clock, an hour before the stored one's %s", rec.StartedAt, earlier.StartedAt)
	}
	list, err := store.ListExecutions("acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != earlier.ID || list[1].ID != rec.ID {
		ids := make([]string, len(list))
		for i, e := range list {
			ids[i] = e.ID
		}
		t.Errorf("executions listed as %v, want %s then %s", ids, earlier.ID, rec.ID)
	}
}
