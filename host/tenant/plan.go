package tenant

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Plan names a set of quotas and permissions that a tenant subscribes to.
type Plan string

// The plans, from the smallest to the largest.
const (
	PlanFree         Plan = "free"
	PlanStarter      Plan = "starter"
	PlanProfessional Plan = "professional"
	PlanEnterprise   Plan = "enterprise"
)

// Quotas are the limits that apply to one tenant.
type Quotas struct {
	// Scenarios is the number of scenarios the tenant may store.
	Scenarios Limit `json:"scenarios"`
	// ConcurrentExecutions is the number of calls that may run at once.
	ConcurrentExecutions Limit `json:"concurrent_executions"`
	// RequestsPerMinute is the number of calls admitted in any 60-second
	// window.
	RequestsPerMinute Limit `json:"requests_per_minute"`
	// StorageBytes is the number of bytes the tenant's plugin storage may
	// take, counted as the length of every key plus the length of its value.
	StorageBytes Limit `json:"storage_bytes"`
	// MaxDuration is the longest timeout a call may have.
	MaxDuration DurationLimit `json:"max_duration"`
	// Users is the number of tokens the tenant may hold.
	Users Limit `json:"users"`
}

// QuotaName names one field of Quotas. The names are the JSON field names.
type QuotaName string

// The quota names.
const (
	QuotaScenarios            QuotaName = "scenarios"
	QuotaConcurrentExecutions QuotaName = "concurrent_executions"
	QuotaRequestsPerMinute    QuotaName = "requests_per_minute"
	QuotaStorageBytes         QuotaName = "storage_bytes"
	QuotaMaxDuration          QuotaName = "max_duration"
	QuotaUsers                QuotaName = "users"
)

// QuotaNames returns every quota name, in the order of the Quotas fields.
func QuotaNames() []QuotaName {
	return []QuotaName{
		QuotaScenarios, QuotaConcurrentExecutions, QuotaRequestsPerMinute,
		QuotaStorageBytes, QuotaMaxDuration, QuotaUsers,
	}
}

// ParseQuotaName checks that s names a quota.
func ParseQuotaName(s string) (QuotaName, error) {
	for _, q := range QuotaNames() {
		if string(q) == s {
			return q, nil
		}
	}
	return "", fmt.Errorf("unknown quota %q: use one of %s", s, joinQuoted(QuotaNames()))
}

// PlanSpec is the content of one plan.
type PlanSpec struct {
	// Name is the plan's name.
	Name Plan `json:"name"`
	// Quotas are the plan's limits.
	Quotas Quotas `json:"quotas"`
	// Permissions are the standard permissions the plan grants.
	Permissions []Permission `json:"permissions"`
	// CustomPermissions reports whether an operator may grant the plan's
	// tenants custom permissions, whose names are not standard ones.
	CustomPermissions bool `json:"custom_permissions"`
}

// Storage sizes in the plan table are decimal: 1 MB is 1,000,000 bytes.
const (
	megabyte = 1_000_000
	gigabyte = 1_000_000_000
)

// plans is the plan table, from the smallest plan to the largest.
var plans = []PlanSpec{
	{
		Name: PlanFree,
		Quotas: Quotas{
			Scenarios:            LimitOf(5),
			ConcurrentExecutions: LimitOf(1),
			RequestsPerMinute:    LimitOf(50),
			StorageBytes:         LimitOf(50 * megabyte),
			MaxDuration:          DurationLimitOf(10 * time.Minute),
			Users:                LimitOf(1),
		},
		Permissions: standardPermissions[:2],
	},
	{
		Name: PlanStarter,
		Quotas: Quotas{
			Scenarios:            LimitOf(20),
			ConcurrentExecutions: LimitOf(5),
			RequestsPerMinute:    LimitOf(200),
			StorageBytes:         LimitOf(500 * megabyte),
			MaxDuration:          DurationLimitOf(time.Hour),
			Users:                LimitOf(5),
		},
		Permissions: standardPermissions[:5],
	},
	{
		Name: PlanProfessional,
		Quotas: Quotas{
			Scenarios:            LimitOf(100),
			ConcurrentExecutions: LimitOf(20),
			RequestsPerMinute:    LimitOf(1000),
			StorageBytes:         LimitOf(5 * gigabyte),
			MaxDuration:          DurationLimitOf(4 * time.Hour),
			Users:                LimitOf(25),
		},
		Permissions: standardPermissions[:8],
	},
	{
		Name: PlanEnterprise,
		Quotas: Quotas{
			Scenarios:            Unlimited(),
			ConcurrentExecutions: LimitOf(100),
			RequestsPerMinute:    LimitOf(10000),
			StorageBytes:         LimitOf(50 * gigabyte),
			MaxDuration:          DurationLimitOf(24 * time.Hour),
			Users:                Unlimited(),
		},
		Permissions:       standardPermissions[:8],
		CustomPermissions: true,
	},
}

// Plans returns the plan table, from the smallest plan to the largest.
func Plans() []PlanSpec {
	out := make([]PlanSpec, len(plans))
	for i, p := range plans {
		out[i] = p
		out[i].Permissions = slices.Clone(p.Permissions)
	}
	return out
}

// ParsePlan checks that s names a plan.
func ParsePlan(s string) (Plan, error) {
	if _, ok := Plan(s).spec(); ok {
		return Plan(s), nil
	}
	names := make([]Plan, len(plans))
	for i, p := range plans {
		names[i] = p.Name
	}
	return "", fmt.Errorf("unknown plan %q: use one of %s", s, joinQuoted(names))
}

func (p Plan) spec() (*PlanSpec, bool) {
	for i := range plans {
		if plans[i].Name == p {
			return &plans[i], true
		}
	}
	return nil, false
}

// Quotas returns the plan's quotas; they are all zero for an unknown plan.
func (p Plan) Quotas() Quotas {
	if s, ok := p.spec(); ok {
		return s.Quotas
	}
	return Quotas{}
}

// Permissions returns the standard permissions the plan grants.
func (p Plan) Permissions() []Permission {
	if s, ok := p.spec(); ok {
		return slices.Clone(s.Permissions)
	}
	return nil
}

// AllowsCustomPermissions reports whether an operator may grant the plan's
// tenants custom permissions.
func (p Plan) AllowsCustomPermissions() bool {
	s, ok := p.spec()
	return ok && s.CustomPermissions
}

// grants reports whether the plan itself grants perm.
func (p Plan) grants(perm Permission) bool {
	s, ok := p.spec()
	return ok && slices.Contains(s.Permissions, perm)
}

// LowestPlanWith returns the smallest plan that grants perm. ok is false for
// a custom permission, which no plan grants by itself.
func LowestPlanWith(perm Permission) (p Plan, ok bool) {
	for _, spec := range plans {
		if slices.Contains(spec.Permissions, perm) {
			return spec.Name, true
		}
	}
	return "", false
}

func joinQuoted[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(quoted, ", ")
}
