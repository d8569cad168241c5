package tenant

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
)

func TestCreateTenant(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	got := mustCreate(t, m, "acme", PlanStarter)
	if got.Plan != PlanStarter || got.Disabled || got.CreatedAt.IsZero() {
		t.Errorf("Create = %+v", got)
	}
	_, err := m.Create(ctx, "acme", PlanFree)
	wantCode(t, err, codes.AlreadyExists)
	_, err = m.Create(ctx, "Bad Name", PlanFree)
	wantCode(t, err, codes.InvalidArgument)
	_, err = m.Create(ctx, "ok", "gold")
	s := wantCode(t, err, codes.InvalidArgument)
	if !strings.Contains(s.Message(), `"gold"`) || !strings.Contains(s.Message(), `"enterprise"`) {
		t.Errorf("message %q does not name the value and the valid plans", s.Message())
	}
	mustCreate(t, m, "aardvark", PlanFree)
	var names []string
	for _, ten := range m.List() {
		names = append(names, ten.Name)
	}
	if !slices.Equal(names, []string{"aardvark", "acme"}) {
		t.Errorf("List names = %v, want sorted", names)
	}
	_, err = m.Get("ghost")
	wantCode(t, err, codes.NotFound)
}

func TestChangePlanKeepsOverridesAndReportsExceeded(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanProfessional)
	thirty := LimitOf(30)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{RequestsPerMinute: &thirty}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Grant(ctx, "acme", PermissionUseMLFeatures); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if _, err := m.AddScenario(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, _, err := m.CreateToken(ctx, "acme", ""); err != nil {
			t.Fatal(err)
		}
	}
	running, err := m.Admit(ctx, "acme", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer running()
	second, err := m.Admit(ctx, "acme", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer second()

	got, exceeded, err := m.ChangePlan(ctx, "acme", PlanFree)
	if err != nil {
		t.Fatalf("ChangePlan: %v", err)
	}
	if got.Plan != PlanFree || got.Quotas().RequestsPerMinute != thirty || !got.HasPermission(PermissionUseMLFeatures) {
		t.Errorf("after downgrade: plan %s, rate %s, ml %v; want free, the override 30 and the grant kept",
			got.Plan, got.Quotas().RequestsPerMinute, got.HasPermission(PermissionUseMLFeatures))
	}
	want := []Exceeded{
		{Quota: QuotaScenarios, Usage: 7, Limit: LimitOf(5)},
		{Quota: QuotaConcurrentExecutions, Usage: 2, Limit: LimitOf(1)},
		{Quota: QuotaUsers, Usage: 3, Limit: LimitOf(1)},
	}
	if !slices.Equal(exceeded, want) {
		t.Errorf("exceeded = %+v, want %+v", exceeded, want)
	}
	// Usage above the quota blocks new work and deletes nothing.
	_, err = m.AddScenario(ctx, "acme")
	wantCode(t, err, codes.ResourceExhausted)
	_, _, err = m.CreateToken(ctx, "acme", "")
	wantCode(t, err, codes.ResourceExhausted)
	if tokens, _ := m.ListTokens("acme"); len(tokens) != 3 {
		t.Errorf("tokens after downgrade = %d, want 3", len(tokens))
	}
	if u, _ := m.Usage("acme"); u.Scenarios != 7 {
		t.Errorf("scenarios after downgrade = %d, want 7", u.Scenarios)
	}

	got, exceeded, err = m.ChangePlan(ctx, "acme", PlanEnterprise)
	if err != nil || got.Plan != PlanEnterprise || len(exceeded) != 0 {
		t.Errorf("upgrade = %s, %+v, %v; want enterprise and nothing exceeded", got.Plan, exceeded, err)
	}
	_, _, err = m.ChangePlan(ctx, "acme", "platinum")
	wantCode(t, err, codes.InvalidArgument)
	_, _, err = m.ChangePlan(ctx, "ghost", PlanFree)
	wantCode(t, err, codes.NotFound)
}

func TestSetQuotas(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	unlimited, ten := Unlimited(), LimitOf(10)
	hour := DurationLimitOf(time.Hour)
	got, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{Scenarios: &unlimited, ConcurrentExecutions: &ten, MaxDuration: &hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := got.Quotas()
	if !q.Scenarios.IsUnlimited() || q.ConcurrentExecutions != ten || q.MaxDuration != hour || q.Users != LimitOf(1) {
		t.Errorf("quotas = %+v", q)
	}
	if names := got.Overrides.Names(); !slices.Equal(names, []QuotaName{QuotaScenarios, QuotaConcurrentExecutions, QuotaMaxDuration}) {
		t.Errorf("overridden = %v", names)
	}

	got, _, err = m.SetQuotas(ctx, "acme", QuotaOverrides{}, []QuotaName{QuotaScenarios, QuotaMaxDuration})
	if err != nil {
		t.Fatal(err)
	}
	if q := got.Quotas(); q.Scenarios != LimitOf(5) || q.MaxDuration != DurationLimitOf(10*time.Minute) || q.ConcurrentExecutions != ten {
		t.Errorf("after reset, quotas = %+v; want the plan's scenarios and duration, the override 10 kept", q)
	}

	_, _, err = m.SetQuotas(ctx, "acme", QuotaOverrides{Users: &ten}, []QuotaName{QuotaUsers})
	wantCode(t, err, codes.InvalidArgument)
	_, _, err = m.SetQuotas(ctx, "acme", QuotaOverrides{}, []QuotaName{"bananas"})
	wantCode(t, err, codes.InvalidArgument)

	// The record returned must not share memory with the stored one.
	*got.Overrides.ConcurrentExecutions = unlimited
	if again, _ := m.Get("acme"); again.Quotas().ConcurrentExecutions != ten {
		t.Error("changing a returned record changed the stored one")
	}
}

func TestGrantAndRevoke(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "small", PlanStarter)
	mustCreate(t, m, "big", PlanEnterprise)

	_, err := m.Grant(ctx, "small", "deploy_to_prod")
	s := wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(s.Message(), "enterprise") {
		t.Errorf("message %q does not say custom permissions need enterprise", s.Message())
	}
	_, err = m.Grant(ctx, "small", "Bad-Name")
	wantCode(t, err, codes.InvalidArgument)

	got, err := m.Grant(ctx, "big", "deploy_to_prod")
	if err != nil || !got.HasPermission("deploy_to_prod") {
		t.Fatalf("Grant custom on enterprise = %v, %v", got.Granted, err)
	}
	got, _, err = m.ChangePlan(ctx, "big", PlanFree)
	if err != nil || !slices.Contains(got.Permissions(), "deploy_to_prod") {
		t.Errorf("after downgrade, permissions = %v, %v; want the custom grant kept", got.Permissions(), err)
	}

	if _, err := m.Grant(ctx, "small", PermissionIntegrateExternal); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Grant(ctx, "small", PermissionIntegrateExternal); len(got.Granted) != 1 {
		t.Errorf("granting twice gives %v", got.Granted)
	}
	_, err = m.Revoke(ctx, "small", PermissionViewObservability)
	s = wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(s.Message(), "comes with plan starter") {
		t.Errorf("message %q does not say the permission comes with the plan", s.Message())
	}
	_, err = m.Revoke(ctx, "small", PermissionUseMLFeatures)
	wantCode(t, err, codes.FailedPrecondition)
	got, err = m.Revoke(ctx, "small", PermissionIntegrateExternal)
	if err != nil || got.HasPermission(PermissionIntegrateExternal) {
		t.Errorf("Revoke = %v, %v", got.Permissions(), err)
	}
}

func TestScenarioCounts(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	for i := range 5 {
		n, err := m.AddScenario(ctx, "acme")
		if err != nil || n != int64(i+1) {
			t.Fatalf("AddScenario %d = %d, %v", i+1, n, err)
		}
	}
	_, err := m.AddScenario(ctx, "acme")
	s := wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(s.Message(), "5 of 5 scenarios") {
		t.Errorf("message %q does not give usage and limit", s.Message())
	}
	for i := 4; i >= 0; i-- {
		if n, err := m.RemoveScenario(ctx, "acme"); err != nil || n != int64(i) {
			t.Fatalf("RemoveScenario = %d, %v; want %d", n, err, i)
		}
	}
	_, err = m.RemoveScenario(ctx, "acme")
	wantCode(t, err, codes.FailedPrecondition)
	if u, _ := m.Usage("acme"); u.Scenarios != 0 {
		t.Errorf("scenarios = %d, want 0", u.Scenarios)
	}
}

func TestEnsureDefault(t *testing.T) {
	ctx := context.Background()
	var logs strings.Builder
	m, err := Open(t.TempDir()+"/"+StoreFileName, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })

	created, err := m.EnsureDefault(ctx)
	if err != nil || !created {
		t.Fatalf("EnsureDefault on an empty store = %v, %v", created, err)
	}
	got, err := m.Get(DefaultTenant)
	if err != nil || got.Plan != PlanEnterprise {
		t.Errorf("default tenant = %+v, %v", got, err)
	}
	if !strings.Contains(logs.String(), "created the default tenant") {
		t.Errorf("log does not mention the default tenant:\n%s", logs.String())
	}
	if created, err := m.EnsureDefault(ctx); err != nil || created {
		t.Errorf("second EnsureDefault = %v, %v; want false", created, err)
	}

	other := openTestManager(t, nil)
	mustCreate(t, other, "acme", PlanFree)
	if created, err := other.EnsureDefault(ctx); err != nil || created {
		t.Errorf("EnsureDefault with a tenant = %v, %v; want false", created, err)
	}
	if _, err := other.Get(DefaultTenant); err == nil {
		t.Error("EnsureDefault created the default tenant beside an existing one")
	}
}
