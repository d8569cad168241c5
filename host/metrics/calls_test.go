package metrics

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func TestObserveCallOutcomes(t *testing.T) {
	m := New("test")
	ok := &apiv1.ExecuteResponse{Success: true}
	failed := &apiv1.ExecuteResponse{Success: false}
	m.ObserveCall("dbfault", "acme", nil, ok, nil, 20*time.Millisecond)
	m.ObserveCall("dbfault", "acme", nil, ok, nil, 30*time.Millisecond)
	m.ObserveCall("dbfault", "acme", nil, failed, nil, time.Millisecond)
	m.ObserveCall("dbfault", "acme", nil, nil, status.Error(codes.DeadlineExceeded, "late"), time.Second)
	m.ObserveCall("", "", nil, nil, status.Error(codes.NotFound, "no plugin nope"), time.Millisecond)
	m.ObserveCall("dbfault", "", nil, nil, status.Error(codes.ResourceExhausted, "rate limit"), time.Millisecond)

	calls := "mockforged_plugin_calls_total"
	wantSample(t, m, calls, labels("plugin", "dbfault", "tenant", "acme", "outcome", "success"), 2)
	wantSample(t, m, calls, labels("plugin", "dbfault", "tenant", "acme", "outcome", "failure"), 1)
	wantSample(t, m, calls, labels("plugin", "dbfault", "tenant", "acme", "outcome", "deadline_exceeded"), 1)
	wantSample(t, m, calls, labels("plugin", "_unknown", "tenant", "_unknown", "outcome", "not_found"), 1)
	wantSample(t, m, calls, labels("plugin", "dbfault", "tenant", "_unknown", "outcome", "resource_exhausted"), 1)
	// Only the four admitted calls are timed.
	wantSample(t, m, "mockforged_plugin_call_duration_seconds", labels("plugin", "dbfault"), 4)
}

func TestCodeName(t *testing.T) {
	tests := map[codes.Code]string{
		codes.OK:                 "ok",
		codes.NotFound:           "not_found",
		codes.DeadlineExceeded:   "deadline_exceeded",
		codes.ResourceExhausted:  "resource_exhausted",
		codes.FailedPrecondition: "failed_precondition",
		codes.Unauthenticated:    "unauthenticated",
		codes.Code(99):           "code(99)",
	}
	for code, want := range tests {
		if got := codeName(code); got != want {
			t.Errorf("codeName(%d) = %q, want %q", code, got, want)
		}
	}
}

// openTenants returns a real tenant store in a temporary directory with
// tenant acme on the free plan.
func openTenants(t *testing.T) *tenant.Manager {
	t.Helper()
	m, err := tenant.Open(filepath.Join(t.TempDir(), tenant.StoreFileName), tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if _, err := m.Create(context.Background(), "acme", tenant.PlanFree); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRejectionReasonsFromTenantGate(t *testing.T) {
	ctx := context.Background()
	tenants := openTenants(t)
	one, zero := tenant.LimitOf(1), tenant.LimitOf(0)
	second := tenant.DurationLimitOf(time.Second)

	tests := []struct {
		name   string
		setup  func(t *testing.T)
		tenant string
		caps   []string
		want   string // "" when the error is not counted
	}{
		{
			name:  "rate limit",
			setup: func(t *testing.T) { setQuotas(t, tenants, tenant.QuotaOverrides{RequestsPerMinute: &one}) },
			want:  "rate_limited",
		},
		{
			name:  "zero requests per minute",
			setup: func(t *testing.T) { setQuotas(t, tenants, tenant.QuotaOverrides{RequestsPerMinute: &zero}) },
			want:  "quota_requests_per_minute",
		},
		{
			name:  "max duration",
			setup: func(t *testing.T) { setQuotas(t, tenants, tenant.QuotaOverrides{MaxDuration: &second}) },
			want:  "quota_max_duration",
		},
		{
			name:  "concurrent executions",
			setup: func(t *testing.T) { setQuotas(t, tenants, tenant.QuotaOverrides{ConcurrentExecutions: &one}) },
			want:  "quota_concurrent_executions",
		},
		{name: "permission", caps: []string{"anomaly_detection"}, want: "permission_denied"},
		{
			name: "disabled",
			setup: func(t *testing.T) {
				if _, err := tenants.SetDisabled(ctx, "acme", true); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _, _ = tenants.SetDisabled(ctx, "acme", false) })
			},
			want: "tenant_disabled",
		},
		{name: "unknown tenant", tenant: "nobody", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			id := tt.tenant
			if id == "" {
				id = "acme"
			}
			err := admitUntilRejected(t, tenants, id, tt.caps)
			if got := rejectionReason(err); got != tt.want && !(tt.want == "" && got == "") {
				t.Errorf("reason of %v: %q, want %q", err, got, tt.want)
			}
			m := New("test")
			m.ObserveRejection(id, err)
			if tt.want == "" {
				wantNoSample(t, m, "mockforged_tenant_rejections_total", labels("tenant", id, "reason", rejectionReason(err)))
				return
			}
			wantSample(t, m, "mockforged_tenant_rejections_total", labels("tenant", id, "reason", tt.want), 1)
		})
	}
}

// setQuotas sets quota overrides on acme until the test ends.
func setQuotas(t *testing.T, tenants *tenant.Manager, set tenant.QuotaOverrides) {
	t.Helper()
	if _, _, err := tenants.SetQuotas(context.Background(), "acme", set, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _, _ = tenants.SetQuotas(context.Background(), "acme", tenant.QuotaOverrides{}, tenant.QuotaNames())
	})
}

// admitUntilRejected admits calls with a 10 s timeout, holding each, until
// one is rejected, and returns that error. Three calls are enough for every
// limit the test sets.
func admitUntilRejected(t *testing.T, tenants *tenant.Manager, id string, caps []string) error {
	t.Helper()
	for range 3 {
		release, err := tenants.Admit(context.Background(), id, caps, 10*time.Second)
		if err != nil {
			return err
		}
		t.Cleanup(release)
	}
	t.Fatalf("three calls of tenant %s were admitted; want a rejection", id)
	return fmt.Errorf("not rejected")
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveCall("p", "t", nil, nil, nil, time.Second)
	m.ObserveRejection("t", status.Error(codes.PermissionDenied, "no"))
	m.PluginRestarted("p", "crash")
	m.LaunchFailed(fmt.Errorf("boom"))
	m.HookFailed("audit", "after_execute")
	m.WatchPlugins(nil)
	if e := m.ObserveExecutor(nil); e != nil {
		t.Errorf("ObserveExecutor on nil metrics returned %v, want its argument", e)
	}
}
