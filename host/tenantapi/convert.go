package tenantapi

import (
	"fmt"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func limitToProto(l tenant.Limit) *apiv1.Limit {
	if l.IsUnlimited() {
		return &apiv1.Limit{Kind: &apiv1.Limit_Unlimited{Unlimited: true}}
	}
	return &apiv1.Limit{Kind: &apiv1.Limit_Max{Max: l.Max()}}
}

func durationLimitToProto(l tenant.DurationLimit) *apiv1.DurationLimit {
	if l.IsUnlimited() {
		return &apiv1.DurationLimit{Kind: &apiv1.DurationLimit_Unlimited{Unlimited: true}}
	}
	return &apiv1.DurationLimit{Kind: &apiv1.DurationLimit_Max{Max: durationpb.New(l.Max())}}
}

// limitFromProto converts a limit of a request; field names the quota in
// errors.
func limitFromProto(field string, l *apiv1.Limit) (tenant.Limit, error) {
	switch kind := l.GetKind().(type) {
	case *apiv1.Limit_Unlimited:
		if !kind.Unlimited {
			return tenant.Limit{}, fmt.Errorf("invalid %s: unlimited is false; set max or unlimited: true", field)
		}
		return tenant.Unlimited(), nil
	case *apiv1.Limit_Max:
		if kind.Max < 0 {
			return tenant.Limit{}, fmt.Errorf("invalid %s: max %d is negative; use 0 or more, or unlimited", field, kind.Max)
		}
		return tenant.LimitOf(kind.Max), nil
	default:
		return tenant.Limit{}, fmt.Errorf("invalid %s: set max or unlimited", field)
	}
}

func durationLimitFromProto(field string, l *apiv1.DurationLimit) (tenant.DurationLimit, error) {
	switch kind := l.GetKind().(type) {
	case *apiv1.DurationLimit_Unlimited:
		if !kind.Unlimited {
			return tenant.DurationLimit{}, fmt.Errorf("invalid %s: unlimited is false; set max or unlimited: true", field)
		}
		return tenant.UnlimitedDuration(), nil
	case *apiv1.DurationLimit_Max:
		if err := kind.Max.CheckValid(); err != nil {
			return tenant.DurationLimit{}, fmt.Errorf("invalid %s: %w", field, err)
		}
		d := kind.Max.AsDuration()
		if d < 0 {
			return tenant.DurationLimit{}, fmt.Errorf("invalid %s: max %s is negative", field, d)
		}
		return tenant.DurationLimitOf(d), nil
	default:
		return tenant.DurationLimit{}, fmt.Errorf("invalid %s: set max or unlimited", field)
	}
}

func quotasToProto(q tenant.Quotas) *apiv1.Quotas {
	return &apiv1.Quotas{
		Scenarios:            limitToProto(q.Scenarios),
		ConcurrentExecutions: limitToProto(q.ConcurrentExecutions),
		RequestsPerMinute:    limitToProto(q.RequestsPerMinute),
		StorageBytes:         limitToProto(q.StorageBytes),
		MaxDuration:          durationLimitToProto(q.MaxDuration),
		Users:                limitToProto(q.Users),
	}
}

func overridesToProto(o tenant.QuotaOverrides) *apiv1.Quotas {
	out := &apiv1.Quotas{}
	if o.Scenarios != nil {
		out.Scenarios = limitToProto(*o.Scenarios)
	}
	if o.ConcurrentExecutions != nil {
		out.ConcurrentExecutions = limitToProto(*o.ConcurrentExecutions)
	}
	if o.RequestsPerMinute != nil {
		out.RequestsPerMinute = limitToProto(*o.RequestsPerMinute)
	}
	if o.StorageBytes != nil {
		out.StorageBytes = limitToProto(*o.StorageBytes)
	}
	if o.MaxDuration != nil {
		out.MaxDuration = durationLimitToProto(*o.MaxDuration)
	}
	if o.Users != nil {
		out.Users = limitToProto(*o.Users)
	}
	return out
}

// overridesFromProto converts the set fields of q; unset fields stay nil.
func overridesFromProto(q *apiv1.Quotas) (tenant.QuotaOverrides, error) {
	var out tenant.QuotaOverrides
	if q == nil {
		return out, nil
	}
	limits := []struct {
		name  tenant.QuotaName
		value *apiv1.Limit
		dst   **tenant.Limit
	}{
		{tenant.QuotaScenarios, q.Scenarios, &out.Scenarios},
		{tenant.QuotaConcurrentExecutions, q.ConcurrentExecutions, &out.ConcurrentExecutions},
		{tenant.QuotaRequestsPerMinute, q.RequestsPerMinute, &out.RequestsPerMinute},
		{tenant.QuotaStorageBytes, q.StorageBytes, &out.StorageBytes},
		{tenant.QuotaUsers, q.Users, &out.Users},
	}
	for _, l := range limits {
		if l.value == nil {
			continue
		}
		v, err := limitFromProto(string(l.name), l.value)
		if err != nil {
			return tenant.QuotaOverrides{}, err
		}
		*l.dst = &v
	}
	if q.MaxDuration != nil {
		v, err := durationLimitFromProto(string(tenant.QuotaMaxDuration), q.MaxDuration)
		if err != nil {
			return tenant.QuotaOverrides{}, err
		}
		out.MaxDuration = &v
	}
	return out, nil
}

var quotaNames = map[apiv1.Quota]tenant.QuotaName{
	apiv1.Quota_QUOTA_SCENARIOS:             tenant.QuotaScenarios,
	apiv1.Quota_QUOTA_CONCURRENT_EXECUTIONS: tenant.QuotaConcurrentExecutions,
	apiv1.Quota_QUOTA_REQUESTS_PER_MINUTE:   tenant.QuotaRequestsPerMinute,
	apiv1.Quota_QUOTA_STORAGE_BYTES:         tenant.QuotaStorageBytes,
	apiv1.Quota_QUOTA_MAX_DURATION:          tenant.QuotaMaxDuration,
	apiv1.Quota_QUOTA_USERS:                 tenant.QuotaUsers,
}

func quotaNamesFromProto(quotas []apiv1.Quota) ([]tenant.QuotaName, error) {
	out := make([]tenant.QuotaName, 0, len(quotas))
	for _, q := range quotas {
		name, ok := quotaNames[q]
		if !ok {
			return nil, fmt.Errorf("invalid quota %s in reset_quotas: name one of QUOTA_SCENARIOS, QUOTA_CONCURRENT_EXECUTIONS, QUOTA_REQUESTS_PER_MINUTE, QUOTA_STORAGE_BYTES, QUOTA_MAX_DURATION, QUOTA_USERS", q)
		}
		out = append(out, name)
	}
	return out, nil
}

func quotaToProto(name tenant.QuotaName) apiv1.Quota {
	for q, n := range quotaNames {
		if n == name {
			return q
		}
	}
	return apiv1.Quota_QUOTA_UNSPECIFIED
}

func tenantToProto(t tenant.Tenant) *apiv1.Tenant {
	return &apiv1.Tenant{
		Name:               t.Name,
		Plan:               string(t.Plan),
		Disabled:           t.Disabled,
		Quotas:             quotasToProto(t.Quotas()),
		Overrides:          overridesToProto(t.Overrides),
		Permissions:        permissionsToStrings(t.Permissions()),
		GrantedPermissions: permissionsToStrings(t.Granted),
		CreatedAt:          timestamppb.New(t.CreatedAt),
		UpdatedAt:          timestamppb.New(t.UpdatedAt),
	}
}

func permissionsToStrings(perms []tenant.Permission) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return out
}

func exceededToProto(exceeded []tenant.Exceeded) []*apiv1.ExceededQuota {
	out := make([]*apiv1.ExceededQuota, len(exceeded))
	for i, e := range exceeded {
		out[i] = &apiv1.ExceededQuota{Quota: quotaToProto(e.Quota), Usage: e.Usage, Limit: limitToProto(e.Limit)}
	}
	return out
}

func usageToProto(u tenant.Usage) *apiv1.Usage {
	return &apiv1.Usage{
		Tenant:               u.Tenant,
		Plan:                 string(u.Plan),
		Disabled:             u.Disabled,
		Quotas:               quotasToProto(u.Quotas),
		ConcurrentExecutions: u.ConcurrentExecutions,
		RequestsLastMinute:   u.RequestsLastMinute,
		Scenarios:            u.Scenarios,
		StorageBytes:         u.StorageBytes,
		Tokens:               u.Tokens,
		Exceeded:             exceededToProto(u.Exceeded()),
	}
}

func tokenInfoToProto(info tenant.TokenInfo) *apiv1.TokenInfo {
	return &apiv1.TokenInfo{
		Id:          info.ID,
		Tenant:      info.Tenant,
		Description: info.Description,
		CreatedAt:   timestamppb.New(info.CreatedAt),
	}
}

func planToProto(p tenant.PlanSpec) *apiv1.Plan {
	return &apiv1.Plan{
		Name:              string(p.Name),
		Quotas:            quotasToProto(p.Quotas),
		Permissions:       permissionsToStrings(p.Permissions),
		CustomPermissions: p.CustomPermissions,
	}
}
