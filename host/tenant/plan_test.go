package tenant

import (
	"slices"
	"testing"
	"time"
)

func TestPlanQuotas(t *testing.T) {
	tests := []struct {
		plan Plan
		want Quotas
	}{
		{PlanFree, Quotas{
			Scenarios: LimitOf(5), ConcurrentExecutions: LimitOf(1), RequestsPerMinute: LimitOf(50),
			StorageBytes: LimitOf(50_000_000), MaxDuration: DurationLimitOf(10 * time.Minute), Users: LimitOf(1),
		}},
		{PlanStarter, Quotas{
			Scenarios: LimitOf(20), ConcurrentExecutions: LimitOf(5), RequestsPerMinute: LimitOf(200),
			StorageBytes: LimitOf(500_000_000), MaxDuration: DurationLimitOf(time.Hour), Users: LimitOf(5),
		}},
		{PlanProfessional, Quotas{
			Scenarios: LimitOf(100), ConcurrentExecutions: LimitOf(20), RequestsPerMinute: LimitOf(1000),
			StorageBytes: LimitOf(5_000_000_000), MaxDuration: DurationLimitOf(4 * time.Hour), Users: LimitOf(25),
		}},
		{PlanEnterprise, Quotas{
			Scenarios: Unlimited(), ConcurrentExecutions: LimitOf(100), RequestsPerMinute: LimitOf(10000),
			StorageBytes: LimitOf(50_000_000_000), MaxDuration: DurationLimitOf(24 * time.Hour), Users: Unlimited(),
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.plan), func(t *testing.T) {
			if got := tt.plan.Quotas(); got != tt.want {
				t.Errorf("Quotas() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPlanPermissions(t *testing.T) {
	free := []Permission{PermissionCreateScenarios, PermissionExecuteScenarios}
	starter := append(slices.Clone(free), PermissionViewObservability, PermissionManageResilience, PermissionManageUsers)
	professional := append(slices.Clone(starter), PermissionUseAdvancedFeatures, PermissionIntegrateExternal, PermissionUseMLFeatures)
	tests := []struct {
		plan   Plan
		want   []Permission
		custom bool
	}{
		{PlanFree, free, false},
		{PlanStarter, starter, false},
		{PlanProfessional, professional, false},
		{PlanEnterprise, professional, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.plan), func(t *testing.T) {
			got := tt.plan.Permissions()
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("Permissions() = %v, want %v", got, want)
			}
			if tt.plan.AllowsCustomPermissions() != tt.custom {
				t.Errorf("AllowsCustomPermissions() = %v, want %v", !tt.custom, tt.custom)
			}
		})
	}
}

func TestLowestPlanWith(t *testing.T) {
	tests := map[Permission]Plan{
		PermissionCreateScenarios:     PlanFree,
		PermissionExecuteScenarios:    PlanFree,
		PermissionViewObservability:   PlanStarter,
		PermissionManageResilience:    PlanStarter,
		PermissionManageUsers:         PlanStarter,
		PermissionUseAdvancedFeatures: PlanProfessional,
		PermissionIntegrateExternal:   PlanProfessional,
		PermissionUseMLFeatures:       PlanProfessional,
	}
	for perm, want := range tests {
		got, ok := LowestPlanWith(perm)
		if !ok || got != want {
			t.Errorf("LowestPlanWith(%s) = %s, %v; want %s, true", perm, got, ok, want)
		}
	}
	if got, ok := LowestPlanWith("deploy_to_prod"); ok {
		t.Errorf("LowestPlanWith(custom) = %s, true; want false", got)
	}
}

func TestCapabilityPermissions(t *testing.T) {
	want := map[string]Permission{
		"fault_injection":   PermissionExecuteScenarios,
		"traffic_shaping":   PermissionExecuteScenarios,
		"scenario":          PermissionExecuteScenarios,
		"metrics":           PermissionViewObservability,
		"observability":     PermissionViewObservability,
		"anomaly_detection": PermissionUseMLFeatures,
		"integration":       PermissionIntegrateExternal,
		"resilience":        PermissionManageResilience,
	}
	got := CapabilityPermissions()
	if len(got) != len(want) {
		t.Errorf("CapabilityPermissions() has %d entries, want %d: %v", len(got), len(want), got)
	}
	for c, p := range want {
		if got[c] != p {
			t.Errorf("capability %s needs %q, want %q", c, got[c], p)
		}
	}
	for _, c := range []string{"hook", "my_custom_capability"} {
		if p, ok := PermissionForCapability(c); ok {
			t.Errorf("capability %s needs %s, want no permission", c, p)
		}
	}
}

func TestParsePlan(t *testing.T) {
	for _, p := range Plans() {
		if got, err := ParsePlan(string(p.Name)); err != nil || got != p.Name {
			t.Errorf("ParsePlan(%s) = %s, %v", p.Name, got, err)
		}
	}
	_, err := ParsePlan("gold")
	if err == nil {
		t.Fatal("ParsePlan(gold) succeeded, want an error")
	}
	want := `unknown plan "gold": use one of "free", "starter", "professional", "enterprise"`
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestParseName(t *testing.T) {
	for _, ok := range []string{"a", "acme", "team-1.dev_x", "0day"} {
		if _, err := ParseName(ok); err != nil {
			t.Errorf("ParseName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Acme", "-x", "a b", "a/b", string(make([]byte, 64))} {
		if _, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) succeeded, want an error", bad)
		}
	}
}
