package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// fakeDaemon is an in-test implementation of the daemon's API. It serves
// canned plugins and records the requests it receives.
type fakeDaemon struct {
	apiv1.UnimplementedDaemonServer

	mu            sync.Mutex
	requests      []string // method names, in order
	authorization []string // "authorization" metadata of the last request
	configure     *apiv1.ConfigurePluginRequest
	reload        *apiv1.ReloadPluginsRequest
	execute       *apiv1.ExecuteRequest
	executeResult *apiv1.ExecuteResponse
	executeErr    error
	// executeStarted, when set, is closed as Execute starts, and Execute
	// then waits until the server stops.
	executeStarted chan struct{}

	server *grpc.Server
}

var _ apiv1.DaemonServer = (*fakeDaemon)(nil)

const fakeSHA256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func fakePlugins() []*apiv1.PluginInfo {
	return []*apiv1.PluginInfo{
		{
			Id: "dbfault", Name: "DB fault", Version: "1.2.0", State: apiv1.PluginState_PLUGIN_STATE_RUNNING,
			Capabilities: []string{"fault", "hook"}, File: "/plugins/dbfault", Sha256: fakeSHA256,
			Enabled: true, Configured: true, Pid: 4242, ApiVersion: "v1", ProtocolVersion: 1,
		},
		{
			State: apiv1.PluginState_PLUGIN_STATE_FAILED, File: "/plugins/broken", Sha256: fakeSHA256,
			Reason: "handshake failed:\nplugin exited",
		},
	}
}

func (f *fakeDaemon) record(ctx context.Context, method string) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, method)
	f.authorization = md.Get("authorization")
}

func (f *fakeDaemon) Status(ctx context.Context, _ *apiv1.StatusRequest) (*apiv1.StatusResponse, error) {
	f.record(ctx, "Status")
	return &apiv1.StatusResponse{
		Version:        "1.0.0-test",
		StartedAt:      timestamppb.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
		Uptime:         durationpb.New(90 * time.Minute),
		PluginsTotal:   2,
		PluginsRunning: 1,
		PluginsFailed:  1,
		PluginsDir:     "/plugins",
		DataDir:        "/data",
		Socket:         "/run/mockforged.sock",
	}, nil
}

func (f *fakeDaemon) ListPlugins(ctx context.Context, _ *apiv1.ListPluginsRequest) (*apiv1.ListPluginsResponse, error) {
	f.record(ctx, "ListPlugins")
	return &apiv1.ListPluginsResponse{Plugins: fakePlugins()}, nil
}

func (f *fakeDaemon) DescribePlugin(ctx context.Context, req *apiv1.DescribePluginRequest) (*apiv1.DescribePluginResponse, error) {
	f.record(ctx, "DescribePlugin")
	if req.GetId() != "dbfault" {
		return nil, status.Errorf(codes.NotFound, "plugin %q not found", req.GetId())
	}
	return &apiv1.DescribePluginResponse{
		Plugin:       fakePlugins()[0],
		ConfigSchema: []byte(`{"type": "object", "properties": {"dsn": {"type": "string"}}}`),
		ConfigJson:   []byte(`{"dsn": "postgres://localhost/test"}`),
	}, nil
}

func (f *fakeDaemon) ConfigurePlugin(ctx context.Context, req *apiv1.ConfigurePluginRequest) (*apiv1.ConfigurePluginResponse, error) {
	f.record(ctx, "ConfigurePlugin")
	f.mu.Lock()
	f.configure = req
	f.mu.Unlock()
	if bytes.Contains(req.GetConfigJson(), []byte(`"invalid"`)) {
		return nil, status.Error(codes.InvalidArgument, "invalid config for plugin dbfault: at '/invalid': additional properties are not allowed")
	}
	return &apiv1.ConfigurePluginResponse{Plugin: fakePlugins()[0]}, nil
}

func (f *fakeDaemon) ReloadPlugins(ctx context.Context, req *apiv1.ReloadPluginsRequest) (*apiv1.ReloadPluginsResponse, error) {
	f.record(ctx, "ReloadPlugins")
	f.mu.Lock()
	f.reload = req
	f.mu.Unlock()
	if req.GetId() == "starting" {
		return nil, status.Error(codes.Unavailable, "plugin starting is starting (handshake); retry in a moment")
	}
	return &apiv1.ReloadPluginsResponse{Plugins: fakePlugins()[:1]}, nil
}

func (f *fakeDaemon) Execute(ctx context.Context, req *apiv1.ExecuteRequest) (*apiv1.ExecuteResponse, error) {
	f.record(ctx, "Execute")
	if f.executeStarted != nil {
		close(f.executeStarted)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execute = req
	if f.executeErr != nil {
		return nil, f.executeErr
	}
	if f.executeResult != nil {
		return f.executeResult, nil
	}
	return &apiv1.ExecuteResponse{
		Success:       true,
		Message:       "latency injected",
		DataJson:      []byte(`{"injected_ms": 250}`),
		PluginId:      req.GetPluginId(),
		PluginVersion: "1.2.0",
		RequestId:     "req-1",
		Duration:      durationpb.New(12 * time.Millisecond),
	}, nil
}

// lastExecute returns the last Execute request.
func (f *fakeDaemon) lastExecute() *apiv1.ExecuteRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.execute
}

func (f *fakeDaemon) lastAuthorization() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.authorization
}

func (f *fakeDaemon) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// startFakeDaemon serves a fakeDaemon on a unix socket in a temporary
// directory and returns it with the socket's path.
func startFakeDaemon(t *testing.T) (*fakeDaemon, string) {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "d.sock")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatalf("listen on %s: %v", socket, err)
	}
	server := grpc.NewServer()
	fake := &fakeDaemon{server: server}
	apiv1.RegisterDaemonServer(server, fake)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = server.Serve(listener) // returns when Stop closes the listener
	}()
	t.Cleanup(func() {
		server.Stop()
		<-served
	})
	return fake, socket
}

// cliResult is the outcome of one run of the command line.
type cliResult struct {
	stdout string
	stderr string
	code   int
}

// runCLI runs the mockforged command line in process with stdin as its
// standard input.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr strings.Builder
	code := execute(context.Background(), args, streams{in: strings.NewReader(stdin), out: &stdout, err: &stderr})
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func netListenUnix(path string) (*net.UnixListener, error) {
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}
