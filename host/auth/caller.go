package auth

import "context"

// Caller is the identity behind one request, as the interceptors resolve
// it.
type Caller struct {
	// UID, GID and PID identify the calling process.
	UID uint32
	GID uint32
	PID int32
	// Admin is true for the daemon's own uid and root. Administrators
	// manage tenants and may act as any tenant.
	Admin bool
	// Tenant is the tenant the caller's token acts as; empty without one.
	Tenant string
	// TokenID identifies the token, which is never kept here; empty
	// without one.
	TokenID string
}

// Anonymous reports whether the caller is neither an administrator nor the
// holder of a token. Such callers reach only the public methods.
func (c Caller) Anonymous() bool {
	return !c.Admin && c.Tenant == ""
}

type callerKey struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller that the interceptors stored in ctx. ok is
// false when the request did not pass through them.
func CallerFrom(ctx context.Context) (c Caller, ok bool) {
	c, ok = ctx.Value(callerKey{}).(Caller)
	return c, ok
}
