package auth_test

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
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/auth"
)

// The uid and gid the second user runs as: nobody and nogroup on Debian.
const otherID = "65534"

// Environment of the client child process.
const (
	clientSocketEnv = "MOCKFORGED_AUTH_TEST_SOCKET"
	clientTenantEnv = "MOCKFORGED_AUTH_TEST_TENANT"
)

func TestMain(m *testing.M) {
	if socket := os.Getenv(clientSocketEnv); socket != "" {
		os.Exit(runClient(socket))
	}
	os.Exit(m.Run())
}

// runClient calls the health service on socket with the token in EnvToken
// and prints the status code and its own uid.
func runClient(socket string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if tenant := os.Getenv(clientTenantEnv); tenant != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, tenantKey, tenant)
	}
	conn, err := newConn(socket, os.Getenv(auth.EnvToken))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Printf("code=%s uid=%d\n", status.Code(err), os.Getuid())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return 0
}

// requireSecondUser skips the test unless this process can start another
// as uid 65534 with setpriv.
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

// sharedDir returns a new directory that uid 65534 can read and traverse.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mockforged-auth-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyTestBinary copies this test binary to dir, where uid 65534 can run it.
func copyTestBinary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, "client.test")
	dst, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// runAsOtherUser runs the client as uid and gid 65534 and returns the
// status code it printed and the uid it ran as.
func runAsOtherUser(t *testing.T, bin, socket, token, tenant string) (code, uid string) {
	t.Helper()
	cmd := exec.Command("setpriv", "--reuid="+otherID, "--regid="+otherID, "--clear-groups", bin, "-test.run=^$")
	// GORACE drops the race detector's one-second sleep at exit.
	cmd.Env = append(os.Environ(), clientSocketEnv+"="+socket, auth.EnvToken+"="+token, clientTenantEnv+"="+tenant,
		"GORACE=atexit_sleep_ms=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client as uid %s: %v; stderr:\n%s", otherID, err, stderr.String())
	}
	_, err = fmt.Sscanf(string(out), "code=%s uid=%s", &code, &uid)
	if err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	return code, uid
}

// TestSecondUser runs real clients as another uid against a real server.
func TestSecondUser(t *testing.T) {
	requireSecondUser(t)
	m, alphaToken, _ := newTenants(t)
	dir := sharedDir(t)
	cfg := auth.Config{AdminUIDs: auth.DefaultAdminUIDs(), Tokens: m}
	groupSocket := filepath.Join(dir, "group.sock")
	ts := startServer(t, cfg, groupSocket, auth.SocketOptions{Group: otherID})
	privateSocket := filepath.Join(dir, "private.sock")
	startServer(t, cfg, privateSocket, auth.SocketOptions{})
	bin := copyTestBinary(t, dir)

	tests := []struct {
		name, socket, token, tenant string
		want                        codes.Code
	}{
		{"no token", groupSocket, "", "", codes.Unauthenticated},
		{"own tenant", groupSocket, alphaToken, "alpha", codes.OK},
		{"other tenant", groupSocket, alphaToken, "beta", codes.PermissionDenied},
		{"forged token", groupSocket, "mft_forged", "alpha", codes.Unauthenticated},
		{"socket with mode 0600", privateSocket, alphaToken, "", codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, uid := runAsOtherUser(t, bin, tt.socket, tt.token, tt.tenant)
			if uid != otherID {
				t.Fatalf("client ran as uid %s, want %s", uid, otherID)
			}
			if code != tt.want.String() {
				t.Errorf("code = %s, want %s", code, tt.want)
			}
		})
	}

	c := ts.lastCaller(t)
	if c.UID != 65534 || c.Admin {
		t.Errorf("server saw caller %+v, want uid 65534 and not an admin", c)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "uid=65534") {
		t.Errorf("refusals not logged with uid 65534:\n%s", logs)
	}
	if strings.Contains(logs, alphaToken) {
		t.Error("the log contains the token")
	}
}
