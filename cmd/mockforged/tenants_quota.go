package main

import (
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Flags of "tenants set-quota". The daemon's error messages name them.
const (
	flagMaxScenarios      = "max-scenarios"
	flagMaxConcurrent     = "max-concurrent"
	flagRequestsPerMinute = "requests-per-minute"
	flagMaxStorage        = "max-storage"
	flagMaxDuration       = "max-duration"
	flagMaxUsers          = "max-users"
)

// quotaFlag ties a set-quota flag to its quota.
type quotaFlag struct {
	flag  string
	quota apiv1.Quota
	// set parses the flag's value into the request's Quotas.
	set  func(q *apiv1.Quotas, value string) error
	help string
}

var quotaFlags = []quotaFlag{
	{flagMaxScenarios, apiv1.Quota_QUOTA_SCENARIOS, countSetter(func(q *apiv1.Quotas, l *apiv1.Limit) { q.Scenarios = l }),
		`number of scenarios the tenant may store, or "unlimited"`},
	{flagMaxConcurrent, apiv1.Quota_QUOTA_CONCURRENT_EXECUTIONS, countSetter(func(q *apiv1.Quotas, l *apiv1.Limit) { q.ConcurrentExecutions = l }),
		`number of calls that may run at once, or "unlimited"`},
	{flagRequestsPerMinute, apiv1.Quota_QUOTA_REQUESTS_PER_MINUTE, countSetter(func(q *apiv1.Quotas, l *apiv1.Limit) { q.RequestsPerMinute = l }),
		`number of calls admitted in any 60-second window, or "unlimited"`},
	{flagMaxStorage, apiv1.Quota_QUOTA_STORAGE_BYTES, setStorage,
		`size of the tenant's plugin storage, such as 500MB, 5GiB or 1024 (bytes), or "unlimited"`},
	{flagMaxDuration, apiv1.Quota_QUOTA_MAX_DURATION, setMaxDuration,
		`longest timeout a call may have, such as 10m or 4h, or "unlimited"`},
	{flagMaxUsers, apiv1.Quota_QUOTA_USERS, countSetter(func(q *apiv1.Quotas, l *apiv1.Limit) { q.Users = l }),
		`number of tokens the tenant may hold, or "unlimited"`},
}

func countSetter(assign func(*apiv1.Quotas, *apiv1.Limit)) func(*apiv1.Quotas, string) error {
	return func(q *apiv1.Quotas, value string) error {
		l, err := tenant.ParseLimit(value)
		if err != nil {
			return err
		}
		assign(q, limitProto(l))
		return nil
	}
}

func setStorage(q *apiv1.Quotas, value string) error {
	l, err := tenant.ParseByteLimit(value)
	if err != nil {
		return err
	}
	q.StorageBytes = limitProto(l)
	return nil
}

func setMaxDuration(q *apiv1.Quotas, value string) error {
	l, err := tenant.ParseDurationLimit(value)
	if err != nil {
		return err
	}
	if l.IsUnlimited() {
		q.MaxDuration = &apiv1.DurationLimit{Kind: &apiv1.DurationLimit_Unlimited{Unlimited: true}}
		return nil
	}
	q.MaxDuration = &apiv1.DurationLimit{Kind: &apiv1.DurationLimit_Max{Max: durationpb.New(l.Max())}}
	return nil
}

func limitProto(l tenant.Limit) *apiv1.Limit {
	if l.IsUnlimited() {
		return &apiv1.Limit{Kind: &apiv1.Limit_Unlimited{Unlimited: true}}
	}
	return &apiv1.Limit{Kind: &apiv1.Limit_Max{Max: l.Max()}}
}

// quotaName returns the quota's name as the daemon and the tenants file
// spell it, such as "concurrent_executions".
func quotaName(q apiv1.Quota) string {
	switch q {
	case apiv1.Quota_QUOTA_SCENARIOS:
		return string(tenant.QuotaScenarios)
	case apiv1.Quota_QUOTA_CONCURRENT_EXECUTIONS:
		return string(tenant.QuotaConcurrentExecutions)
	case apiv1.Quota_QUOTA_REQUESTS_PER_MINUTE:
		return string(tenant.QuotaRequestsPerMinute)
	case apiv1.Quota_QUOTA_STORAGE_BYTES:
		return string(tenant.QuotaStorageBytes)
	case apiv1.Quota_QUOTA_MAX_DURATION:
		return string(tenant.QuotaMaxDuration)
	case apiv1.Quota_QUOTA_USERS:
		return string(tenant.QuotaUsers)
	default:
		return q.String()
	}
}

// setQuotaRequest builds the SetQuotas request from the flags the operator
// set. reset lists flag names (without "--") whose override is removed.
func setQuotaRequest(cmd *cobra.Command, name string, reset []string) (*apiv1.SetQuotasRequest, error) {
	req := &apiv1.SetQuotasRequest{Name: name, Set: &apiv1.Quotas{}}
	for _, f := range quotaFlags {
		if !cmd.Flags().Changed(f.flag) {
			continue
		}
		value, _ := cmd.Flags().GetString(f.flag) // every quota flag is a string flag
		if err := f.set(req.Set, value); err != nil {
			return nil, usageErrorf("invalid --%s: %v", f.flag, err)
		}
	}
	for _, r := range reset {
		f, ok := findQuotaFlag(r)
		if !ok {
			return nil, usageErrorf("invalid --reset %q: use a quota flag name without dashes, such as %s", r, flagMaxConcurrent)
		}
		if cmd.Flags().Changed(f.flag) {
			return nil, usageErrorf("--%s is both set and reset; pass only one of them", f.flag)
		}
		req.ResetQuotas = append(req.ResetQuotas, f.quota)
	}
	if len(req.ResetQuotas) == 0 && noQuotaSet(req.Set) {
		return nil, usageErrorf("set-quota changes nothing; set at least one of --%s, --%s, --%s, --%s, --%s, --%s or --reset",
			flagMaxScenarios, flagMaxConcurrent, flagRequestsPerMinute, flagMaxStorage, flagMaxDuration, flagMaxUsers)
	}
	return req, nil
}

func findQuotaFlag(name string) (quotaFlag, bool) {
	for _, f := range quotaFlags {
		if f.flag == name {
			return f, true
		}
	}
	return quotaFlag{}, false
}

// noQuotaSet reports whether q sets no quota.
func noQuotaSet(q *apiv1.Quotas) bool {
	return q.Scenarios == nil && q.ConcurrentExecutions == nil && q.RequestsPerMinute == nil &&
		q.StorageBytes == nil && q.MaxDuration == nil && q.Users == nil
}
