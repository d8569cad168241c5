package tenant

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Admit decides whether the tenant may make one call to a plugin with the
// given capabilities and timeout, and counts the call as running when it
// may. The checks run in this order, and the first that fails returns its
// error:
//
//  1. the tenant exists (NotFound);
//  2. it is enabled (FailedPrecondition);
//  3. it has the permission each capability needs (PermissionDenied);
//  4. the rate limit admits one more call (ResourceExhausted with an
//     errdetails.RetryInfo);
//  5. timeout is within the max duration (ResourceExhausted);
//  6. one more concurrent execution fits, and it is counted in the same
//     atomic step (ResourceExhausted).
//
// timeout is the call's effective deadline and must be positive. On success
// the caller must call release when the call ends, whatever way it ends.
// release is safe to call more than once and from any goroutine, and only
// the first call counts. A call turned away by a later check still took its
// place in the rate limit's window, because it was a request all the same.
func (m *Manager) Admit(ctx context.Context, tenantID string, capabilities []string, timeout time.Duration) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, contextError(err)
	}
	st, err := m.state(tenantID)
	if err != nil {
		return nil, err
	}
	t := st.record.Load()
	if t.Disabled {
		return nil, errTenantDisabled(t.Name)
	}
	if err := checkPermissions(t, capabilities); err != nil {
		return nil, err
	}

	quotas := t.Quotas()
	if err := m.checkRate(st, t, quotas.RequestsPerMinute); err != nil {
		return nil, err
	}
	if err := checkDuration(t, quotas.MaxDuration, timeout); err != nil {
		return nil, err
	}
	if err := acquire(st, t, quotas.ConcurrentExecutions); err != nil {
		return nil, err
	}

	var released atomic.Bool
	return func() {
		if released.CompareAndSwap(false, true) {
			st.running.Add(-1)
		}
	}, nil
}

func checkPermissions(t *Tenant, capabilities []string) error {
	for _, c := range capabilities {
		perm, ok := capabilityPermissions[c]
		if ok && !t.HasPermission(perm) {
			return errPermissionMissing(*t, c, perm)
		}
	}
	return nil
}

func (m *Manager) checkRate(st *tenantState, t *Tenant, limit Limit) error {
	if limit.IsUnlimited() {
		return nil
	}
	retry, ok := st.window.allow(m.offset(), limit.Max())
	switch {
	case ok:
		return nil
	case limit.Max() == 0:
		return errQuotaExceeded(*t, QuotaRequestsPerMinute,
			"has a rate limit of 0 requests per minute",
			fmt.Sprintf("raise it with `mockforged tenants set-quota %s --requests-per-minute N`", t.Name))
	default:
		return errRateLimited(*t, limit, retry)
	}
}

func checkDuration(t *Tenant, limit DurationLimit, timeout time.Duration) error {
	if timeout <= 0 {
		return status.Errorf(codes.InvalidArgument, "invalid timeout %s for tenant %q: it must be positive", timeout, t.Name)
	}
	if limit.Allows(timeout) {
		return nil
	}
	return errQuotaExceeded(*t, QuotaMaxDuration,
		fmt.Sprintf("requested a timeout of %s, above its max duration of %s", timeout, limit),
		fmt.Sprintf("use a timeout of at most %s, or raise the limit with `mockforged tenants set-quota %s --max-duration D`", limit, t.Name))
}

// acquire counts one more running call unless that would exceed limit. The
// compare-and-swap loop makes check and increment one atomic step, so no
// number of concurrent callers can push the count above the limit.
func acquire(st *tenantState, t *Tenant, limit Limit) error {
	if limit.IsUnlimited() {
		st.running.Add(1)
		return nil
	}
	for {
		running := st.running.Load()
		if running >= limit.Max() {
			return errQuotaExceeded(*t, QuotaConcurrentExecutions,
				fmt.Sprintf("is running %d of %s concurrent executions allowed", running, limit),
				fmt.Sprintf("retry when one ends, or raise the limit with `mockforged tenants set-quota %s --max-concurrent N`", t.Name))
		}
		if st.running.CompareAndSwap(running, running+1) {
			return nil
		}
	}
}

// MaxDuration returns the longest timeout the named tenant's calls may have,
// for a daemon that picks a default timeout per tenant.
func (m *Manager) MaxDuration(tenantID string) (DurationLimit, error) {
	st, err := m.state(tenantID)
	if err != nil {
		return DurationLimit{}, err
	}
	return st.record.Load().Quotas().MaxDuration, nil
}
