package tenant

import (
	"context"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/clock"
)

// Create stores a new enabled tenant on plan, with no overrides and no
// tokens. It fails with AlreadyExists when the name is taken.
func (m *Manager) Create(ctx context.Context, name string, plan Plan) (Tenant, error) {
	if _, err := ParseName(name); err != nil {
		return Tenant{}, errInvalid(err)
	}
	if _, err := ParsePlan(string(plan)); err != nil {
		return Tenant{}, errInvalid(err)
	}
	now := clock.Now().UTC()
	t := Tenant{Name: name, Plan: plan, CreatedAt: now, UpdatedAt: now}
	err := m.write(ctx, func(tx *bbolt.Tx) (func(), error) {
		if _, err := m.state(name); err == nil {
			return nil, status.Errorf(codes.AlreadyExists,
				"tenant %q already exists; change its plan with `mockforged tenants upgrade %s --plan %s`", name, name, plan)
		}
		if err := putTenant(tx, t); err != nil {
			return nil, err
		}
		return func() { m.addState(t) }, nil
	})
	if err != nil {
		return Tenant{}, err
	}
	m.log.Info("tenant created", "tenant", name, "plan", plan)
	return t.clone(), nil
}

// addState adds a new tenant to memory.
func (m *Manager) addState(t Tenant) {
	st := &tenantState{}
	st.record.Store(&t)
	m.mu.Lock()
	m.tenants[t.Name] = st
	m.mu.Unlock()
}

// ChangePlan moves the tenant to plan. Quota overrides and granted
// permissions stay. The returned Exceeded list names the quotas whose
// current usage is above the new limits: such usage blocks new work, and
// nothing is deleted.
func (m *Manager) ChangePlan(ctx context.Context, name string, plan Plan) (Tenant, []Exceeded, error) {
	if _, err := ParsePlan(string(plan)); err != nil {
		return Tenant{}, nil, errInvalid(err)
	}
	var previous Plan
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		previous = t.Plan
		if t.Plan == plan {
			return errNoChange
		}
		t.Plan = plan
		t.UpdatedAt = clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Tenant{}, nil, err
	}
	exceeded := m.exceeded(name)
	m.log.Info("tenant plan changed", "tenant", name, "from", previous, "to", plan, "exceeded_quotas", len(exceeded))
	return t, exceeded, nil
}

// SetQuotas overrides the quotas set in set and removes the overrides named
// in reset, so that the plan's values apply to them again. A quota may not
// be both set and reset. The returned Exceeded list is as for ChangePlan.
func (m *Manager) SetQuotas(ctx context.Context, name string, set QuotaOverrides, reset []QuotaName) (Tenant, []Exceeded, error) {
	for _, q := range reset {
		if _, err := ParseQuotaName(string(q)); err != nil {
			return Tenant{}, nil, errInvalid(err)
		}
		if slices.Contains(set.Names(), q) {
			return Tenant{}, nil, errInvalid(fmt.Errorf("quota %s is both set and reset; do one or the other", q))
		}
	}
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		overrides := t.Overrides.merge(set).without(reset)
		if overrides.equal(t.Overrides) {
			return errNoChange
		}
		t.Overrides = overrides
		t.UpdatedAt = clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Tenant{}, nil, err
	}
	exceeded := m.exceeded(name)
	m.log.Info("tenant quotas changed", "tenant", name, "set", set.Names(), "reset", reset,
		"exceeded_quotas", len(exceeded))
	return t, exceeded, nil
}

// Grant gives the tenant perm beyond its plan. A standard permission can be
// granted on any plan. A custom permission can be granted only on a plan
// that allows custom permissions (enterprise). Like every override, it stays
// granted when the tenant later moves to a smaller plan. Granting a
// permission twice changes nothing.
func (m *Manager) Grant(ctx context.Context, name string, perm Permission) (Tenant, error) {
	if _, err := ParsePermission(string(perm)); err != nil {
		return Tenant{}, errInvalid(err)
	}
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		if !perm.IsStandard() && !t.Plan.AllowsCustomPermissions() {
			return status.Errorf(codes.FailedPrecondition,
				"%s is a custom permission, and only enterprise tenants can be granted custom permissions; tenant %q is on plan %s: upgrade it with `mockforged tenants upgrade %s --plan enterprise`, or grant one of the standard permissions %s",
				perm, t.Name, t.Plan, t.Name, joinQuoted(standardPermissions))
		}
		if slices.Contains(t.Granted, perm) {
			return errNoChange
		}
		t.Granted = append(t.Granted, perm)
		slices.Sort(t.Granted)
		t.UpdatedAt = clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Tenant{}, err
	}
	m.log.Info("permission granted", "tenant", name, "permission", perm)
	return t, nil
}

// Revoke removes a permission that Grant gave. A permission that comes with
// the plan cannot be revoked; change the plan instead.
func (m *Manager) Revoke(ctx context.Context, name string, perm Permission) (Tenant, error) {
	if _, err := ParsePermission(string(perm)); err != nil {
		return Tenant{}, errInvalid(err)
	}
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		i := slices.Index(t.Granted, perm)
		switch {
		case i >= 0:
			t.Granted = slices.Delete(t.Granted, i, i+1)
			t.UpdatedAt = clock.Now().UTC()
			return nil
		case t.Plan.grants(perm):
			return status.Errorf(codes.FailedPrecondition,
				"permission %s of tenant %q comes with plan %s and cannot be revoked alone; move the tenant to a plan without it with `mockforged tenants upgrade %s --plan P`",
				perm, t.Name, t.Plan, t.Name)
		default:
			return status.Errorf(codes.FailedPrecondition,
				"tenant %q has no granted permission %s; its granted permissions are [%s]", t.Name, perm, joinQuoted(t.Granted))
		}
	})
	if err != nil {
		return Tenant{}, err
	}
	m.log.Info("permission revoked", "tenant", name, "permission", perm)
	return t, nil
}

// SetDisabled disables or enables the tenant. Usage, tokens and storage are
// kept either way, so enabling restores the tenant as it was.
func (m *Manager) SetDisabled(ctx context.Context, name string, disabled bool) (Tenant, error) {
	t, err := m.update(ctx, name, func(_ *bbolt.Tx, t *Tenant) error {
		if t.Disabled == disabled {
			return errNoChange
		}
		t.Disabled = disabled
		t.UpdatedAt = clock.Now().UTC()
		return nil
	})
	if err != nil {
		return Tenant{}, err
	}
	if disabled {
		m.log.Info("tenant disabled", "tenant", name)
	} else {
		m.log.Info("tenant enabled", "tenant", name)
	}
	return t, nil
}
