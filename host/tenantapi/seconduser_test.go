package tenantapi_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// The uid and gid the second user runs as: nobody and nogroup on Debian.
const otherID = "65534"

// Environment of the client child process.
const (
	clientSocketEnv = "MOCKFORGED_TENANTAPI_TEST_SOCKET"
	clientCallEnv   = "MOCKFORGED_TENANTAPI_TEST_CALL"
	clientTenantEnv = "MOCKFORGED_TENANTAPI_TEST_TENANT"
)

func TestMain(m *testing.M) {
	if socket := os.Getenv(clientSocketEnv); socket != "" {
		os.Exit(runClient(socket, os.Getenv(clientCallEnv), os.Getenv(clientTenantEnv)))
	}
	os.Exit(m.Run())
}

// runClient makes one call ("get", "usage" or "create") with the token in
// auth.EnvToken and prints the status code and its own uid.
func runClient(socket, call, name string) int {
	client, conn, err := newClient(socket, os.Getenv(auth.EnvToken))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch call {
	case "get":
		_, err = client.GetTenant(ctx, &apiv1.GetTenantRequest{Name: name})
	case "usage":
		_, err = client.GetUsage(ctx, &apiv1.GetUsageRequest{Name: name})
	case "create":
		_, err = client.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: name, Plan: "free"})
	default:
		fmt.Fprintf(os.Stderr, "unknown call %q\n", call)
		return 1
	}
	fmt.Printf("code=%s uid=%d\n", status.Code(err), os.Getuid())
	return 0
}

func requireSecondUser(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("running a client as another user needs root; run the tests as root to cover a second uid")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed, so no client can run as another user")
	}
	out, err := exec.Command("setpriv", "--reuid="+otherID, "--regid="+otherID, "--clear-groups", "true").CombinedOutput()
	if err != nil {
		t.Skipf("setpriv cannot switch to uid %s here: %v: %s", otherID, err, out)
	}
}

// sharedDir returns a new directory that uid 65534 can read and traverse,
// with a copy of this test binary in it.
func sharedDir(t *testing.T) (dir, bin string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mockforged-tenantapi-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	bin = filepath.Join(dir, "client.test")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, bin
}

// TestTokenIsolationAsSecondUser runs the client as uid 65534 against a
// daemon-like server whose administrators are its own uid and root.
func TestTokenIsolationAsSecondUser(t *testing.T) {
	requireSecondUser(t)
	ctx := context.Background()
	dir, bin := sharedDir(t)
	socket := filepath.Join(dir, "api.sock")
	m := startServer(t, socket, auth.DefaultAdminUIDs(), auth.SocketOptions{Group: otherID})
	for _, name := range []string{"alpha", "beta"} {
		if _, err := m.Create(ctx, name, tenant.PlanStarter); err != nil {
			t.Fatal(err)
		}
	}
	alphaToken, _, err := m.CreateToken(ctx, "alpha", "")
	if err != nil {
		t.Fatal(err)
	}
	betaToken, _, err := m.CreateToken(ctx, "beta", "")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, token, call, tenant string
		want                      codes.Code
	}{
		{"alpha reads alpha", alphaToken, "get", "alpha", codes.OK},
		{"alpha reads own usage", alphaToken, "usage", "", codes.OK},
		{"alpha reads beta", alphaToken, "get", "beta", codes.PermissionDenied},
		{"beta reads alpha usage", betaToken, "usage", "alpha", codes.PermissionDenied},
		{"beta reads beta", betaToken, "get", "beta", codes.OK},
		{"token holder creates a tenant", alphaToken, "create", "gamma", codes.PermissionDenied},
		{"no token", "", "get", "alpha", codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("setpriv", "--reuid="+otherID, "--regid="+otherID, "--clear-groups", bin, "-test.run=^$")
			// GORACE drops the race detector's one-second sleep at exit.
			cmd.Env = append(os.Environ(), clientSocketEnv+"="+socket, clientCallEnv+"="+tt.call,
				clientTenantEnv+"="+tt.tenant, auth.EnvToken+"="+tt.token, "GORACE=atexit_sleep_ms=0")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("client: %v; stderr:\n%s", err, stderr.String())
			}
			var code, uid string
			if _, err := fmt.Sscanf(string(out), "code=%s uid=%s", &code, &uid); err != nil {
				t.Fatalf("client output %q: %v", out, err)
			}
			if uid != otherID {
				t.Fatalf("client ran as uid %s, want %s", uid, otherID)
			}
			if code != tt.want.String() {
				t.Errorf("code = %s, want %s", code, tt.want)
			}
		})
	}
	if _, err := m.Get("gamma"); err == nil {
		t.Error("a token holder created a tenant")
	}
}
