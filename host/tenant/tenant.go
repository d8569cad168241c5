package tenant

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// DefaultTenant is the name of the tenant that EnsureDefault creates.
const DefaultTenant = "default"

// Tenant is the stored record of one tenant. Manager methods return copies,
// so changing a Tenant changes nothing in the store.
type Tenant struct {
	// Name identifies the tenant; see ParseName for its syntax.
	Name string `json:"name"`
	// Plan is the plan the tenant subscribes to.
	Plan Plan `json:"plan"`
	// Overrides are the quotas an operator set for this tenant in place of
	// the plan's. They survive plan changes.
	Overrides QuotaOverrides `json:"overrides"`
	// Granted are the permissions an operator granted this tenant beyond
	// its plan's, sorted. They survive plan changes.
	Granted []Permission `json:"granted,omitempty"`
	// Disabled tenants are refused everything except reading their own
	// record and usage.
	Disabled bool `json:"disabled,omitempty"`
	// CreatedAt and UpdatedAt are in UTC. UpdatedAt changes with the plan,
	// quotas, permissions and the disabled flag, not with usage.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Scenarios is the number of scenarios the tenant stores.
	Scenarios int64 `json:"scenarios"`
	// StorageBytes is the size of the tenant's plugin storage, counted as the
	// length of every key plus the length of its value.
	StorageBytes int64 `json:"storage_bytes"`
}

// Quotas returns the limits in force: the plan's, with the overrides applied.
func (t Tenant) Quotas() Quotas {
	return t.Overrides.apply(t.Plan.Quotas())
}

// Permissions returns the permissions in force, sorted: the plan's and the
// granted ones.
func (t Tenant) Permissions() []Permission {
	out := append(t.Plan.Permissions(), t.Granted...)
	slices.Sort(out)
	return slices.Compact(out)
}

// HasPermission reports whether perm is in force for the tenant.
func (t Tenant) HasPermission(perm Permission) bool {
	return t.Plan.grants(perm) || slices.Contains(t.Granted, perm)
}

// clone returns a deep copy of t, so that a caller cannot change the record
// held in memory through its slices or pointers.
func (t Tenant) clone() Tenant {
	t.Granted = slices.Clone(t.Granted)
	t.Overrides = QuotaOverrides{}.merge(t.Overrides)
	return t
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ParseName checks that s is a valid tenant name: 1 to 63 lowercase letters,
// digits, '.', '_' and '-', starting with a letter or digit.
func ParseName(s string) (string, error) {
	if !namePattern.MatchString(s) {
		return "", fmt.Errorf("invalid tenant name %q: use 1 to 63 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit", s)
	}
	return s, nil
}

// QuotaOverrides are per-tenant quotas that replace the plan's. A nil field
// keeps the plan's value.
type QuotaOverrides struct {
	Scenarios            *Limit         `json:"scenarios,omitempty"`
	ConcurrentExecutions *Limit         `json:"concurrent_executions,omitempty"`
	RequestsPerMinute    *Limit         `json:"requests_per_minute,omitempty"`
	StorageBytes         *Limit         `json:"storage_bytes,omitempty"`
	MaxDuration          *DurationLimit `json:"max_duration,omitempty"`
	Users                *Limit         `json:"users,omitempty"`
}

func (o QuotaOverrides) apply(q Quotas) Quotas {
	setLimit(&q.Scenarios, o.Scenarios)
	setLimit(&q.ConcurrentExecutions, o.ConcurrentExecutions)
	setLimit(&q.RequestsPerMinute, o.RequestsPerMinute)
	setLimit(&q.StorageBytes, o.StorageBytes)
	setLimit(&q.MaxDuration, o.MaxDuration)
	setLimit(&q.Users, o.Users)
	return q
}

func setLimit[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// merge returns o with every field that is set in other replaced.
func (o QuotaOverrides) merge(other QuotaOverrides) QuotaOverrides {
	setOverride(&o.Scenarios, other.Scenarios)
	setOverride(&o.ConcurrentExecutions, other.ConcurrentExecutions)
	setOverride(&o.RequestsPerMinute, other.RequestsPerMinute)
	setOverride(&o.StorageBytes, other.StorageBytes)
	setOverride(&o.MaxDuration, other.MaxDuration)
	setOverride(&o.Users, other.Users)
	return o
}

func setOverride[T any](dst **T, src *T) {
	if src != nil {
		v := *src
		*dst = &v
	}
}

// without returns o with the named overrides removed, so that the plan's
// values apply again.
func (o QuotaOverrides) without(names []QuotaName) QuotaOverrides {
	for _, n := range names {
		switch n {
		case QuotaScenarios:
			o.Scenarios = nil
		case QuotaConcurrentExecutions:
			o.ConcurrentExecutions = nil
		case QuotaRequestsPerMinute:
			o.RequestsPerMinute = nil
		case QuotaStorageBytes:
			o.StorageBytes = nil
		case QuotaMaxDuration:
			o.MaxDuration = nil
		case QuotaUsers:
			o.Users = nil
		}
	}
	return o
}

// Names returns the names of the quotas that are overridden.
func (o QuotaOverrides) Names() []QuotaName {
	var out []QuotaName
	set := []bool{
		o.Scenarios != nil, o.ConcurrentExecutions != nil, o.RequestsPerMinute != nil,
		o.StorageBytes != nil, o.MaxDuration != nil, o.Users != nil,
	}
	for i, name := range QuotaNames() {
		if set[i] {
			out = append(out, name)
		}
	}
	return out
}

// equal reports whether o and other override the same quotas with the same
// values.
func (o QuotaOverrides) equal(other QuotaOverrides) bool {
	return equalPtr(o.Scenarios, other.Scenarios) &&
		equalPtr(o.ConcurrentExecutions, other.ConcurrentExecutions) &&
		equalPtr(o.RequestsPerMinute, other.RequestsPerMinute) &&
		equalPtr(o.StorageBytes, other.StorageBytes) &&
		equalPtr(o.MaxDuration, other.MaxDuration) &&
		equalPtr(o.Users, other.Users)
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
