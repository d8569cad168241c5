package tenantapi_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// rawCodec sends and receives messages as the bytes they are, so that a
// test can put arbitrary bytes on the wire where a request message goes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func tenantsMethods() []string {
	var methods []string
	for _, m := range apiv1.Tenants_ServiceDesc.Methods {
		methods = append(methods, "/"+apiv1.Tenants_ServiceDesc.ServiceName+"/"+m.MethodName)
	}
	return methods
}

// FuzzTenantsRequest sends arbitrary bytes as the request message of each
// Tenants method, once as an administrator and once with tenant alpha's
// token. Every response must carry a gRPC status, and no request made with
// alpha's token may change tenant beta.
func FuzzTenantsRequest(f *testing.F) {
	methods := tenantsMethods()
	seeds := []proto.Message{
		&apiv1.CreateTenantRequest{Name: "gamma", Plan: "starter"},
		&apiv1.GetTenantRequest{Name: "beta"},
		&apiv1.ChangePlanRequest{Name: "beta", Plan: "free"},
		&apiv1.SetQuotasRequest{Name: "alpha"},
		&apiv1.GrantPermissionRequest{Name: "beta", Permission: "use_ml_features"},
		&apiv1.DisableTenantRequest{Name: "beta"},
		&apiv1.CreateTokenRequest{Name: "beta", Description: strings.Repeat("x", 300)},
		&apiv1.RevokeTokenRequest{Name: "beta", TokenId: "../../x"},
	}
	for i := range methods {
		for _, msg := range seeds {
			body, err := proto.Marshal(msg)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(i, false, body)
			f.Add(i, true, body)
		}
	}

	adminConn := rawConn(f, filepath.Join(f.TempDir(), "admin.sock"), auth.DefaultAdminUIDs(), nil)
	tenantSocket := filepath.Join(f.TempDir(), "tenant.sock")
	var m *tenant.Manager
	tenantConn := rawConn(f, tenantSocket, []uint32{4242}, &m)
	ctx := context.Background()
	for _, name := range []string{"alpha", "beta"} {
		if _, err := m.Create(ctx, name, tenant.PlanStarter); err != nil {
			f.Fatal(err)
		}
	}
	token, _, err := m.CreateToken(ctx, "alpha", "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := m.CreateToken(ctx, "beta", "fuzz"); err != nil {
		f.Fatal(err)
	}
	tenantOpt := grpc.PerRPCCredentials(auth.BearerToken(token))

	f.Fuzz(func(t *testing.T, index int, asTenant bool, body []byte) {
		method := methods[uint(index)%uint(len(methods))]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var reply []byte
		if !asTenant {
			err := adminConn.Invoke(ctx, method, &body, &reply, grpc.ForceCodec(rawCodec{}))
			wantStatus(t, method, body, err)
			return
		}
		before, err := m.Get("beta")
		if err != nil {
			t.Fatal(err)
		}
		tokensBefore, _ := m.ListTokens("beta")
		err = tenantConn.Invoke(ctx, method, &body, &reply, grpc.ForceCodec(rawCodec{}), tenantOpt)
		wantStatus(t, method, body, err)
		after, _ := m.Get("beta")
		tokensAfter, _ := m.ListTokens("beta")
		if !reflect.DeepEqual(before, after) || len(tokensBefore) != len(tokensAfter) {
			t.Errorf("%s with %q and alpha's token changed beta: %+v, %d tokens, was %+v, %d tokens", method, body, after, len(tokensAfter), before, len(tokensBefore))
		}
	})
}

// rawConn serves the Tenants service on socket and returns a connection
// to it that sends raw bytes. When manager is not nil it receives the
// server's tenant store.
func rawConn(f *testing.F, socket string, adminUIDs []uint32, manager **tenant.Manager) *grpc.ClientConn {
	m := startServer(f, socket, adminUIDs, auth.SocketOptions{})
	if manager != nil {
		*manager = m
	}
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(auth.TransportCredentials()))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = conn.Close() })
	return conn
}

func wantStatus(t *testing.T, method string, body []byte, err error) {
	t.Helper()
	if code := status.Code(err); code == codes.Unknown {
		t.Errorf("%s with %q: the server returned an error without a gRPC status: %v", method, body, err)
	}
}
