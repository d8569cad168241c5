package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// unlimitedWord is how output shows a quota without a maximum. The daemon
// and the set-quota flags spell it the same way.
const unlimitedWord = "unlimited"

// quotasView is the JSON form of apiv1.Quotas. Each field is a number, a
// duration string such as "10m0s", or "unlimited"; in overrides, a quota
// that follows the plan is left out.
type quotasView struct {
	Scenarios            string `json:"scenarios,omitempty"`
	ConcurrentExecutions string `json:"concurrent_executions,omitempty"`
	RequestsPerMinute    string `json:"requests_per_minute,omitempty"`
	StorageBytes         string `json:"storage_bytes,omitempty"`
	MaxDuration          string `json:"max_duration,omitempty"`
	Users                string `json:"users,omitempty"`
}

func newQuotasView(q *apiv1.Quotas) quotasView {
	return quotasView{
		Scenarios:            limitText(q.GetScenarios()),
		ConcurrentExecutions: limitText(q.GetConcurrentExecutions()),
		RequestsPerMinute:    limitText(q.GetRequestsPerMinute()),
		StorageBytes:         limitText(q.GetStorageBytes()),
		MaxDuration:          durationLimitText(q.GetMaxDuration()),
		Users:                limitText(q.GetUsers()),
	}
}

// limitText returns the maximum, "unlimited", or "" for an unset limit.
func limitText(l *apiv1.Limit) string {
	switch {
	case l == nil:
		return ""
	case l.GetUnlimited():
		return unlimitedWord
	default:
		return strconv.FormatInt(l.GetMax(), 10)
	}
}

func durationLimitText(l *apiv1.DurationLimit) string {
	switch {
	case l == nil:
		return ""
	case l.GetUnlimited():
		return unlimitedWord
	default:
		return l.GetMax().AsDuration().String()
	}
}

// tenantView is the JSON form of one tenant.
type tenantView struct {
	Name               string     `json:"name"`
	Plan               string     `json:"plan"`
	Disabled           bool       `json:"disabled"`
	Quotas             quotasView `json:"quotas"`
	Overrides          quotasView `json:"overrides"`
	Permissions        []string   `json:"permissions"`
	GrantedPermissions []string   `json:"granted_permissions"`
	CreatedAt          string     `json:"created_at,omitempty"`
	UpdatedAt          string     `json:"updated_at,omitempty"`
}

func newTenantView(t *apiv1.Tenant) tenantView {
	v := tenantView{
		Name:               t.GetName(),
		Plan:               t.GetPlan(),
		Disabled:           t.GetDisabled(),
		Quotas:             newQuotasView(t.GetQuotas()),
		Overrides:          newQuotasView(t.GetOverrides()),
		Permissions:        nonNil(t.GetPermissions()),
		GrantedPermissions: nonNil(t.GetGrantedPermissions()),
	}
	if t.GetCreatedAt() != nil {
		v.CreatedAt = t.GetCreatedAt().AsTime().Format(time.RFC3339)
	}
	if t.GetUpdatedAt() != nil {
		v.UpdatedAt = t.GetUpdatedAt().AsTime().Format(time.RFC3339)
	}
	return v
}

// tenantListView is the JSON document of "tenants list".
type tenantListView struct {
	Tenants []tenantView `json:"tenants"`
}

// exceededView is a quota whose usage is above its limit after a change.
type exceededView struct {
	Quota string `json:"quota"`
	Usage int64  `json:"usage"`
	Limit string `json:"limit"`
}

func newExceededViews(exceeded []*apiv1.ExceededQuota) []exceededView {
	out := make([]exceededView, 0, len(exceeded))
	for _, e := range exceeded {
		out = append(out, exceededView{Quota: quotaName(e.GetQuota()), Usage: e.GetUsage(), Limit: limitText(e.GetLimit())})
	}
	return out
}

// tenantChangeView is the JSON document of a command that changes a tenant
// and may leave usage above a limit.
type tenantChangeView struct {
	Tenant   tenantView     `json:"tenant"`
	Exceeded []exceededView `json:"exceeded"`
}

// usageView is the JSON document of "tenants usage".
type usageView struct {
	Tenant               string         `json:"tenant"`
	Plan                 string         `json:"plan"`
	Disabled             bool           `json:"disabled"`
	Quotas               quotasView     `json:"quotas"`
	ConcurrentExecutions int64          `json:"concurrent_executions"`
	RequestsLastMinute   int64          `json:"requests_last_minute"`
	Scenarios            int64          `json:"scenarios"`
	StorageBytes         int64          `json:"storage_bytes"`
	Tokens               int64          `json:"tokens"`
	Exceeded             []exceededView `json:"exceeded"`
}

func newUsageView(u *apiv1.Usage) usageView {
	return usageView{
		Tenant:               u.GetTenant(),
		Plan:                 u.GetPlan(),
		Disabled:             u.GetDisabled(),
		Quotas:               newQuotasView(u.GetQuotas()),
		ConcurrentExecutions: u.GetConcurrentExecutions(),
		RequestsLastMinute:   u.GetRequestsLastMinute(),
		Scenarios:            u.GetScenarios(),
		StorageBytes:         u.GetStorageBytes(),
		Tokens:               u.GetTokens(),
		Exceeded:             newExceededViews(u.GetExceeded()),
	}
}

// tokenView is the JSON form of one token's metadata. It never contains
// the token itself.
type tokenView struct {
	ID          string `json:"id"`
	Tenant      string `json:"tenant"`
	Description string `json:"description"`
	CreatedAt   string `json:"created_at,omitempty"`
}

func newTokenView(info *apiv1.TokenInfo) tokenView {
	v := tokenView{ID: info.GetId(), Tenant: info.GetTenant(), Description: info.GetDescription()}
	if info.GetCreatedAt() != nil {
		v.CreatedAt = info.GetCreatedAt().AsTime().Format(time.RFC3339)
	}
	return v
}

// writeTenantTable prints one row per tenant.
func writeTenantTable(w io.Writer, tenants []*apiv1.Tenant) error {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "NAME\tPLAN\tSTATE\tCONCURRENT\tREQ/MIN\tSTORAGE BYTES\tOVERRIDES")
	for _, t := range tenants {
		q := t.GetQuotas()
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			t.GetName(), t.GetPlan(), tenantState(t.GetDisabled()),
			limitText(q.GetConcurrentExecutions()), limitText(q.GetRequestsPerMinute()),
			limitText(q.GetStorageBytes()), orDash(overrideList(t.GetOverrides())))
	}
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write tenant table: %w", err)
	}
	return nil
}

func tenantState(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

// overrideList returns the overridden quotas as "name=value" pairs.
func overrideList(o *apiv1.Quotas) string {
	var parts []string
	for _, f := range quotaFields(newQuotasView(o)) {
		if f.value != "" {
			parts = append(parts, f.flag+"="+f.value)
		}
	}
	return strings.Join(parts, ",")
}

// quotaField is one quota of a quotasView with the set-quota flag that
// changes it.
type quotaField struct {
	label string
	flag  string
	value string
}

func quotaFields(v quotasView) []quotaField {
	return []quotaField{
		{"Scenarios", flagMaxScenarios, v.Scenarios},
		{"Concurrent executions", flagMaxConcurrent, v.ConcurrentExecutions},
		{"Requests per minute", flagRequestsPerMinute, v.RequestsPerMinute},
		{"Storage bytes", flagMaxStorage, v.StorageBytes},
		{"Max duration", flagMaxDuration, v.MaxDuration},
		{"Users (tokens)", flagMaxUsers, v.Users},
	}
}

// writeTenant prints one tenant as labelled lines. Overridden quotas are
// marked, so that an operator sees which limits a plan change keeps.
func writeTenant(w io.Writer, t *apiv1.Tenant) error {
	table := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	field := func(label, value string) {
		fmt.Fprintf(table, "%s:\t%s\n", label, orDash(value))
	}
	field("Name", t.GetName())
	field("Plan", t.GetPlan())
	field("State", tenantState(t.GetDisabled()))
	overrides := newQuotasView(t.GetOverrides())
	for i, f := range quotaFields(newQuotasView(t.GetQuotas())) {
		value := f.value
		if quotaFields(overrides)[i].value != "" {
			value += " (override)"
		}
		field(f.label, value)
	}
	field("Permissions", strings.Join(t.GetPermissions(), ", "))
	field("Granted", strings.Join(t.GetGrantedPermissions(), ", "))
	if t.GetCreatedAt() != nil {
		field("Created", t.GetCreatedAt().AsTime().Format(time.RFC3339))
	}
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write tenant: %w", err)
	}
	return nil
}

// writeExceeded prints the quotas that a change left below their usage.
func writeExceeded(w io.Writer, name string, exceeded []*apiv1.ExceededQuota) {
	for _, e := range newExceededViews(exceeded) {
		fmt.Fprintf(w, "Warning: tenant %q is above its %s limit (usage %d, limit %s); new work of that kind is rejected until usage drops or the limit is raised\n",
			name, e.Quota, e.Usage, e.Limit)
	}
}

// writeUsage prints a tenant's usage next to its limits.
func writeUsage(w io.Writer, u *apiv1.Usage) error {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	q := newQuotasView(u.GetQuotas())
	fmt.Fprintf(table, "Tenant:\t%s (plan %s, %s)\t\n", u.GetTenant(), u.GetPlan(), tenantState(u.GetDisabled()))
	fmt.Fprintln(table, "QUOTA\tUSAGE\tLIMIT")
	fmt.Fprintf(table, "concurrent executions\t%d\t%s\n", u.GetConcurrentExecutions(), q.ConcurrentExecutions)
	fmt.Fprintf(table, "requests in the last minute\t%d\t%s\n", u.GetRequestsLastMinute(), q.RequestsPerMinute)
	fmt.Fprintf(table, "scenarios\t%d\t%s\n", u.GetScenarios(), q.Scenarios)
	fmt.Fprintf(table, "storage bytes\t%d\t%s\n", u.GetStorageBytes(), q.StorageBytes)
	fmt.Fprintf(table, "users (tokens)\t%d\t%s\n", u.GetTokens(), q.Users)
	fmt.Fprintf(table, "max duration\t-\t%s\n", q.MaxDuration)
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write usage: %w", err)
	}
	writeExceeded(w, u.GetTenant(), u.GetExceeded())
	return nil
}
