package tenant

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// AddScenario counts one more stored scenario for the tenant, if its
// scenarios quota allows, and returns the new count. Call it in the same
// step as storing the scenario, and call RemoveScenario when storing fails.
func (m *Manager) AddScenario(ctx context.Context, name string) (int64, error) {
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		if t.Disabled {
			return errTenantDisabled(t.Name)
		}
		limit := t.Quotas().Scenarios
		if !limit.Allows(t.Scenarios + 1) {
			return errQuotaExceeded(*t, QuotaScenarios,
				fmt.Sprintf("stores %d of %s scenarios allowed", t.Scenarios, limit),
				fmt.Sprintf("delete a scenario, or raise the limit with `mockforged tenants set-quota %s --max-scenarios N`", t.Name))
		}
		t.Scenarios++
		return nil
	})
	return t.Scenarios, err
}

// RemoveScenario counts one stored scenario less and returns the new count.
// It works for disabled tenants too, so that an administrator can clean up.
// It fails with FailedPrecondition when the count is already zero, so the
// count never goes below zero.
func (m *Manager) RemoveScenario(ctx context.Context, name string) (int64, error) {
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		if t.Scenarios == 0 {
			return status.Errorf(codes.FailedPrecondition,
				"tenant %q has no stored scenarios to remove; its count is already 0", t.Name)
		}
		t.Scenarios--
		return nil
	})
	return t.Scenarios, err
}
