package tenant

// Usage is a tenant's current consumption beside its quotas.
type Usage struct {
	// Tenant is the tenant's name.
	Tenant string `json:"tenant"`
	// Plan is the tenant's plan.
	Plan Plan `json:"plan"`
	// Disabled is true while the tenant is disabled.
	Disabled bool `json:"disabled"`
	// Quotas are the limits in force.
	Quotas Quotas `json:"quotas"`
	// ConcurrentExecutions is the number of calls running now.
	ConcurrentExecutions int64 `json:"concurrent_executions"`
	// RequestsLastMinute is the number of calls admitted by the rate limit
	// in the last 60 seconds.
	RequestsLastMinute int64 `json:"requests_last_minute"`
	// Scenarios is the number of stored scenarios.
	Scenarios int64 `json:"scenarios"`
	// StorageBytes is the size of the tenant's plugin storage.
	StorageBytes int64 `json:"storage_bytes"`
	// Tokens is the number of tokens, which the users quota limits.
	Tokens int64 `json:"tokens"`
}

// Exceeded is a quota whose usage is above its limit, which happens after a
// plan change or a lowered override. Such usage blocks new work of that kind
// until it drops below the limit; nothing is deleted.
type Exceeded struct {
	Quota QuotaName `json:"quota"`
	Usage int64     `json:"usage"`
	Limit Limit     `json:"limit"`
}

// Exceeded returns the quotas whose usage is above the limit.
func (u Usage) Exceeded() []Exceeded {
	checks := []Exceeded{
		{Quota: QuotaScenarios, Usage: u.Scenarios, Limit: u.Quotas.Scenarios},
		{Quota: QuotaConcurrentExecutions, Usage: u.ConcurrentExecutions, Limit: u.Quotas.ConcurrentExecutions},
		{Quota: QuotaRequestsPerMinute, Usage: u.RequestsLastMinute, Limit: u.Quotas.RequestsPerMinute},
		{Quota: QuotaStorageBytes, Usage: u.StorageBytes, Limit: u.Quotas.StorageBytes},
		{Quota: QuotaUsers, Usage: u.Tokens, Limit: u.Quotas.Users},
	}
	var out []Exceeded
	for _, c := range checks {
		if !c.Limit.Allows(c.Usage) {
			out = append(out, c)
		}
	}
	return out
}

// Usage returns the named tenant's usage. It works for disabled tenants.
func (m *Manager) Usage(name string) (Usage, error) {
	st, err := m.state(name)
	if err != nil {
		return Usage{}, err
	}
	t := st.record.Load()
	return Usage{
		Tenant:               t.Name,
		Plan:                 t.Plan,
		Disabled:             t.Disabled,
		Quotas:               t.Quotas(),
		ConcurrentExecutions: st.running.Load(),
		RequestsLastMinute:   st.window.count(m.offset()),
		Scenarios:            t.Scenarios,
		StorageBytes:         t.StorageBytes,
		Tokens:               int64(m.tokens.count(name)),
	}, nil
}

// exceeded returns the quotas the named tenant exceeds now, or nil when the
// tenant does not exist.
func (m *Manager) exceeded(name string) []Exceeded {
	u, err := m.Usage(name)
	if err != nil {
		return nil
	}
	return u.Exceeded()
}
