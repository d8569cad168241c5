package scenariorun

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/tenant"
)

// TenantGate is the Gate of a tenant manager.
type TenantGate struct {
	*tenant.Manager
}

var _ Gate = TenantGate{}

// Admit checks and counts one execution with tenant.Manager.Admit.
func (g TenantGate) Admit(ctx context.Context, tenantID string, capabilities []string, timeout time.Duration) (func(), error) {
	return g.Manager.Admit(ctx, tenantID, capabilities, timeout)
}

// MaxDuration returns the tenant's max duration; limited is false when it
// is unlimited.
func (g TenantGate) MaxDuration(tenantID string) (time.Duration, bool, error) {
	limit, err := g.Manager.MaxDuration(tenantID)
	if err != nil {
		return 0, false, err
	}
	return limit.Max(), !limit.IsUnlimited(), nil
}

// CheckCall checks that the tenant exists, is enabled and has the
// permission each capability needs.
func (g TenantGate) CheckCall(tenantID string, capabilities []string) error {
	t, err := g.Manager.Get(tenantID)
	if err != nil {
		return err
	}
	if t.Disabled {
		return status.Errorf(codes.FailedPrecondition,
			"tenant %q is disabled; an administrator can enable it with `mockforged tenants enable %s`", tenantID, tenantID)
	}
	for _, c := range capabilities {
		perm, ok := tenant.PermissionForCapability(c)
		if ok && !t.HasPermission(perm) {
			return status.Errorf(codes.PermissionDenied,
				"tenant %q on plan %s lacks permission %s, which plugins with capability %q need; grant it with `mockforged tenants grant %s %s`",
				tenantID, t.Plan, perm, c, tenantID, perm)
		}
	}
	return nil
}
