package tenant

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

const sampleFile = `
tenants:
  - name: acme
    plan: professional
    quotas:
      concurrent_executions: 40
      storage_bytes: unlimited
      max_duration: 8h
    permissions: [manage_users]
  - name: trial
    plan: free
    disabled: true
  - name: bigco
    plan: enterprise
    permissions: [deploy_to_prod]
`

func TestParseFile(t *testing.T) {
	f, err := ParseFile([]byte(sampleFile), "tenants.yaml")
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if len(f.Tenants) != 3 {
		t.Fatalf("parsed %d tenants, want 3", len(f.Tenants))
	}
	acme := f.Tenants[0]
	if acme.Name != "acme" || acme.Plan != PlanProfessional {
		t.Errorf("first tenant = %+v", acme)
	}
	if acme.Quotas.ConcurrentExecutions == nil || *acme.Quotas.ConcurrentExecutions != LimitOf(40) {
		t.Errorf("concurrent_executions = %v, want 40", acme.Quotas.ConcurrentExecutions)
	}
	if acme.Quotas.StorageBytes == nil || !acme.Quotas.StorageBytes.IsUnlimited() {
		t.Errorf("storage_bytes = %v, want unlimited", acme.Quotas.StorageBytes)
	}
	if acme.Quotas.MaxDuration == nil || *acme.Quotas.MaxDuration != DurationLimitOf(8*time.Hour) {
		t.Errorf("max_duration = %v, want 8h", acme.Quotas.MaxDuration)
	}
	if acme.Quotas.Scenarios != nil {
		t.Errorf("scenarios = %v, want no override", acme.Quotas.Scenarios)
	}
	if !f.Tenants[1].Disabled {
		t.Error("trial is not disabled")
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"empty", "", []string{"it is empty"}},
		{"unknown top-level field", "tenants: []\nversion: 2\n", []string{"at /:", "version"}},
		{"unknown tenant field", "tenants:\n  - name: a\n    plan: free\n    colour: red\n", []string{"at /tenants/0", "colour"}},
		{"unknown quota", "tenants:\n  - name: a\n    plan: free\n    quotas: {cpus: 4}\n", []string{"at /tenants/0/quotas", "cpus"}},
		{"invalid plan", "tenants:\n  - name: a\n    plan: gold\n", []string{"at /tenants/0/plan", "gold"}},
		{"missing plan", "tenants:\n  - name: a\n", []string{"at /tenants/0", "plan"}},
		{"invalid name", "tenants:\n  - name: Not OK\n    plan: free\n", []string{"at /tenants/0/name"}},
		{"negative limit", "tenants:\n  - name: a\n    plan: free\n    quotas: {users: -1}\n", []string{"at /tenants/0/quotas/users"}},
		{"magic number instead of unlimited", "tenants:\n  - name: a\n    plan: free\n    quotas: {users: infinite}\n", []string{"at /tenants/0/quotas/users"}},
		{"invalid duration", "tenants:\n  - name: a\n    plan: free\n    quotas: {max_duration: forever}\n", []string{"at /tenants/0/quotas/max_duration"}},
		{"duplicate tenant", "tenants:\n  - {name: a, plan: free}\n  - {name: a, plan: starter}\n", []string{"at /tenants/1/name", `"a" is listed twice`}},
		{"custom permission below enterprise", "tenants:\n  - {name: a, plan: starter, permissions: [deploy]}\n", []string{"at /tenants/0/permissions/0", "only enterprise"}},
		{"yaml syntax", "tenants:\n  - name: [\n", []string{"tenants.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tt.file), "tenants.yaml")
			if err == nil {
				t.Fatal("ParseFile succeeded, want an error")
			}
			for _, want := range append(tt.want, "tenants.yaml") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestApplyFile(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	fifty := LimitOf(50)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{Users: &fifty}, nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := m.AddScenario(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	token, _, err := m.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, m, "untouched", PlanStarter)

	f, err := ParseFile([]byte(sampleFile), "tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	results, err := m.ApplyFile(ctx, f)
	if err != nil {
		t.Fatalf("ApplyFile: %v", err)
	}
	want := []ApplyResult{
		{Tenant: "acme", Action: ApplyUpdated},
		{Tenant: "trial", Action: ApplyCreated},
		{Tenant: "bigco", Action: ApplyCreated},
	}
	if !slices.EqualFunc(results, want, func(a, b ApplyResult) bool { return a.Tenant == b.Tenant && a.Action == b.Action }) {
		t.Errorf("results = %+v, want %+v", results, want)
	}

	acme, _ := m.Get("acme")
	if acme.Plan != PlanProfessional || acme.Overrides.Users != nil || acme.Quotas().ConcurrentExecutions != LimitOf(40) {
		t.Errorf("acme = %+v; want professional, the file's overrides only", acme)
	}
	if !slices.Equal(acme.Granted, []Permission{PermissionManageUsers}) {
		t.Errorf("acme granted = %v", acme.Granted)
	}
	if acme.Scenarios != 3 {
		t.Errorf("acme scenarios = %d, want the usage kept", acme.Scenarios)
	}
	if tenant, _, err := m.VerifyToken(token); err != nil || tenant != "acme" {
		t.Errorf("token after ApplyFile = %q, %v", tenant, err)
	}
	if trial, _ := m.Get("trial"); !trial.Disabled || trial.Plan != PlanFree {
		t.Errorf("trial = %+v", trial)
	}
	if bigco, _ := m.Get("bigco"); !bigco.HasPermission("deploy_to_prod") {
		t.Errorf("bigco permissions = %v", bigco.Permissions())
	}
	if u, _ := m.Get("untouched"); u.Plan != PlanStarter {
		t.Errorf("a tenant missing from the file changed: %+v", u)
	}

	results, err = m.ApplyFile(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Action != ApplyUnchanged {
			t.Errorf("second apply: %s %s, want unchanged", r.Tenant, r.Action)
		}
	}
}

func TestApplyFileReportsExceeded(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanStarter)
	for range 10 {
		if _, err := m.AddScenario(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	f, err := ParseFile([]byte("tenants:\n  - {name: acme, plan: free}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	results, err := m.ApplyFile(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Exceeded{{Quota: QuotaScenarios, Usage: 10, Limit: LimitOf(5)}}
	if len(results) != 1 || !slices.Equal(results[0].Exceeded, want) {
		t.Errorf("results = %+v, want exceeded %+v", results, want)
	}
}

func TestApplyFileAllOrNothing(t *testing.T) {
	m := openTestManager(t, nil)
	f := &File{Tenants: []FileTenant{
		{Name: "good", Plan: PlanFree},
		{Name: "bad", Plan: "gold"},
	}}
	_, err := m.ApplyFile(context.Background(), f)
	wantCode(t, err, codes.InvalidArgument)
	if _, err := m.Get("good"); err == nil {
		t.Error("the valid tenant was created although the file was rejected")
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenants.json")
	if err := os.WriteFile(path, []byte(`{"tenants":[{"name":"j","plan":"starter","quotas":{"scenarios":"unlimited"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile of JSON: %v", err)
	}
	if len(f.Tenants) != 1 || !f.Tenants[0].Quotas.Scenarios.IsUnlimited() {
		t.Errorf("LoadFile = %+v", f)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}
