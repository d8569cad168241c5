package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// extraBins caches plugin binaries that only the tenant tests need, built
// on first use so that other test runs do not pay for them.
var extraBins struct {
	mu    sync.Mutex
	paths map[string]string
}

// buildPlugin builds the misbehave plugin with ldflags once per name.
func buildPlugin(t *testing.T, name, ldflags string) string {
	t.Helper()
	extraBins.mu.Lock()
	defer extraBins.mu.Unlock()
	if extraBins.paths == nil {
		extraBins.paths = map[string]string{}
	}
	if p, ok := extraBins.paths[name]; ok {
		return p
	}
	out := filepath.Join(bins.dir, name)
	cmd := exec.Command("go", "build", "-o", out, "-ldflags", ldflags, "github.com/mockforge/mockforged/test/plugins/misbehave")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build plugin %s: %v\n%s", name, err, stderr.String())
	}
	extraBins.paths[name] = out
	return out
}

// tenants returns a Tenants client on the daemon's socket. The test runs
// as the daemon's own user, so the client is an administrator.
func (d *daemon) tenants() apiv1.TenantsClient {
	d.t.Helper()
	conn, err := grpc.NewClient("unix://"+d.socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		d.t.Fatalf("dial daemon: %v", err)
	}
	d.t.Cleanup(func() { conn.Close() })
	return apiv1.NewTenantsClient(conn)
}

// execFor calls plugin id on behalf of tenant.
func (d *daemon) execFor(tenant, id, params string, timeout time.Duration) (*apiv1.ExecuteResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	req := &apiv1.ExecuteRequest{PluginId: id, TenantId: tenant, ParametersJson: []byte(params)}
	if timeout > 0 {
		req.Timeout = durationOf(timeout)
	}
	return d.client.Execute(ctx, req)
}

// mustCLI runs the CLI and fails the test unless it exits with status 0.
func (d *daemon) mustCLI(args ...string) string {
	d.t.Helper()
	out, errOut, code := d.cli(nil, args...)
	if code != 0 {
		d.t.Fatalf("mockforged %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// waitRunning waits until plugin id is served.
func (d *daemon) waitRunning(id string) {
	d.t.Helper()
	waitFor(d.t, 15*time.Second, "plugin "+id+" running", func() bool { return d.byID(id) != nil })
}

// stop sends sig to the daemon and waits until it exits.
func (d *daemon) stop(sig os.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatalf("signal daemon: %v", err)
	}
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.t.Fatalf("daemon did not exit within 20s after %s", sig)
	}
}

// errorInfo returns the ErrorInfo detail of err, or nil.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, detail := range status.Convert(err).Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// retryDelay returns the RetryInfo delay of err; ok is false without one.
func retryDelay(err error) (time.Duration, bool) {
	for _, detail := range status.Convert(err).Details() {
		if info, ok := detail.(*errdetails.RetryInfo); ok {
			return info.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// runServeExpectingFailure runs `mockforged serve` with args and returns its
// output once it exits, failing the test if it keeps running for 15s.
func runServeExpectingFailure(t *testing.T, args ...string) (output string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.daemon, append([]string{"serve"}, args...)...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("serve %v still ran after 15s, want it to exit with an error; output:\n%s", args, out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run serve: %v", err)
	}
	return string(out), 0
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func describe(err error) string {
	if err == nil {
		return "no error"
	}
	st := status.Convert(err)
	return fmt.Sprintf("%s: %s", st.Code(), st.Message())
}

func decodeJSON(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("decode JSON output: %v\n%s", err, data)
	}
}

// startDaemonOnSocket starts the daemon like startDaemon, on socket.
func startDaemonOnSocket(t *testing.T, socket string, extraArgs ...string) *daemon {
	t.Helper()
	root := t.TempDir()
	d := &daemon{
		t:          t,
		socket:     socket,
		pluginsDir: filepath.Join(root, "plugins.d"),
		dataDir:    filepath.Join(root, "data"),
		output:     &syncBuffer{},
		exited:     make(chan struct{}),
	}
	if err := os.MkdirAll(d.pluginsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	d.start(extraArgs...)
	return d
}
