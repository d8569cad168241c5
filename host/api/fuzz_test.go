package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mockforge/mockforged/host/api"
	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk"
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

// tenantGate adapts the tenant manager to api.Admitter as the daemon does.
type tenantGate struct{ *tenant.Manager }

func (g tenantGate) MaxDuration(tenantID string) (time.Duration, bool, error) {
	limit, err := g.Manager.MaxDuration(tenantID)
	if err != nil {
		return 0, false, err
	}
	return limit.Max(), !limit.IsUnlimited(), nil
}

// apiFixture is the Daemon service with a real registry serving one real
// plugin process (the example plugin, id db-fault-simulator), on a unix
// socket.
type apiFixture struct {
	conn    *grpc.ClientConn
	dataDir string
	reg     *registry.Registry
}

// startAPI builds the example plugin and serves the Daemon service the way
// host/daemon wires it. It skips when the go command is missing.
func startAPI(tb testing.TB) *apiFixture {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("the go command builds the plugin for this test: %v", err)
	}
	root := tb.TempDir()
	plugin := filepath.Join(root, "plugins.d", "db-fault-simulator")
	build := exec.Command(goBin, "build", "-o", plugin, "github.com/mockforge/mockforged/examples/dbfault-sim")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build the example plugin: %v\n%s", err, out)
	}

	dataDir := filepath.Join(root, "data")
	binaries, err := pluginfile.OpenStore(filepath.Join(dataDir, "bin"))
	if err != nil {
		tb.Fatal(err)
	}
	configs, err := pluginconfig.OpenStore(filepath.Join(dataDir, "configs"))
	if err != nil {
		tb.Fatal(err)
	}
	tenants, err := tenant.Open(filepath.Join(dataDir, tenant.StoreFileName), tenant.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tenants.Close() })
	if _, err := tenants.Create(context.Background(), tenant.DefaultTenant, tenant.PlanEnterprise); err != nil {
		tb.Fatal(err)
	}

	log := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Error})
	reg := registry.New(registry.Options{
		Binaries:     binaries,
		Configs:      configs,
		Logger:       log,
		StartTimeout: 30 * time.Second,
		Storage:      tenants.NewStorageServer,
	})
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		reg.Shutdown(ctx)
	})
	authn := auth.New(auth.Config{
		AdminUIDs:     auth.DefaultAdminUIDs(),
		Tokens:        tenants,
		Logger:        log,
		DefaultTenant: tenant.DefaultTenant,
	})
	server := grpc.NewServer(
		grpc.Creds(auth.TransportCredentials()),
		grpc.MaxRecvMsgSize(sdk.MaxMessageBytes),
		grpc.ChainUnaryInterceptor(authn.UnaryInterceptor()),
	)
	apiv1.RegisterDaemonServer(server, api.NewServer(reg, api.Info{Version: "fuzz", StartedAt: time.Now(), DataDir: dataDir},
		time.Second, authn, tenantGate{tenants}, log))
	socket := filepath.Join(root, "api.sock")
	listener, err := auth.Listen(socket, auth.SocketOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = server.Serve(listener) }()
	tb.Cleanup(server.Stop)

	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(auth.TransportCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })

	reg.FileChanged(plugin)
	deadline := time.Now().Add(60 * time.Second)
	for !running(reg, "db-fault-simulator") {
		if time.Now().After(deadline) {
			tb.Fatalf("the example plugin is not running after 60s: %+v", reg.List())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &apiFixture{conn: conn, dataDir: dataDir, reg: reg}
}

func running(reg *registry.Registry, id string) bool {
	for _, snap := range reg.List() {
		if snap.ID == id && snap.State == registry.Running {
			return true
		}
	}
	return false
}

// invokeRaw calls method with body as the encoded request message.
func (f *apiFixture) invokeRaw(ctx context.Context, method string, body []byte) error {
	var reply []byte
	return f.conn.Invoke(ctx, method, &body, &reply, grpc.ForceCodec(rawCodec{}))
}

// daemonMethods lists every unary method of the Daemon service.
func daemonMethods() []string {
	var methods []string
	for _, m := range apiv1.Daemon_ServiceDesc.Methods {
		methods = append(methods, "/"+apiv1.Daemon_ServiceDesc.ServiceName+"/"+m.MethodName)
	}
	return methods
}

// FuzzDaemonRequest sends arbitrary bytes as the request message of each
// Daemon method to a real server and registry. The server must respond to
// every request with a status, keep the plugin running, and create no file
// outside its data directory's own layout.
func FuzzDaemonRequest(f *testing.F) {
	methods := daemonMethods()
	seeds := map[string][]proto.Message{
		"Status":         {&apiv1.StatusRequest{}},
		"ListPlugins":    {&apiv1.ListPluginsRequest{}},
		"DescribePlugin": {&apiv1.DescribePluginRequest{Id: "db-fault-simulator"}, &apiv1.DescribePluginRequest{Id: "../../escape"}},
		"ConfigurePlugin": {
			&apiv1.ConfigurePluginRequest{Id: "db-fault-simulator", ConfigJson: []byte(`{"default_timeout_ms": 200}`)},
			&apiv1.ConfigurePluginRequest{Id: "../configs/x", ConfigJson: []byte(`{}`)},
		},
		"ReloadPlugins": {&apiv1.ReloadPluginsRequest{Id: "db-fault-simulator"}, &apiv1.ReloadPluginsRequest{Id: "/etc/passwd"}},
		"Execute": {
			&apiv1.ExecuteRequest{PluginId: "db-fault-simulator", ParametersJson: []byte(`{"fault_type":"slow_query","latency_ms":1}`)},
			&apiv1.ExecuteRequest{PluginId: "db-fault-simulator", TenantId: "../other", Timeout: durationpb.New(-time.Second)},
		},
	}
	for i, method := range methods {
		for _, msg := range seeds[method[strings.LastIndex(method, "/")+1:]] {
			body, err := proto.Marshal(msg)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(i, body)
		}
		f.Add(i, []byte("\xff\xff"))
	}

	fx := startAPI(f)
	f.Fuzz(func(t *testing.T, index int, body []byte) {
		method := methods[uint(index)%uint(len(methods))]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := fx.invokeRaw(ctx, method, body)
		if code := status.Code(err); code == codes.Unknown {
			t.Errorf("%s with %q: the server returned an error without a gRPC status: %v", method, body, err)
		}
		if !running(fx.reg, "db-fault-simulator") {
			t.Errorf("%s with %q: the plugin is no longer running: %+v", method, body, fx.reg.List())
		}
		if escaped := filesOutside(t, fx.dataDir); escaped != "" {
			t.Fatalf("%s with %q created %s outside the data directory's layout", method, body, escaped)
		}
	})
}

// filesOutside returns a path in the data directory's parent that the
// daemon does not create, or "".
func filesOutside(t *testing.T, dataDir string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "data", "plugins.d", "api.sock":
		default:
			return e.Name()
		}
	}
	entries, err = os.ReadDir(filepath.Join(dataDir, "configs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			return filepath.Join("configs", e.Name())
		}
	}
	return ""
}

// TestPluginIDsFromRequestsStayInDataDir sends plugin and tenant ids that
// would name paths outside the data directory. Each must be rejected, and
// no file may appear outside the data directory's own layout.
func TestPluginIDsFromRequestsStayInDataDir(t *testing.T) {
	fx := startAPI(t)
	client := apiv1.NewDaemonClient(fx.conn)
	ids := []string{"../escape", "../../etc/passwd", "/etc/passwd", "configs/../../x", "..", ".", "a/b", "a\x00b", "db-fault-simulator/../x"}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := client.DescribePlugin(ctx, &apiv1.DescribePluginRequest{Id: id})
			wantRejected(t, "DescribePlugin", err)
			_, err = client.ConfigurePlugin(ctx, &apiv1.ConfigurePluginRequest{Id: id, ConfigJson: []byte(`{}`)})
			wantRejected(t, "ConfigurePlugin", err)
			_, err = client.ReloadPlugins(ctx, &apiv1.ReloadPluginsRequest{Id: id})
			wantRejected(t, "ReloadPlugins", err)
			_, err = client.Execute(ctx, &apiv1.ExecuteRequest{PluginId: id})
			wantRejected(t, "Execute", err)
			_, err = client.Execute(ctx, &apiv1.ExecuteRequest{PluginId: "db-fault-simulator", TenantId: id})
			wantRejected(t, "Execute as tenant", err)
			if escaped := filesOutside(t, fx.dataDir); escaped != "" {
				t.Errorf("id %q created %s", id, escaped)
			}
		})
	}
}

func wantRejected(t *testing.T, method string, err error) {
	t.Helper()
	switch code := status.Code(err); code {
	case codes.NotFound, codes.InvalidArgument, codes.PermissionDenied:
	default:
		t.Errorf("%s: code %s (%v), want NotFound, InvalidArgument or PermissionDenied", method, code, err)
	}
}
