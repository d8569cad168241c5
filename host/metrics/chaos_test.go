package metrics

import (
	"testing"
	"time"

	"github.com/mockforge/mockforged/host/registry"
)

// chaosExperiment is an experiment as chaos-mesh reports it.
func chaosExperiment(kind, namespace, name, duration string, created time.Time) map[string]any {
	return map[string]any{"kind": kind, "namespace": namespace, "name": name, "managed": true,
		"phase": "pending", "duration": duration, "created_at": created.UTC().Format(time.RFC3339), "conditions": []any{}}
}

func TestChaosExperimentsTracked(t *testing.T) {
	m := New("test")
	now := time.Now().Truncate(time.Second)
	elapsed, _ := fakeClocks(m, now)
	call := func(tenantID, params string, data any) {
		t.Helper()
		m.ObserveCall(chaosMeshPluginID, tenantID, []byte(params), okResponse(t, data), nil, time.Millisecond)
	}
	active := "mockforged_chaos_experiments_active"
	acme := labels("plugin", chaosMeshPluginID, "tenant", "acme")
	globex := labels("plugin", chaosMeshPluginID, "tenant", "globex")

	create := `{"operation": "create", "kind": "PodChaos"}`
	call("acme", create, map[string]any{"experiment": chaosExperiment("PodChaos", "shop", "kill", "1m", now)})
	call("acme", create, map[string]any{"experiment": chaosExperiment("NetworkChaos", "shop", "delay", "1h", now)})
	call("acme", create, map[string]any{"experiment": chaosExperiment("NetworkChaos", "ops", "loss", "1h", now)})
	call("acme", `{"operation": "create", "kind": "Schedule"}`, map[string]any{"experiment": chaosExperiment("Schedule", "shop", "nightly", "", now)})
	call("globex", create, map[string]any{"experiment": chaosExperiment("PodChaos", "shop", "kill", "1h", now)})
	// A dry run creates nothing.
	call("acme", `{"operation": "create", "dry_run": true}`, map[string]any{"dry_run": true, "manifest": "kind: PodChaos"})
	wantSample(t, m, active, acme, 4)
	wantSample(t, m, active, globex, 1)

	*elapsed = 2 * time.Minute // kill ended by its duration
	wantSample(t, m, active, acme, 3)

	call("acme", `{"operation": "delete", "kind": "networkchaos", "name": "delay"}`, map[string]any{"experiment": chaosExperiment("NetworkChaos", "shop", "delay", "1h", now)})
	wantSample(t, m, active, acme, 2)

	// A status that shows the experiment recovered ends it.
	recovered := chaosExperiment("NetworkChaos", "ops", "loss", "1h", now)
	recovered["phase"] = "recovered"
	call("acme", `{"operation": "status", "kind": "networkchaos", "name": "loss"}`, map[string]any{"experiment": recovered})
	wantSample(t, m, active, acme, 1)

	// A list of every namespace replaces the tenant's experiments; objects
	// of others are not counted.
	foreign := chaosExperiment("PodChaos", "shop", "someone-elses", "1h", now)
	foreign["managed"] = false
	call("acme", `{"operation": "list", "all_namespaces": true, "include_foreign": true}`, map[string]any{"experiments": []any{
		chaosExperiment("StressChaos", "shop", "cpu", "1h", now), foreign,
	}})
	wantSample(t, m, active, acme, 1)
	// A list of one kind in one namespace leaves other kinds alone.
	call("acme", `{"operation": "list", "kind": "podchaos", "namespace": "shop"}`, map[string]any{"experiments": []any{}})
	wantSample(t, m, active, acme, 1)
	call("acme", `{"operation": "list", "kind": "stresschaos", "namespace": "shop"}`, map[string]any{"experiments": []any{}})
	wantSample(t, m, active, acme, 0)

	call("globex", `{"operation": "cleanup"}`, map[string]any{"deleted": []any{chaosExperiment("PodChaos", "shop", "kill", "1h", now)}})
	wantSample(t, m, active, globex, 0)
}

func TestChaosExperimentsSurviveRestart(t *testing.T) {
	m := New("test")
	data := map[string]any{"experiment": chaosExperiment("PodChaos", "shop", "kill", "1h", time.Now())}
	m.ObserveCall(chaosMeshPluginID, "acme", []byte(`{"operation": "create"}`), okResponse(t, data), nil, time.Millisecond)
	m.PluginRestarted(chaosMeshPluginID, registry.RestartCrash)
	wantSample(t, m, "mockforged_chaos_experiments_active", labels("plugin", chaosMeshPluginID, "tenant", "acme"), 1)
}

func TestChaosFailedCallsIgnored(t *testing.T) {
	m := New("test")
	resp := okResponse(t, map[string]any{"experiment": chaosExperiment("PodChaos", "shop", "kill", "1h", time.Now())})
	resp.Success = false
	m.ObserveCall(chaosMeshPluginID, "acme", []byte(`{"operation": "create"}`), resp, nil, time.Millisecond)
	wantNoSample(t, m, "mockforged_chaos_experiments_active", labels("plugin", chaosMeshPluginID, "tenant", "acme"))
}

func TestKindMatches(t *testing.T) {
	cases := []struct {
		filter, kind string
		want         bool
	}{
		{"", "PodChaos", true},
		{"PodChaos", "PodChaos", true},
		{"podchaos", "PodChaos", true},
		{"schedules", "Schedule", true},
		{"schedule", "Schedule", true},
		{"networkchaos", "PodChaos", false},
	}
	for _, tc := range cases {
		if got := kindMatches(tc.filter, tc.kind); got != tc.want {
			t.Errorf("kindMatches(%q, %q) = %v, want %v", tc.filter, tc.kind, got, tc.want)
		}
	}
}
