package scenariostore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/tenant"
)

func openManager(t *testing.T, path string) *tenant.Manager {
	t.Helper()
	m, err := tenant.Open(path, tenant.Options{})
	if err != nil {
		t.Fatalf("open tenant store: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// newStore returns a Store on a new tenant store with tenant "acme" on the
// free plan, and the tenant store's path.
func newStore(t *testing.T) (*Store, *tenant.Manager, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), tenant.StoreFileName)
	m := openManager(t, path)
	if _, err := m.Create(context.Background(), "acme", tenant.PlanFree); err != nil {
		t.Fatal(err)
	}
	return New(m), m, path
}

func definition(name string) Definition {
	now := time.Now().UTC()
	return Definition{Name: name, Source: []byte("name: " + name + "\nsteps: [{plugin: p}]\n"), CreatedAt: now, UpdatedAt: now}
}

func usage(t *testing.T, m *tenant.Manager) tenant.Tenant {
	t.Helper()
	got, err := m.Get("acme")
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func setQuota(t *testing.T, m *tenant.Manager, set tenant.QuotaOverrides) {
	t.Helper()
	if _, _, err := m.SetQuotas(context.Background(), "acme", set, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDefinitionLifecycleCountsQuotas(t *testing.T) {
	ctx := context.Background()
	s, m, _ := newStore(t)
	limit := tenant.LimitOf(2)
	setQuota(t, m, tenant.QuotaOverrides{Scenarios: &limit})

	for _, name := range []string{"a", "b"} {
		if err := s.CreateDefinition(ctx, "acme", definition(name)); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	if got := usage(t, m).Scenarios; got != 2 {
		t.Errorf("scenario count = %d, want 2", got)
	}
	bytesAfterTwo := usage(t, m).StorageBytes
	if bytesAfterTwo <= 0 {
		t.Errorf("storage bytes = %d after two scenarios, want more than 0", bytesAfterTwo)
	}

	err := s.CreateDefinition(ctx, "acme", definition("c"))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("third create = %v, want ResourceExhausted", err)
	}
	if _, found, _ := s.GetDefinition("acme", "c"); found {
		t.Error("the refused scenario c was stored")
	}
	if got := usage(t, m); got.Scenarios != 2 || got.StorageBytes != bytesAfterTwo {
		t.Errorf("after the refusal: %d scenarios, %d bytes; want 2 and %d", got.Scenarios, got.StorageBytes, bytesAfterTwo)
	}
	if err := s.CreateDefinition(ctx, "acme", definition("a")); status.Code(err) != codes.AlreadyExists {
		t.Errorf("duplicate create = %v, want AlreadyExists", err)
	}

	old, _, _ := s.GetDefinition("acme", "a")
	updated := definition("a")
	updated.Source = []byte("name: a\ndescription: longer now\nsteps: [{plugin: p}]\n")
	updated.CreatedAt = time.Now().Add(time.Hour)
	if err := s.UpdateDefinition(ctx, "acme", updated); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, _, _ := s.GetDefinition("acme", "a")
	if string(got.Source) != string(updated.Source) || !got.CreatedAt.Equal(old.CreatedAt) {
		t.Errorf("after update: source %q created %v; want the new source and the old creation time %v", got.Source, got.CreatedAt, old.CreatedAt)
	}
	if err := s.UpdateDefinition(ctx, "acme", definition("zz")); status.Code(err) != codes.NotFound {
		t.Errorf("update of a missing scenario = %v, want NotFound", err)
	}
	if got := usage(t, m).StorageBytes; got <= bytesAfterTwo {
		t.Errorf("storage bytes = %d after a longer source, want more than %d", got, bytesAfterTwo)
	}

	if err := s.DeleteDefinition(ctx, "acme", "a"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.DeleteDefinition(ctx, "acme", "a"); status.Code(err) != codes.NotFound {
		t.Errorf("second delete = %v, want NotFound", err)
	}
	if got := usage(t, m).Scenarios; got != 1 {
		t.Errorf("scenario count after delete = %d, want 1", got)
	}
	if err := s.CreateDefinition(ctx, "acme", definition("c")); err != nil {
		t.Errorf("create after a delete freed a place: %v", err)
	}
	list, err := s.ListDefinitions("acme")
	if err != nil || len(list) != 2 || list[0].Name != "b" || list[1].Name != "c" {
		t.Errorf("ListDefinitions = %+v, %v; want b and c", list, err)
	}
}

func TestCreateDefinitionOverStorageQuota(t *testing.T) {
	ctx := context.Background()
	s, m, _ := newStore(t)
	limit := tenant.LimitOf(50)
	setQuota(t, m, tenant.QuotaOverrides{StorageBytes: &limit})

	err := s.CreateDefinition(ctx, "acme", definition("big"))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("create over the storage quota = %v, want ResourceExhausted", err)
	}
	if got := usage(t, m); got.Scenarios != 0 || got.StorageBytes != 0 {
		t.Errorf("after the refusal: %d scenarios, %d bytes; want 0 and 0 (the count is undone)", got.Scenarios, got.StorageBytes)
	}
}

func TestJournalSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	s, m, path := newStore(t)
	if err := s.CreateDefinition(ctx, "acme", definition("a")); err != nil {
		t.Fatal(err)
	}
	rec := Execution{ID: "20260105-100000.123-a1b2c3", Tenant: "acme", Scenario: "a", State: StateRunning, StartedAt: time.Now().UTC()}
	if err := s.PutExecution(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// Twelve events, so that the padded sequence number keeps 10 after 9.
	for seq := int64(1); seq <= 12; seq++ {
		ev := Event{Seq: seq, Time: time.Now().UTC(), Type: EventPhase, Phase: fmt.Sprintf("p%d", seq)}
		if err := s.AppendEvent(ctx, "acme", rec.ID, ev); err != nil {
			t.Fatalf("append event %d: %v", seq, err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	reopened := New(openManager(t, path))
	events, err := reopened.Events("acme", rec.ID)
	if err != nil {
		t.Fatalf("Events after reopen: %v", err)
	}
	if len(events) != 12 {
		t.Fatalf("read back %d events, want 12", len(events))
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) || ev.Phase != fmt.Sprintf("p%d", i+1) {
			t.Errorf("event %d = seq %d phase %q, want seq %d phase p%d", i, ev.Seq, ev.Phase, i+1, i+1)
		}
	}
	got, found, err := reopened.GetExecution("acme", rec.ID)
	if err != nil || !found || got.State != StateRunning || got.Scenario != "a" {
		t.Errorf("GetExecution after reopen = %+v, %v, %v", got, found, err)
	}
}

func TestDeleteFreesJournalStorage(t *testing.T) {
	ctx := context.Background()
	s, m, _ := newStore(t)
	if err := s.CreateDefinition(ctx, "acme", definition("a")); err != nil {
		t.Fatal(err)
	}
	empty := usage(t, m).StorageBytes
	ended := Execution{ID: "20260105-100000.000-aaaaaa", Tenant: "acme", Scenario: "a", State: VerdictCompleted}
	running := Execution{ID: "20260105-100001.000-bbbbbb", Tenant: "acme", Scenario: "a", State: StateRunning}
	for _, rec := range []Execution{ended, running} {
		if err := s.PutExecution(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendEvent(ctx, "acme", rec.ID, Event{Seq: 1, Type: EventStarted, Message: "started"}); err != nil {
			t.Fatal(err)
		}
	}
	if usage(t, m).StorageBytes <= empty {
		t.Fatal("the journals take no storage")
	}

	if err := s.DeleteDefinition(ctx, "acme", "a"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.GetExecution("acme", ended.ID); found {
		t.Error("the ended execution's summary is still stored")
	}
	if events, _ := s.Events("acme", ended.ID); len(events) != 0 {
		t.Errorf("the ended execution still has %d events", len(events))
	}
	if _, found, _ := s.GetExecution("acme", running.ID); !found {
		t.Error("the running execution's summary was deleted")
	}

	if err := s.DeleteExecution(ctx, "acme", running.ID); err != nil {
		t.Fatal(err)
	}
	if got := usage(t, m).StorageBytes; got != 0 {
		t.Errorf("storage bytes after deleting everything = %d, want 0", got)
	}
	if err := s.DeleteExecution(ctx, "acme", running.ID); status.Code(err) != codes.NotFound {
		t.Errorf("second DeleteExecution = %v, want NotFound", err)
	}
}

func TestForDaemonReachesDisabledTenant(t *testing.T) {
	ctx := context.Background()
	s, m, _ := newStore(t)
	rec := Execution{ID: "20260105-100000.000-cccccc", Tenant: "acme", Scenario: "a", State: StateRunning}
	if err := s.PutExecution(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetDisabled(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}

	ev := Event{Seq: 1, Type: EventVerdict, Verdict: VerdictFailed}
	if err := s.AppendEvent(ctx, "acme", rec.ID, ev); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("AppendEvent through the API view = %v, want FailedPrecondition", err)
	}
	daemon := s.ForDaemon()
	if err := daemon.AppendEvent(ctx, "acme", rec.ID, ev); err != nil {
		t.Fatalf("AppendEvent through the daemon's view: %v", err)
	}
	events, err := daemon.Events("acme", rec.ID)
	if err != nil || len(events) != 1 || events[0].Verdict != VerdictFailed {
		t.Errorf("Events through the daemon's view = %+v, %v", events, err)
	}
	if _, err := s.ListExecutions("acme"); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("ListExecutions through the API view = %v, want FailedPrecondition", err)
	}
}

func TestValidExecutionID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"20260105-100000.123-a1b2c3", true},
		{"", false},
		{"a/b", false},
		{"..", false},
		{"a\x00b", false},
		{string(make([]byte, 65)), false},
	} {
		if got := ValidExecutionID(tt.id); got != tt.want {
			t.Errorf("ValidExecutionID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
