// Package tenantapi serves the Tenants gRPC service (proto/api/v1) on top
// of the tenant store and the caller that the auth interceptors resolved.
// Administrators may call every method. A token caller may list the plans
// and read its own tenant and usage, even while the tenant is disabled, and
// nothing else.
package tenantapi

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Server implements apiv1.TenantsServer. Register it with
// apiv1.RegisterTenantsServer on a gRPC server whose interceptors come from
// the same auth.Authenticator.
type Server struct {
	apiv1.UnimplementedTenantsServer
	tenants *tenant.Manager
	auth    *auth.Authenticator
}

var _ apiv1.TenantsServer = (*Server)(nil)

// New returns a Server that manages the tenants of m and checks callers
// with a.
func New(m *tenant.Manager, a *auth.Authenticator) *Server {
	return &Server{tenants: m, auth: a}
}

// readableTenant returns the tenant a read request is about. An
// administrator must name it; a token caller gets its own tenant and may
// name no other.
func (s *Server) readableTenant(ctx context.Context, name string) (string, error) {
	caller, ok := auth.CallerFrom(ctx)
	if !ok {
		return "", status.Error(codes.Unauthenticated, "the request carries no caller; install the auth interceptors on the server")
	}
	if caller.Admin && name == "" {
		return "", status.Error(codes.InvalidArgument, "the tenant name is empty; pass the name of a tenant")
	}
	return s.auth.ResolveTenant(ctx, name)
}

func invalid(err error) error {
	return status.Error(codes.InvalidArgument, err.Error())
}

// ListPlans returns the plan table to any caller.
func (s *Server) ListPlans(context.Context, *apiv1.ListPlansRequest) (*apiv1.ListPlansResponse, error) {
	plans := tenant.Plans()
	out := make([]*apiv1.Plan, len(plans))
	for i, p := range plans {
		out[i] = planToProto(p)
	}
	return &apiv1.ListPlansResponse{Plans: out}, nil
}

// CreateTenant creates a tenant; administrators only.
func (s *Server) CreateTenant(ctx context.Context, req *apiv1.CreateTenantRequest) (*apiv1.CreateTenantResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	t, err := s.tenants.Create(ctx, req.Name, tenant.Plan(req.Plan))
	if err != nil {
		return nil, err
	}
	return &apiv1.CreateTenantResponse{Tenant: tenantToProto(t)}, nil
}

// ListTenants returns every tenant; administrators only.
func (s *Server) ListTenants(ctx context.Context, _ *apiv1.ListTenantsRequest) (*apiv1.ListTenantsResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	list := s.tenants.List()
	out := make([]*apiv1.Tenant, len(list))
	for i, t := range list {
		out[i] = tenantToProto(t)
	}
	return &apiv1.ListTenantsResponse{Tenants: out}, nil
}

// GetTenant returns one tenant to an administrator, or a token caller's own.
func (s *Server) GetTenant(ctx context.Context, req *apiv1.GetTenantRequest) (*apiv1.GetTenantResponse, error) {
	name, err := s.readableTenant(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	t, err := s.tenants.Get(name)
	if err != nil {
		return nil, err
	}
	return &apiv1.GetTenantResponse{Tenant: tenantToProto(t)}, nil
}

// GetUsage returns one tenant's usage to an administrator, or a token
// caller's own.
func (s *Server) GetUsage(ctx context.Context, req *apiv1.GetUsageRequest) (*apiv1.GetUsageResponse, error) {
	name, err := s.readableTenant(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	u, err := s.tenants.Usage(name)
	if err != nil {
		return nil, err
	}
	return &apiv1.GetUsageResponse{Usage: usageToProto(u)}, nil
}

// ChangePlan moves a tenant to another plan; administrators only.
func (s *Server) ChangePlan(ctx context.Context, req *apiv1.ChangePlanRequest) (*apiv1.ChangePlanResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	t, exceeded, err := s.tenants.ChangePlan(ctx, req.Name, tenant.Plan(req.Plan))
	if err != nil {
		return nil, err
	}
	return &apiv1.ChangePlanResponse{Tenant: tenantToProto(t), Exceeded: exceededToProto(exceeded)}, nil
}

// SetQuotas overrides or resets quotas; administrators only.
func (s *Server) SetQuotas(ctx context.Context, req *apiv1.SetQuotasRequest) (*apiv1.SetQuotasResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	set, err := overridesFromProto(req.Set)
	if err != nil {
		return nil, invalid(err)
	}
	reset, err := quotaNamesFromProto(req.ResetQuotas)
	if err != nil {
		return nil, invalid(err)
	}
	t, exceeded, err := s.tenants.SetQuotas(ctx, req.Name, set, reset)
	if err != nil {
		return nil, err
	}
	return &apiv1.SetQuotasResponse{Tenant: tenantToProto(t), Exceeded: exceededToProto(exceeded)}, nil
}

// GrantPermission grants a permission; administrators only.
func (s *Server) GrantPermission(ctx context.Context, req *apiv1.GrantPermissionRequest) (*apiv1.GrantPermissionResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	t, err := s.tenants.Grant(ctx, req.Name, tenant.Permission(req.Permission))
	if err != nil {
		return nil, err
	}
	return &apiv1.GrantPermissionResponse{Tenant: tenantToProto(t)}, nil
}

// RevokePermission revokes a granted permission; administrators only.
func (s *Server) RevokePermission(ctx context.Context, req *apiv1.RevokePermissionRequest) (*apiv1.RevokePermissionResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	t, err := s.tenants.Revoke(ctx, req.Name, tenant.Permission(req.Permission))
	if err != nil {
		return nil, err
	}
	return &apiv1.RevokePermissionResponse{Tenant: tenantToProto(t)}, nil
}

// DisableTenant disables a tenant; administrators only.
func (s *Server) DisableTenant(ctx context.Context, req *apiv1.DisableTenantRequest) (*apiv1.DisableTenantResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	t, err := s.tenants.SetDisabled(ctx, req.Name, true)
	if err != nil {
		return nil, err
	}
	return &apiv1.DisableTenantResponse{Tenant: tenantToProto(t)}, nil
}

// EnableTenant enables a tenant; administrators only.
func (s *Server) EnableTenant(ctx context.Context, req *apiv1.EnableTenantRequest) (*apiv1.EnableTenantResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	t, err := s.tenants.SetDisabled(ctx, req.Name, false)
	if err != nil {
		return nil, err
	}
	return &apiv1.EnableTenantResponse{Tenant: tenantToProto(t)}, nil
}

// CreateToken creates a token; administrators only.
func (s *Server) CreateToken(ctx context.Context, req *apiv1.CreateTokenRequest) (*apiv1.CreateTokenResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	token, info, err := s.tenants.CreateToken(ctx, req.Name, req.Description)
	if err != nil {
		return nil, err
	}
	return &apiv1.CreateTokenResponse{Info: tokenInfoToProto(info), Token: token}, nil
}

// ListTokens lists a tenant's tokens; administrators only.
func (s *Server) ListTokens(ctx context.Context, req *apiv1.ListTokensRequest) (*apiv1.ListTokensResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	tokens, err := s.tenants.ListTokens(req.Name)
	if err != nil {
		return nil, err
	}
	out := make([]*apiv1.TokenInfo, len(tokens))
	for i, info := range tokens {
		out[i] = tokenInfoToProto(info)
	}
	return &apiv1.ListTokensResponse{Tokens: out}, nil
}

// RevokeToken revokes a token; administrators only.
func (s *Server) RevokeToken(ctx context.Context, req *apiv1.RevokeTokenRequest) (*apiv1.RevokeTokenResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := s.tenants.RevokeToken(ctx, req.Name, req.TokenId); err != nil {
		return nil, err
	}
	return &apiv1.RevokeTokenResponse{}, nil
}
