package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Every error that Manager methods return for a caller's request is a gRPC
// status error (google.golang.org/grpc/status), so the daemon can return it
// as it is. The codes are:
//
//   - InvalidArgument: a malformed name, key, permission or value.
//   - NotFound: no such tenant or token.
//   - AlreadyExists: a tenant with that name exists.
//   - PermissionDenied: the tenant lacks the permission a plugin needs. The
//     status carries an errdetails.ErrorInfo with reason "PERMISSION_MISSING".
//   - FailedPrecondition: the tenant is disabled, or the change does not fit
//     its plan.
//   - ResourceExhausted: a quota or the rate limit would be exceeded. The
//     status carries an errdetails.QuotaFailure, and for the rate limit an
//     errdetails.RetryInfo with the time after which a retry can succeed.
//   - Internal: the store failed to read or write.

// errorDomain is the domain of the errdetails.ErrorInfo this package sets.
const errorDomain = "mockforged.tenant"

// Reasons set in errdetails.ErrorInfo.
const (
	// ReasonPermissionMissing marks a PermissionDenied error for a missing
	// permission. Its metadata has the keys "permission", "plan",
	// "capability" and, when one exists, "lowest_plan".
	ReasonPermissionMissing = "PERMISSION_MISSING"
	// ReasonRateLimited marks a ResourceExhausted error from the rate limit.
	ReasonRateLimited = "RATE_LIMITED"
	// ReasonQuotaExceeded marks a ResourceExhausted error from a quota. Its
	// metadata key "quota" contains the QuotaName.
	ReasonQuotaExceeded = "QUOTA_EXCEEDED"
)

func errTenantNotFound(name string) error {
	return status.Errorf(codes.NotFound,
		"tenant %q not found; list tenants with `mockforged tenants list` or create it with `mockforged tenants create %s --plan free`",
		name, name)
}

func errTenantDisabled(name string) error {
	return status.Errorf(codes.FailedPrecondition,
		"tenant %q is disabled; an administrator can enable it with `mockforged tenants enable %s`", name, name)
}

func errInvalid(err error) error {
	return status.Error(codes.InvalidArgument, err.Error())
}

func errPermissionMissing(t Tenant, capability string, perm Permission) error {
	lowest, ok := LowestPlanWith(perm)
	meta := map[string]string{"permission": string(perm), "plan": string(t.Plan), "capability": capability}
	var msg string
	if ok {
		meta["lowest_plan"] = string(lowest)
		msg = fmt.Sprintf("tenant %q on plan %s lacks permission %s, which plugins with capability %q need; the lowest plan with it is %s: upgrade with `mockforged tenants upgrade %s --plan %s` or grant it with `mockforged tenants grant %s %s`",
			t.Name, t.Plan, perm, capability, lowest, t.Name, lowest, t.Name, perm)
	} else {
		msg = fmt.Sprintf("tenant %q on plan %s lacks custom permission %s, which no plan includes; an administrator can grant it to an enterprise tenant with `mockforged tenants grant %s %s`",
			t.Name, t.Plan, perm, t.Name, perm)
	}
	return withDetails(status.New(codes.PermissionDenied, msg), &errdetails.ErrorInfo{
		Reason: ReasonPermissionMissing, Domain: errorDomain, Metadata: meta,
	})
}

func errRateLimited(t Tenant, limit Limit, retry time.Duration) error {
	// Round up, so that a retry after the advertised delay is never early.
	retry = (retry + time.Millisecond - 1).Truncate(time.Millisecond)
	msg := fmt.Sprintf("tenant %q exceeded its rate limit of %s requests per minute (plan %s); retry in %s, or raise the limit with `mockforged tenants set-quota %s --requests-per-minute N`",
		t.Name, limit, t.Plan, retry, t.Name)
	return withDetails(status.New(codes.ResourceExhausted, msg),
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)},
		&errdetails.ErrorInfo{Reason: ReasonRateLimited, Domain: errorDomain, Metadata: map[string]string{
			"quota": string(QuotaRequestsPerMinute), "retry_after": retry.String(),
		}},
	)
}

// errQuotaExceeded returns a ResourceExhausted error for quota. explanation
// states the usage and limit, and fix names the operator's next step.
func errQuotaExceeded(t Tenant, quota QuotaName, explanation, fix string) error {
	msg := fmt.Sprintf("tenant %q %s (plan %s); %s", t.Name, explanation, t.Plan, fix)
	return withDetails(status.New(codes.ResourceExhausted, msg),
		&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{
			Subject: "tenant:" + t.Name, Description: explanation,
		}}},
		&errdetails.ErrorInfo{Reason: ReasonQuotaExceeded, Domain: errorDomain, Metadata: map[string]string{
			"quota": string(quota),
		}},
	)
}

func withDetails(s *status.Status, details ...protoadapt.MessageV1) error {
	withDetails, err := s.WithDetails(details...)
	if err != nil {
		// WithDetails fails only for an OK status or a message it cannot
		// marshal (grpc-go 1.85, internal/status), and the callers here
		// pass neither.
		return s.Err()
	}
	return withDetails.Err()
}

// contextError converts a context error to its status error.
func contextError(err error) error {
	return status.FromContextError(err).Err()
}

// errStore wraps a failure of the store itself as an Internal status error.
// An error that already is a status error is returned unchanged.
func errStore(path string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return contextError(err)
	}
	return status.Errorf(codes.Internal, "tenant store %s: %v", path, err)
}

func isInternal(err error) bool {
	return status.Code(err) == codes.Internal
}
