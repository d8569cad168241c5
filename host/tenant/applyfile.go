package tenant

import (
	"context"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/mockforge/mockforged/host/clock"
)

// ApplyAction names the change ApplyFile made to one tenant.
type ApplyAction string

// The actions ApplyFile reports.
const (
	ApplyCreated   ApplyAction = "created"
	ApplyUpdated   ApplyAction = "updated"
	ApplyUnchanged ApplyAction = "unchanged"
)

// ApplyResult reports what ApplyFile did to one tenant of the file.
type ApplyResult struct {
	Tenant string      `json:"tenant"`
	Action ApplyAction `json:"action"`
	// Exceeded lists the quotas the tenant's usage is above after the change.
	Exceeded []Exceeded `json:"exceeded,omitempty"`
}

// ApplyFile creates the file's tenants that do not exist and sets the plan,
// quota overrides, granted permissions and disabled flag of those that do to
// what the file contains. Tenants missing from the file, tokens and usage are
// left alone. All changes are made in one transaction: when any fails, none
// is made. f must come from ParseFile or LoadFile.
func (m *Manager) ApplyFile(ctx context.Context, f *File) ([]ApplyResult, error) {
	if err := f.validate(); err != nil {
		return nil, errInvalid(err)
	}
	results := make([]ApplyResult, len(f.Tenants))
	err := m.write(ctx, func(tx *bbolt.Tx) (func(), error) {
		var applies []func()
		for i, ft := range f.Tenants {
			rec, action, apply, err := m.applyFileTenant(tx, ft)
			if err != nil {
				return nil, err
			}
			results[i] = ApplyResult{Tenant: rec.Name, Action: action}
			if apply != nil {
				applies = append(applies, apply)
			}
		}
		return func() {
			for _, apply := range applies {
				apply()
			}
		}, nil
	})
	if err != nil {
		return nil, err
	}
	for i := range results {
		results[i].Exceeded = m.exceeded(results[i].Tenant)
		if results[i].Action != ApplyUnchanged {
			m.log.Info("tenant applied from tenants file", "tenant", results[i].Tenant,
				"action", results[i].Action, "exceeded_quotas", len(results[i].Exceeded))
		}
	}
	return results, nil
}

// applyFileTenant writes one tenant of a tenants file in tx and returns the
// function that installs it in memory after the commit.
func (m *Manager) applyFileTenant(tx *bbolt.Tx, ft FileTenant) (Tenant, ApplyAction, func(), error) {
	if _, err := ParseName(ft.Name); err != nil {
		return Tenant{}, "", nil, errInvalid(err)
	}
	if _, err := ParsePlan(string(ft.Plan)); err != nil {
		return Tenant{}, "", nil, errInvalid(err)
	}
	granted := slices.Clone(ft.Permissions)
	slices.Sort(granted)
	granted = slices.Compact(granted)
	now := clock.Now().UTC()

	st, err := m.state(ft.Name)
	if err != nil {
		t := Tenant{Name: ft.Name, Plan: ft.Plan, Overrides: ft.Quotas, Granted: granted,
			Disabled: ft.Disabled, CreatedAt: now, UpdatedAt: now}
		if err := putTenant(tx, t); err != nil {
			return Tenant{}, "", nil, err
		}
		return t, ApplyCreated, func() { m.addState(t) }, nil
	}

	rec := st.record.Load().clone()
	if rec.Plan == ft.Plan && rec.Overrides.equal(ft.Quotas) && slices.Equal(rec.Granted, granted) && rec.Disabled == ft.Disabled {
		return rec, ApplyUnchanged, nil, nil
	}
	rec.Plan, rec.Overrides, rec.Granted, rec.Disabled = ft.Plan, ft.Quotas, granted, ft.Disabled
	rec.UpdatedAt = now
	if err := putTenant(tx, rec); err != nil {
		return Tenant{}, "", nil, err
	}
	return rec, ApplyUpdated, func() { st.record.Store(&rec) }, nil
}
