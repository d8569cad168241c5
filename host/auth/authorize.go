package auth

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ResolveTenant returns the tenant the request in ctx acts as. An
// administrator may name any tenant and gets Config.DefaultTenant when it
// names none, or the tenant of its token when it presents one. A token
// holder gets its token's tenant when it names none,
// and PermissionDenied when it names another. That refusal is logged with
// the caller's uid and the token's ID, never with the token.
func (a *Authenticator) ResolveTenant(ctx context.Context, requested string) (string, error) {
	caller, ok := CallerFrom(ctx)
	if !ok {
		return "", errNoCaller()
	}
	switch {
	case caller.Admin && requested != "":
		return requested, nil
	case caller.Admin && caller.Tenant != "":
		// An administrator who presents a token acts as its tenant, so that
		// trying a tenant's token shows what the tenant may do.
		return caller.Tenant, nil
	case caller.Admin && a.cfg.DefaultTenant != "":
		return a.cfg.DefaultTenant, nil
	case caller.Admin:
		return "", status.Error(codes.InvalidArgument, "no tenant named; pass --tenant NAME")
	case caller.Tenant == "":
		return "", status.Errorf(codes.Unauthenticated,
			"uid %d sent no tenant token; pass one with --token or the %s environment variable", caller.UID, EnvToken)
	case requested == "" || requested == caller.Tenant:
		return caller.Tenant, nil
	}
	method, _ := grpc.Method(ctx)
	a.refusal.warn(a.log, "request rejected: token used for another tenant",
		"uid", caller.UID, "pid", caller.PID, "token_tenant", caller.Tenant, "token_id", caller.TokenID,
		"requested_tenant", requested, "method", method)
	return "", status.Errorf(codes.PermissionDenied,
		"the token belongs to tenant %q and cannot act as tenant %q; use a token of %q, or omit --tenant",
		caller.Tenant, requested, requested)
}

// RequireAdmin returns PermissionDenied unless the request in ctx comes from
// an administrator. The refusal is logged with the caller's uid.
func (a *Authenticator) RequireAdmin(ctx context.Context) error {
	caller, ok := CallerFrom(ctx)
	if !ok {
		return errNoCaller()
	}
	if caller.Admin {
		return nil
	}
	method, _ := grpc.Method(ctx)
	a.refusal.warn(a.log, "request rejected: administrators only", "uid", caller.UID, "pid", caller.PID,
		"token_tenant", caller.Tenant, "method", method)
	return status.Errorf(codes.PermissionDenied,
		"this operation is for administrators of the daemon (its own uid or root), and uid %d is neither", caller.UID)
}

func errNoCaller() error {
	return status.Error(codes.Unauthenticated,
		"the request carries no caller; install the auth interceptors on the server")
}
