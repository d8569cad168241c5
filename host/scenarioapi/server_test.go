package scenarioapi_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/scenarioapi"
	"github.com/mockforge/mockforged/host/scenariorun"
	"github.com/mockforge/mockforged/host/scenariostore"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// echoExecutor stands in for the registry in these API tests: plugin "sim"
// succeeds at once and returns its parameters as data. The scenariorun and
// end-to-end tests run real plugins.
type echoExecutor struct{}

func (echoExecutor) Capabilities(id string) ([]string, error) {
	if id != "sim" {
		return nil, status.Errorf(codes.NotFound, "plugin %q not found", id)
	}
	return []string{"observability"}, nil
}

func (echoExecutor) Execute(_ context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error) {
	return &registry.Result{PluginID: id, PluginVersion: "1.0.0",
		Response: &pluginv1.ExecuteResponse{Success: true, Message: "ok", DataJson: req.ParametersJson}}, nil
}

// unusedUID is an administrator uid no test process runs as, so that every
// caller of the token socket needs a token.
const unusedUID = math.MaxUint32 - 1

// fixture is the Scenarios service served on two unix sockets over one
// tenant store: on admin, the test's uid is an administrator; on tokens,
// it must present a tenant token, as another user of the daemon would.
type fixture struct {
	tenants *tenant.Manager
	admin   string
	tokens  string
}

func startServer(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	m, err := tenant.Open(filepath.Join(dir, tenant.StoreFileName), tenant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	store := scenariostore.New(m)
	logger := hclog.New(&hclog.LoggerOptions{Output: hclog.DefaultOutput, Level: hclog.Error})
	runner := scenariorun.New(scenariorun.Options{Store: store, Executor: echoExecutor{}, Gate: scenariorun.TenantGate{Manager: m}, Logger: logger})
	if err := runner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(ctx)
	})

	f := &fixture{tenants: m, admin: filepath.Join(dir, "admin.sock"), tokens: filepath.Join(dir, "tokens.sock")}
	for socket, admins := range map[string][]uint32{f.admin: auth.DefaultAdminUIDs(), f.tokens: {unusedUID}} {
		a := auth.New(auth.Config{AdminUIDs: admins, Tokens: m, Logger: logger, DefaultTenant: tenant.DefaultTenant})
		srv := grpc.NewServer(
			grpc.Creds(auth.TransportCredentials()),
			grpc.ChainUnaryInterceptor(a.UnaryInterceptor()),
			grpc.ChainStreamInterceptor(a.StreamInterceptor()),
		)
		apiv1.RegisterScenariosServer(srv, scenarioapi.New(store, runner, m, a, []string{"http://metrics.internal:9090/"}))
		lis, err := auth.Listen(socket, auth.SocketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
	}
	for _, name := range []string{"acme", "beta"} {
		if _, err := m.Create(context.Background(), name, tenant.PlanStarter); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func dial(t *testing.T, socket, token string) apiv1.ScenariosClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(auth.TransportCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.BearerToken(token)))
	}
	conn, err := grpc.NewClient("unix://"+socket, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return apiv1.NewScenariosClient(conn)
}

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: code = %s, want %s (error: %v)", what, got, want, err)
	}
}

func source(name string) []byte {
	return []byte("name: " + name + "\nsteps:\n  - plugin: sim\n    parameters: {a: 1}\n    rollback: {parameters: {undo: true}}\n")
}

// waitEnded polls an execution until it has a verdict.
func waitEnded(t *testing.T, c apiv1.ScenariosClient, tenantID, id string) *apiv1.GetExecutionResponse {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.GetExecution(context.Background(), &apiv1.GetExecutionRequest{TenantId: tenantID, Id: id, IncludeEvents: true})
		if err != nil {
			t.Fatalf("GetExecution: %v", err)
		}
		if resp.Execution.State != scenariostore.StateRunning {
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still running after 10s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAdminManagesScenariosOfAnyTenant(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	c := dial(t, f.admin, "")

	created, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: source("first"), SourceName: "first.yaml"})
	if err != nil {
		t.Fatalf("CreateScenario: %v", err)
	}
	if created.Scenario.Name != "first" {
		t.Errorf("created name = %q, want first", created.Scenario.Name)
	}
	_, err = c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: source("first")})
	wantCode(t, "duplicate CreateScenario", err, codes.AlreadyExists)
	list, err := c.ListScenarios(ctx, &apiv1.ListScenariosRequest{TenantId: "beta"})
	if err != nil || len(list.Scenarios) != 0 {
		t.Errorf("ListScenarios of beta = %v, %v; want none, because scenarios belong to their tenant", list, err)
	}

	run, err := c.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: "acme", Name: "first"})
	if err != nil {
		t.Fatalf("RunScenario: %v", err)
	}
	ended := waitEnded(t, c, "acme", run.Execution.Id)
	if ended.Execution.State != scenariostore.VerdictCompleted {
		t.Errorf("state = %s (%s), want completed", ended.Execution.State, ended.Execution.Reason)
	}
	last := ended.Events[len(ended.Events)-1]
	if last.Type != scenariostore.EventVerdict {
		t.Errorf("last event = %s, want verdict", last.Type)
	}
	execs, err := c.ListExecutions(ctx, &apiv1.ListExecutionsRequest{TenantId: "acme", Scenario: "first"})
	if err != nil || len(execs.Executions) != 1 {
		t.Errorf("ListExecutions = %v, %v; want one", execs, err)
	}

	if _, err := c.DeleteScenario(ctx, &apiv1.DeleteScenarioRequest{TenantId: "acme", Name: "first"}); err != nil {
		t.Fatalf("DeleteScenario: %v", err)
	}
	_, err = c.GetExecution(ctx, &apiv1.GetExecutionRequest{TenantId: "acme", Id: run.Execution.Id})
	wantCode(t, "GetExecution after the scenario's delete", err, codes.NotFound)
	usage, err := f.tenants.Get("acme")
	if err != nil || usage.Scenarios != 0 || usage.StorageBytes != 0 {
		t.Errorf("acme after delete: %d scenarios, %d bytes, %v; want 0 and 0", usage.Scenarios, usage.StorageBytes, err)
	}
}

func TestRequestNamesAreChecked(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	c := dial(t, f.admin, "")
	badNames := map[string]string{
		"slash":     "a/b",
		"parent":    "../../etc/passwd",
		"dot dot":   "..",
		"NUL":       "a\x00b",
		"huge":      strings.Repeat("a", 1<<20),
		"empty":     "",
		"uppercase": "First",
	}
	for label, name := range badNames {
		t.Run(label, func(t *testing.T) {
			_, err := c.GetScenario(ctx, &apiv1.GetScenarioRequest{TenantId: "acme", Name: name})
			wantCode(t, "GetScenario", err, codes.InvalidArgument)
			_, err = c.DeleteScenario(ctx, &apiv1.DeleteScenarioRequest{TenantId: "acme", Name: name})
			wantCode(t, "DeleteScenario", err, codes.InvalidArgument)
			_, err = c.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: "acme", Name: name})
			wantCode(t, "RunScenario", err, codes.InvalidArgument)
			_, err = c.GetExecution(ctx, &apiv1.GetExecutionRequest{TenantId: "acme", Id: name})
			wantCode(t, "GetExecution", err, codes.InvalidArgument)
			_, err = c.StopExecution(ctx, &apiv1.StopExecutionRequest{TenantId: "acme", Id: name})
			wantCode(t, "StopExecution", err, codes.InvalidArgument)
			if name != "" {
				_, err = c.ListExecutions(ctx, &apiv1.ListExecutionsRequest{TenantId: "acme", Scenario: name})
				wantCode(t, "ListExecutions", err, codes.InvalidArgument)
			}
		})
	}
	_, err := c.GetScenario(ctx, &apiv1.GetScenarioRequest{TenantId: "acme", Name: strings.Repeat("a", 1<<20)})
	if msg := status.Convert(err).Message(); len(msg) > 300 {
		t.Errorf("the error for a huge name has %d bytes; it should quote only the start of the name", len(msg))
	}
}

func TestProbeURLOutsideAllowList(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	c := dial(t, f.admin, "")
	probe := func(url string) []byte {
		return []byte("name: probed\nsteps: [{plugin: sim}]\nprobes:\n  - metric: m\n    interval: 1s\n    http: {url: \"" + url + "\"}\n")
	}

	_, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: probe("http://10.1.2.3/stats")})
	wantCode(t, "CreateScenario with a probe outside the allow-list", err, codes.InvalidArgument)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "/probes/0/http/url") || !strings.Contains(msg, "--probe-allow") {
		t.Errorf("error %q should name the field and the --probe-allow flag", msg)
	}
	if _, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: probe("http://metrics.internal:9090/api")}); err != nil {
		t.Errorf("CreateScenario with a probe under an allowed prefix: %v", err)
	}
}

func TestTokenHolderIsLimitedToItsTenant(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	token, _, err := f.tenants.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, f.tokens, token)

	if _, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{Source: source("own")}); err != nil {
		t.Fatalf("CreateScenario in the token's tenant: %v", err)
	}
	got, err := c.GetScenario(ctx, &apiv1.GetScenarioRequest{TenantId: "acme", Name: "own"})
	if err != nil || got.Scenario.Name != "own" {
		t.Errorf("GetScenario naming the token's tenant = %v, %v", got, err)
	}
	_, err = c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "beta", Source: source("foreign")})
	wantCode(t, "CreateScenario for another tenant", err, codes.PermissionDenied)
	_, err = c.ListScenarios(ctx, &apiv1.ListScenariosRequest{TenantId: "beta"})
	wantCode(t, "ListScenarios of another tenant", err, codes.PermissionDenied)
	_, err = c.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: "beta", Name: "own"})
	wantCode(t, "RunScenario for another tenant", err, codes.PermissionDenied)
	if beta, err := f.tenants.Get("beta"); err != nil || beta.Scenarios != 0 {
		t.Errorf("beta stores %d scenarios, %v; want 0", beta.Scenarios, err)
	}

	anonymous := dial(t, f.tokens, "")
	_, err = anonymous.ListScenarios(ctx, &apiv1.ListScenariosRequest{})
	wantCode(t, "ListScenarios without a token", err, codes.Unauthenticated)
}

func TestDisabledTenantIsRejected(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	admin := dial(t, f.admin, "")
	if _, err := admin.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: source("kept")}); err != nil {
		t.Fatal(err)
	}
	token, _, err := f.tenants.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.tenants.SetDisabled(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}

	for label, c := range map[string]apiv1.ScenariosClient{"admin": admin, "token holder": dial(t, f.tokens, token)} {
		t.Run(label, func(t *testing.T) {
			_, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: source("new")})
			wantCode(t, "CreateScenario", err, codes.FailedPrecondition)
			_, err = c.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: "acme", Name: "kept"})
			wantCode(t, "RunScenario", err, codes.FailedPrecondition)
			_, err = c.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: "acme", Name: "kept", DryRun: true})
			wantCode(t, "dry RunScenario", err, codes.FailedPrecondition)
		})
	}
	acme, err := f.tenants.Get("acme")
	if err != nil || acme.Scenarios != 1 {
		t.Errorf("acme stores %d scenarios, %v; want only the one created before it was disabled", acme.Scenarios, err)
	}
}

func TestCreateReportsEveryErrorWithItsLine(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	c := dial(t, f.admin, "")
	src := `name: several
max_duration: 2h
steps:
  - {name: x, plugin: sim}
  - {name: x, plugin: sim}
probes:
  - metric: m
    interval: 1s
    http: {url: "http://10.1.2.3/stats"}
`
	_, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: []byte(src), SourceName: "several.yaml"})
	wantCode(t, "CreateScenario", err, codes.InvalidArgument)
	msg := status.Convert(err).Message()
	for _, want := range []string{
		"at /max_duration (line 2): max_duration 2h0m0s is above tenant \"acme\"'s max duration of 1h0m0s",
		"--max-duration",
		"at /steps/1/name (line 5)",
		"at /probes/0/http/url (line 9)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if _, err := c.GetScenario(ctx, &apiv1.GetScenarioRequest{TenantId: "acme", Name: "several"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetScenario after the rejected create = %v, want NotFound", err)
	}

	if _, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: source("fits")}); err != nil {
		t.Fatalf("CreateScenario: %v", err)
	}
	long := []byte("name: fits\nmax_duration: 3h\nsteps: [{plugin: sim}]\n")
	_, err = c.UpdateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: long})
	wantCode(t, "UpdateScenario above the max duration", err, codes.InvalidArgument)
}

func TestRunUnknownPluginKeepsStatusMessage(t *testing.T) {
	ctx := context.Background()
	f := startServer(t)
	c := dial(t, f.admin, "")
	src := []byte("name: unknown\nsteps:\n  - plugin: no-such-plugin\n")
	if _, err := c.CreateScenario(ctx, &apiv1.PutScenarioRequest{TenantId: "acme", Source: src}); err != nil {
		t.Fatalf("CreateScenario: %v", err)
	}
	for _, dryRun := range []bool{false, true} {
		_, err := c.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: "acme", Name: "unknown", DryRun: dryRun})
		wantCode(t, "RunScenario", err, codes.NotFound)
		want := `scenario "unknown" calls plugin no-such-plugin: plugin "no-such-plugin" not found`
		if msg := status.Convert(err).Message(); msg != want {
			t.Errorf("dry run %v: message = %q, want %q", dryRun, msg, want)
		}
	}
}
