package tenantapi_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/tenant"
	"github.com/mockforge/mockforged/host/tenantapi"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// startServer serves the Tenants service on a unix socket at socket, the way
// the daemon does, and returns the tenant store behind it.
func startServer(t testing.TB, socket string, adminUIDs []uint32, opts auth.SocketOptions) *tenant.Manager {
	t.Helper()
	m, err := tenant.Open(filepath.Join(t.TempDir(), tenant.StoreFileName), tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	a := auth.New(auth.Config{
		AdminUIDs: adminUIDs,
		Tokens:    m,
		Logger:    hclog.New(&hclog.LoggerOptions{Output: hclog.DefaultOutput, Level: hclog.Error}),
		PublicMethods: []string{
			apiv1.Tenants_ListPlans_FullMethodName,
		},
	})
	srv := grpc.NewServer(
		grpc.Creds(auth.TransportCredentials()),
		grpc.ChainUnaryInterceptor(a.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(a.StreamInterceptor()),
	)
	apiv1.RegisterTenantsServer(srv, tenantapi.New(m, a))
	lis, err := auth.Listen(socket, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return m
}

func newClient(socket, token string) (apiv1.TenantsClient, *grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(auth.TransportCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.BearerToken(token)))
	}
	conn, err := grpc.NewClient("unix://"+socket, opts...)
	if err != nil {
		return nil, nil, err
	}
	return apiv1.NewTenantsClient(conn), conn, nil
}

func dial(t *testing.T, socket, token string) apiv1.TenantsClient {
	t.Helper()
	client, conn, err := newClient(socket, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return client
}

func wantCode(t *testing.T, err error, want codes.Code) string {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code = %s, want %s (error: %v)", got, want, err)
	}
	return status.Convert(err).Message()
}

func limitMax(n int64) *apiv1.Limit { return &apiv1.Limit{Kind: &apiv1.Limit_Max{Max: n}} }

func unlimited() *apiv1.Limit { return &apiv1.Limit{Kind: &apiv1.Limit_Unlimited{Unlimited: true}} }

func TestAdminManagesTenants(t *testing.T) {
	ctx := context.Background()
	socket := filepath.Join(t.TempDir(), "api.sock")
	m := startServer(t, socket, auth.DefaultAdminUIDs(), auth.SocketOptions{})
	c := dial(t, socket, "")

	plans, err := c.ListPlans(ctx, &apiv1.ListPlansRequest{})
	if err != nil || len(plans.Plans) != 4 || plans.Plans[3].Name != "enterprise" || !plans.Plans[3].Quotas.Scenarios.GetUnlimited() {
		t.Fatalf("ListPlans = %v, %v", plans, err)
	}

	created, err := c.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: "acme", Plan: "professional"})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if created.Tenant.Quotas.ConcurrentExecutions.GetMax() != 20 || created.Tenant.Disabled {
		t.Errorf("created = %v", created.Tenant)
	}
	_, err = c.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: "acme", Plan: "free"})
	wantCode(t, err, codes.AlreadyExists)
	_, err = c.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: "x", Plan: "gold"})
	wantCode(t, err, codes.InvalidArgument)
	if _, err := c.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: "beta", Plan: "free"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListTenants(ctx, &apiv1.ListTenantsRequest{})
	if err != nil || len(list.Tenants) != 2 || list.Tenants[0].Name != "acme" {
		t.Errorf("ListTenants = %v, %v", list, err)
	}

	for range 8 {
		if _, err := m.AddScenario(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	changed, err := c.ChangePlan(ctx, &apiv1.ChangePlanRequest{Name: "acme", Plan: "free"})
	if err != nil {
		t.Fatalf("ChangePlan: %v", err)
	}
	if len(changed.Exceeded) != 1 || changed.Exceeded[0].Quota != apiv1.Quota_QUOTA_SCENARIOS ||
		changed.Exceeded[0].Usage != 8 || changed.Exceeded[0].Limit.GetMax() != 5 {
		t.Errorf("exceeded = %v, want scenarios 8 over 5", changed.Exceeded)
	}

	set, err := c.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: "acme", Set: &apiv1.Quotas{
		Scenarios:   unlimited(),
		Users:       limitMax(3),
		MaxDuration: &apiv1.DurationLimit{Kind: &apiv1.DurationLimit_Max{Max: durationpb.New(2 * time.Hour)}},
	}})
	if err != nil {
		t.Fatalf("SetQuotas: %v", err)
	}
	q := set.Tenant.Quotas
	if !q.Scenarios.GetUnlimited() || q.Users.GetMax() != 3 || q.MaxDuration.GetMax().AsDuration() != 2*time.Hour || len(set.Exceeded) != 0 {
		t.Errorf("quotas after SetQuotas = %v, exceeded %v", q, set.Exceeded)
	}
	if set.Tenant.Overrides.ConcurrentExecutions != nil || set.Tenant.Overrides.Users.GetMax() != 3 {
		t.Errorf("overrides = %v, want users only among those", set.Tenant.Overrides)
	}
	reset, err := c.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: "acme", ResetQuotas: []apiv1.Quota{apiv1.Quota_QUOTA_USERS}})
	if err != nil || reset.Tenant.Quotas.Users.GetMax() != 1 {
		t.Errorf("after reset, users = %v, %v; want the plan's 1", reset.GetTenant().GetQuotas().GetUsers(), err)
	}
	_, err = c.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: "acme", Set: &apiv1.Quotas{Users: &apiv1.Limit{}}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: "acme", Set: &apiv1.Quotas{Users: limitMax(-2)}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: "acme", ResetQuotas: []apiv1.Quota{apiv1.Quota_QUOTA_UNSPECIFIED}})
	wantCode(t, err, codes.InvalidArgument)

	granted, err := c.GrantPermission(ctx, &apiv1.GrantPermissionRequest{Name: "acme", Permission: "use_ml_features"})
	if err != nil || !slices.Contains(granted.Tenant.Permissions, "use_ml_features") || !slices.Equal(granted.Tenant.GrantedPermissions, []string{"use_ml_features"}) {
		t.Errorf("GrantPermission = %v, %v", granted.GetTenant(), err)
	}
	_, err = c.GrantPermission(ctx, &apiv1.GrantPermissionRequest{Name: "acme", Permission: "custom_thing"})
	wantCode(t, err, codes.FailedPrecondition)
	revoked, err := c.RevokePermission(ctx, &apiv1.RevokePermissionRequest{Name: "acme", Permission: "use_ml_features"})
	if err != nil || len(revoked.Tenant.GrantedPermissions) != 0 {
		t.Errorf("RevokePermission = %v, %v", revoked.GetTenant(), err)
	}

	disabled, err := c.DisableTenant(ctx, &apiv1.DisableTenantRequest{Name: "acme"})
	if err != nil || !disabled.Tenant.Disabled {
		t.Errorf("DisableTenant = %v, %v", disabled.GetTenant(), err)
	}
	enabled, err := c.EnableTenant(ctx, &apiv1.EnableTenantRequest{Name: "acme"})
	if err != nil || enabled.Tenant.Disabled {
		t.Errorf("EnableTenant = %v, %v", enabled.GetTenant(), err)
	}

	token, err := c.CreateToken(ctx, &apiv1.CreateTokenRequest{Name: "acme", Description: "laptop"})
	if err != nil || !strings.HasPrefix(token.Token, tenant.TokenPrefix) || token.Info.Description != "laptop" {
		t.Fatalf("CreateToken = %v, %v", token, err)
	}
	_, err = c.CreateToken(ctx, &apiv1.CreateTokenRequest{Name: "acme"})
	wantCode(t, err, codes.ResourceExhausted)
	tokens, err := c.ListTokens(ctx, &apiv1.ListTokensRequest{Name: "acme"})
	if err != nil || len(tokens.Tokens) != 1 || tokens.Tokens[0].Id != token.Info.Id {
		t.Errorf("ListTokens = %v, %v", tokens, err)
	}
	if strings.Contains(tokens.String(), token.Token) {
		t.Error("ListTokens returns the token")
	}

	usage, err := c.GetUsage(ctx, &apiv1.GetUsageRequest{Name: "acme"})
	if err != nil || usage.Usage.Scenarios != 8 || usage.Usage.Tokens != 1 || len(usage.Usage.Exceeded) != 0 {
		t.Errorf("GetUsage = %v, %v", usage.GetUsage(), err)
	}
	if _, err := c.RevokeToken(ctx, &apiv1.RevokeTokenRequest{Name: "acme", TokenId: token.Info.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RevokeToken(ctx, &apiv1.RevokeTokenRequest{Name: "acme", TokenId: token.Info.Id})
	wantCode(t, err, codes.NotFound)

	got, err := c.GetTenant(ctx, &apiv1.GetTenantRequest{Name: "beta"})
	if err != nil || got.Tenant.Name != "beta" || got.Tenant.CreatedAt.AsTime().IsZero() {
		t.Errorf("GetTenant(beta) = %v, %v", got.GetTenant(), err)
	}
	_, err = c.GetTenant(ctx, &apiv1.GetTenantRequest{})
	wantCode(t, err, codes.InvalidArgument)
	_, err = c.GetTenant(ctx, &apiv1.GetTenantRequest{Name: "ghost"})
	wantCode(t, err, codes.NotFound)
}

// TestTokenCallerAccess runs as a plain user in-process: uid 4242 is the
// only administrator, so this process's requests need a token.
func TestTokenCallerAccess(t *testing.T) {
	ctx := context.Background()
	socket := filepath.Join(t.TempDir(), "api.sock")
	m := startServer(t, socket, []uint32{4242}, auth.SocketOptions{})
	for _, name := range []string{"alpha", "beta"} {
		if _, err := m.Create(ctx, name, tenant.PlanStarter); err != nil {
			t.Fatal(err)
		}
	}
	alphaToken, _, err := m.CreateToken(ctx, "alpha", "")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, socket, alphaToken)

	if _, err := c.ListPlans(ctx, &apiv1.ListPlansRequest{}); err != nil {
		t.Errorf("ListPlans: %v", err)
	}
	own, err := c.GetTenant(ctx, &apiv1.GetTenantRequest{})
	if err != nil || own.Tenant.Name != "alpha" {
		t.Errorf("GetTenant() = %v, %v; want alpha", own.GetTenant(), err)
	}
	if _, err := c.GetUsage(ctx, &apiv1.GetUsageRequest{Name: "alpha"}); err != nil {
		t.Errorf("GetUsage(alpha): %v", err)
	}
	_, err = c.GetTenant(ctx, &apiv1.GetTenantRequest{Name: "beta"})
	wantCode(t, err, codes.PermissionDenied)
	_, err = c.GetUsage(ctx, &apiv1.GetUsageRequest{Name: "beta"})
	wantCode(t, err, codes.PermissionDenied)

	adminOnly := map[string]func() error{
		"CreateTenant": func() error {
			_, err := c.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: "gamma", Plan: "free"})
			return err
		},
		"ListTenants": func() error { _, err := c.ListTenants(ctx, &apiv1.ListTenantsRequest{}); return err },
		"ChangePlan (own)": func() error {
			_, err := c.ChangePlan(ctx, &apiv1.ChangePlanRequest{Name: "alpha", Plan: "enterprise"})
			return err
		},
		"SetQuotas (own)": func() error {
			_, err := c.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: "alpha", Set: &apiv1.Quotas{Users: unlimited()}})
			return err
		},
		"GrantPermission (own)": func() error {
			_, err := c.GrantPermission(ctx, &apiv1.GrantPermissionRequest{Name: "alpha", Permission: "use_ml_features"})
			return err
		},
		"RevokePermission": func() error {
			_, err := c.RevokePermission(ctx, &apiv1.RevokePermissionRequest{Name: "alpha", Permission: "use_ml_features"})
			return err
		},
		"DisableTenant (other)": func() error {
			_, err := c.DisableTenant(ctx, &apiv1.DisableTenantRequest{Name: "beta"})
			return err
		},
		"EnableTenant": func() error {
			_, err := c.EnableTenant(ctx, &apiv1.EnableTenantRequest{Name: "alpha"})
			return err
		},
		"CreateToken (own)": func() error {
			_, err := c.CreateToken(ctx, &apiv1.CreateTokenRequest{Name: "alpha"})
			return err
		},
		"ListTokens (own)": func() error {
			_, err := c.ListTokens(ctx, &apiv1.ListTokensRequest{Name: "alpha"})
			return err
		},
		"RevokeToken": func() error {
			_, err := c.RevokeToken(ctx, &apiv1.RevokeTokenRequest{Name: "alpha", TokenId: "x"})
			return err
		},
	}
	for name, call := range adminOnly {
		t.Run(name, func(t *testing.T) {
			msg := wantCode(t, call(), codes.PermissionDenied)
			if !strings.Contains(msg, "administrators") {
				t.Errorf("message %q does not say the method is for administrators", msg)
			}
		})
	}
	if got, _ := m.Get("alpha"); got.Plan != tenant.PlanStarter {
		t.Errorf("a refused request changed the tenant: %+v", got)
	}

	t.Run("disabled tenant reads its own record", func(t *testing.T) {
		if _, err := m.SetDisabled(ctx, "alpha", true); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetTenant(ctx, &apiv1.GetTenantRequest{})
		if err != nil || !got.Tenant.Disabled {
			t.Errorf("GetTenant of the disabled own tenant = %v, %v", got.GetTenant(), err)
		}
		if _, err := c.GetUsage(ctx, &apiv1.GetUsageRequest{}); err != nil {
			t.Errorf("GetUsage of the disabled own tenant: %v", err)
		}
	})
	t.Run("without token", func(t *testing.T) {
		anonymous := dial(t, socket, "")
		if _, err := anonymous.ListPlans(ctx, &apiv1.ListPlansRequest{}); err != nil {
			t.Errorf("ListPlans is public, got %v", err)
		}
		_, err := anonymous.GetTenant(ctx, &apiv1.GetTenantRequest{Name: "alpha"})
		wantCode(t, err, codes.Unauthenticated)
	})
}
