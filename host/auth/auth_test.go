package auth_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/tenant"
)

// Metadata keys that make the test server's handler call ResolveTenant or
// RequireAdmin, as the daemon's handlers do.
const (
	tenantKey    = "x-test-tenant"
	adminOnlyKey = "x-test-admin-only"
)

// testServer is a gRPC server on a unix socket with the auth interceptors
// in front of the health service, recording the caller of every request.
type testServer struct {
	socket string
	logs   *syncBuffer

	mu      sync.Mutex
	callers []auth.Caller
}

func (s *testServer) lastCaller(t *testing.T) auth.Caller {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.callers) == 0 {
		t.Fatal("no request reached the handler")
	}
	return s.callers[len(s.callers)-1]
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startServer(t *testing.T, cfg auth.Config, socket string, opts auth.SocketOptions) *testServer {
	t.Helper()
	ts := &testServer{socket: socket, logs: &syncBuffer{}}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: ts.logs, Level: hclog.Info})
	a := auth.New(cfg)
	record := func(ctx context.Context) error {
		caller, ok := auth.CallerFrom(ctx)
		if !ok {
			return status.Error(codes.Internal, "no caller in context")
		}
		ts.mu.Lock()
		ts.callers = append(ts.callers, caller)
		ts.mu.Unlock()
		md, _ := metadata.FromIncomingContext(ctx)
		if v := md.Get(tenantKey); len(v) == 1 {
			if _, err := a.ResolveTenant(ctx, v[0]); err != nil {
				return err
			}
		}
		if len(md.Get(adminOnlyKey)) > 0 {
			return a.RequireAdmin(ctx)
		}
		return nil
	}
	srv := grpc.NewServer(
		grpc.Creds(auth.TransportCredentials()),
		grpc.ChainUnaryInterceptor(a.UnaryInterceptor(),
			func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				if err := record(ctx); err != nil {
					return nil, err
				}
				return h(ctx, req)
			}),
		grpc.ChainStreamInterceptor(a.StreamInterceptor(),
			func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				if err := record(ss.Context()); err != nil {
					return err
				}
				return h(srv, ss)
			}),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := auth.Listen(socket, opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return ts
}

func dial(t *testing.T, socket, token string) healthpb.HealthClient {
	t.Helper()
	conn, err := newConn(socket, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// newConn returns a client of the daemon's kind: peer credentials on a
// unix socket and, when token is set, a bearer token.
func newConn(socket, token string) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(auth.TransportCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.BearerToken(token)))
	}
	return grpc.NewClient("unix://"+socket, opts...)
}

func wantCode(t *testing.T, err error, want codes.Code) string {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code = %s, want %s (error: %v)", got, want, err)
	}
	return status.Convert(err).Message()
}

func withMetadata(kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), kv...)
}

// newTenants returns a tenant store with tenants "alpha" and "beta" and a
// token for each.
func newTenants(t *testing.T) (m *tenant.Manager, alphaToken, betaToken string) {
	t.Helper()
	m, err := tenant.Open(filepath.Join(t.TempDir(), tenant.StoreFileName), tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ctx := context.Background()
	for _, name := range []string{"alpha", "beta"} {
		if _, err := m.Create(ctx, name, tenant.PlanStarter); err != nil {
			t.Fatal(err)
		}
	}
	alphaToken, _, err = m.CreateToken(ctx, "alpha", "")
	if err != nil {
		t.Fatal(err)
	}
	betaToken, _, err = m.CreateToken(ctx, "beta", "")
	if err != nil {
		t.Fatal(err)
	}
	return m, alphaToken, betaToken
}

const checkMethod = "/grpc.health.v1.Health/Check"

func TestAdminCaller(t *testing.T) {
	m, alphaToken, _ := newTenants(t)
	socket := filepath.Join(t.TempDir(), "d.sock")
	ts := startServer(t, auth.Config{AdminUIDs: auth.DefaultAdminUIDs(), Tokens: m, DefaultTenant: "default"}, socket, auth.SocketOptions{})
	client := dial(t, socket, "")

	if _, err := client.Check(withMetadata(tenantKey, "beta", adminOnlyKey, "1"), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("admin acting as beta: %v", err)
	}
	c := ts.lastCaller(t)
	if !c.Admin || c.UID != uint32(os.Getuid()) || c.PID != int32(os.Getpid()) || c.Tenant != "" {
		t.Errorf("caller = %+v, want an admin with this process's uid and pid", c)
	}

	// An administrator's token must still be valid, and names its tenant.
	withToken := dial(t, socket, alphaToken)
	if _, err := withToken.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if c := ts.lastCaller(t); !c.Admin || c.Tenant != "alpha" || c.TokenID == "" {
		t.Errorf("caller = %+v, want an admin with tenant alpha", c)
	}
	_, err := dial(t, socket, "mft_wrong").Check(context.Background(), &healthpb.HealthCheckRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func TestResolveTenantForAdmin(t *testing.T) {
	m, _, _ := newTenants(t)
	a := auth.New(auth.Config{AdminUIDs: []uint32{7}, Tokens: m, DefaultTenant: "default"})
	ctx := auth.NewContext(context.Background(), auth.Caller{UID: 7, Admin: true})
	for requested, want := range map[string]string{"": "default", "beta": "beta"} {
		if got, err := a.ResolveTenant(ctx, requested); err != nil || got != want {
			t.Errorf("ResolveTenant(%q) = %q, %v; want %q", requested, got, err, want)
		}
	}
	noDefault := auth.New(auth.Config{Tokens: m})
	_, err := noDefault.ResolveTenant(ctx, "")
	wantCode(t, err, codes.InvalidArgument)
	_, err = a.ResolveTenant(context.Background(), "beta")
	wantCode(t, err, codes.Unauthenticated)
}

func TestTokenCaller(t *testing.T) {
	m, alphaToken, _ := newTenants(t)
	socket := filepath.Join(t.TempDir(), "d.sock")
	// uid 4242 is the only administrator, so this process is a plain user.
	ts := startServer(t, auth.Config{AdminUIDs: []uint32{4242}, Tokens: m, PublicMethods: []string{checkMethod}}, socket, auth.SocketOptions{})
	anonymous := dial(t, socket, "")
	alpha := dial(t, socket, alphaToken)
	req := &healthpb.HealthCheckRequest{}

	t.Run("anonymous on a public method", func(t *testing.T) {
		if _, err := anonymous.Check(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if c := ts.lastCaller(t); !c.Anonymous() || c.Admin {
			t.Errorf("caller = %+v, want anonymous", c)
		}
	})
	t.Run("anonymous on another method", func(t *testing.T) {
		stream, err := anonymous.Watch(context.Background(), req)
		if err == nil {
			_, err = stream.Recv()
		}
		msg := wantCode(t, err, codes.Unauthenticated)
		if !strings.Contains(msg, auth.EnvToken) {
			t.Errorf("message %q does not say how to pass a token", msg)
		}
	})
	t.Run("token on a stream", func(t *testing.T) {
		stream, err := alpha.Watch(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
		if c := ts.lastCaller(t); c.Tenant != "alpha" || c.Admin {
			t.Errorf("caller = %+v, want tenant alpha, not admin", c)
		}
	})
	t.Run("own tenant", func(t *testing.T) {
		if _, err := alpha.Check(withMetadata(tenantKey, "alpha"), req); err != nil {
			t.Fatal(err)
		}
		if _, err := alpha.Check(withMetadata(tenantKey, ""), req); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		_, err := alpha.Check(withMetadata(tenantKey, "beta"), req)
		msg := wantCode(t, err, codes.PermissionDenied)
		if !strings.Contains(msg, `"alpha"`) || !strings.Contains(msg, `"beta"`) {
			t.Errorf("message %q does not name both tenants", msg)
		}
		logs := ts.logs.String()
		if !strings.Contains(logs, "token used for another tenant") || !strings.Contains(logs, "uid=") {
			t.Errorf("refusal not logged with the uid:\n%s", logs)
		}
		if strings.Contains(logs, alphaToken) || strings.Contains(logs, alphaToken[len(tenant.TokenPrefix):]) {
			t.Error("the log contains the token")
		}
	})
	t.Run("admin only", func(t *testing.T) {
		_, err := alpha.Check(withMetadata(adminOnlyKey, "1"), req)
		wantCode(t, err, codes.PermissionDenied)
	})
	t.Run("forged token", func(t *testing.T) {
		_, err := dial(t, socket, "mft_forged").Check(context.Background(), req)
		wantCode(t, err, codes.Unauthenticated)
	})
	t.Run("malformed header", func(t *testing.T) {
		_, err := anonymous.Check(withMetadata(auth.MetadataKey, "Token abc"), req)
		wantCode(t, err, codes.Unauthenticated)
		_, err = anonymous.Check(withMetadata(auth.MetadataKey, "Bearer a", auth.MetadataKey, "Bearer b"), req)
		wantCode(t, err, codes.Unauthenticated)
	})
	t.Run("revoked token", func(t *testing.T) {
		tok, info, err := m.CreateToken(context.Background(), "beta", "")
		if err != nil {
			t.Fatal(err)
		}
		client := dial(t, socket, tok)
		if _, err := client.Check(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if err := m.RevokeToken(context.Background(), "beta", info.ID); err != nil {
			t.Fatal(err)
		}
		_, err = client.Check(context.Background(), req)
		wantCode(t, err, codes.Unauthenticated)
	})
}

func TestBearerTokenNeedsSecureTransport(t *testing.T) {
	m, alphaToken, _ := newTenants(t)
	socket := filepath.Join(t.TempDir(), "d.sock")
	startServer(t, auth.Config{AdminUIDs: auth.DefaultAdminUIDs(), Tokens: m}, socket, auth.SocketOptions{})
	conn, err := grpc.NewClient("unix://"+socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.BearerToken(alphaToken)))
	if err == nil {
		defer conn.Close()
		_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	}
	if err == nil || !strings.Contains(err.Error(), "transport level security") {
		t.Fatalf("error = %v, want a refusal to send the token without transport security", err)
	}
}

func TestServerWithoutPeerCredentials(t *testing.T) {
	m, _, _ := newTenants(t)
	a := auth.New(auth.Config{AdminUIDs: auth.DefaultAdminUIDs(), Tokens: m})
	srv := grpc.NewServer(grpc.UnaryInterceptor(a.UnaryInterceptor()))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	socket := filepath.Join(t.TempDir(), "plain.sock")
	lis, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	wantCode(t, err, codes.Unauthenticated)
}
