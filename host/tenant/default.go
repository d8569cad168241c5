package tenant

import (
	"context"

	"go.etcd.io/bbolt"

	"github.com/mockforge/mockforged/host/clock"
)

// EnsureDefault creates the tenant DefaultTenant on the enterprise plan when
// the store has no tenants at all, so that a daemon started without any
// tenant configuration serves its administrator at once. It reports whether
// it created the tenant, and logs when it does.
func (m *Manager) EnsureDefault(ctx context.Context) (created bool, err error) {
	now := clock.Now().UTC()
	t := Tenant{Name: DefaultTenant, Plan: PlanEnterprise, CreatedAt: now, UpdatedAt: now}
	err = m.write(ctx, func(tx *bbolt.Tx) (func(), error) {
		m.mu.RLock()
		empty := len(m.tenants) == 0
		m.mu.RUnlock()
		if !empty {
			return nil, errNoChange
		}
		if err := putTenant(tx, t); err != nil {
			return nil, err
		}
		created = true
		return func() { m.addState(t) }, nil
	})
	if err != nil {
		return false, err
	}
	if created {
		m.log.Info("no tenants configured: created the default tenant on the enterprise plan for the administrator",
			"tenant", DefaultTenant, "plan", PlanEnterprise)
	}
	return created, nil
}
