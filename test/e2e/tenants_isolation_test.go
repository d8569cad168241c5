package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// otherUID is the user the isolation test runs the client as: nobody on
// Debian and most distributions.
const otherUID = "65534"

// otherUserClient runs the CLI as uid and gid 65534 with setpriv.
type otherUserClient struct {
	t      *testing.T
	bin    string
	socket string
}

// newOtherUserClient returns a client for uid 65534, or skips the test with
// the reason when no second user can be used here.
func newOtherUserClient(t *testing.T, socket string, shared string) *otherUserClient {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the isolation test runs the client as uid 65534 and needs root to switch users; run it as root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed, so no client can run as another user")
	}
	if out, err := exec.Command("setpriv", "--reuid="+otherUID, "--regid="+otherUID, "--clear-groups", "true").CombinedOutput(); err != nil {
		t.Skipf("setpriv cannot switch to uid %s here: %v: %s", otherUID, err, out)
	}
	bin := filepath.Join(shared, "mockforged")
	copyFile(t, bins.daemon, bin, 0o755)
	return &otherUserClient{t: t, bin: bin, socket: socket}
}

func (c *otherUserClient) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	return c.runWithEnv(nil, args...)
}

// runWithEnv runs the client with extra environment variables.
func (c *otherUserClient) runWithEnv(env []string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	cmd := exec.Command("setpriv", append([]string{"--reuid=" + otherUID, "--regid=" + otherUID, "--clear-groups", c.bin, "--socket", c.socket}, args...)...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=/"}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	}
	if err != nil {
		c.t.Fatalf("run client as uid %s: %v", otherUID, err)
	}
	return out.String(), errOut.String(), 0
}

// sharedSocketDir returns a directory that uid 65534 may traverse but not
// list or write, for the socket and the client binary.
func sharedSocketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mf-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTenantTokenIsolationAcrossUsers(t *testing.T) {
	shared := sharedSocketDir(t)
	socket := filepath.Join(shared, "mockforged.sock")
	client := newOtherUserClient(t, socket, shared)
	group, err := user.LookupGroupId(otherUID)
	if err != nil {
		t.Skipf("no group with gid %s to give access to the socket: %v", otherUID, err)
	}

	d := startDaemonOnSocket(t, socket, "--socket-group", group.Name)
	d.install(bins.noop, "noop")
	d.mustCLI("tenants", "create", "alpha", "--plan", "starter")
	d.mustCLI("tenants", "create", "beta", "--plan", "starter")
	tokenA := strings.TrimSpace(d.mustCLI("tenants", "token", "create", "alpha"))
	tokenB := strings.TrimSpace(d.mustCLI("tenants", "token", "create", "beta"))
	d.waitRunning("noop")

	info, err := os.Stat(socket)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o660 {
		t.Errorf("socket mode = %04o, want 0660 with --socket-group", perm)
	}

	t.Run("no token", func(t *testing.T) {
		if _, errOut, code := client.run("tenants", "list"); code == 0 {
			t.Errorf("tenants list without a token succeeded; stderr %q", errOut)
		}
		if _, errOut, code := client.run("exec", "noop"); code == 0 || !strings.Contains(errOut, "token") {
			t.Errorf("exec without a token: exit %d, stderr %q; want a rejection asking for a token", code, errOut)
		}
	})
	t.Run("own tenant", func(t *testing.T) {
		if out, errOut, code := client.run("--token", tokenA, "exec", "noop", "--tenant", "alpha"); code != 0 {
			t.Errorf("exec as alpha with alpha's token: exit %d, out %q, err %q", code, out, errOut)
		}
		if _, errOut, code := client.run("--token", tokenA, "exec", "noop"); code != 0 {
			t.Errorf("exec with alpha's token and no --tenant: exit %d, err %q; want it to act as alpha", code, errOut)
		}
		if _, errOut, code := client.run("--token", tokenA, "tenants", "get", "alpha"); code != 0 {
			t.Errorf("alpha reading its own record: exit %d, err %q", code, errOut)
		}
		if _, errOut, code := client.runWithEnv([]string{"MOCKFORGE_TOKEN=" + tokenA}, "exec", "noop"); code != 0 {
			t.Errorf("exec with alpha's token in MOCKFORGE_TOKEN: exit %d, err %q", code, errOut)
		}
		if _, errOut, code := client.runWithEnv([]string{"MOCKFORGE_TOKEN=" + tokenA}, "exec", "noop", "--tenant", "beta"); code == 0 {
			t.Errorf("MOCKFORGE_TOKEN of alpha acting as beta succeeded; stderr %q", errOut)
		}
	})
	t.Run("other tenant", func(t *testing.T) {
		_, errOut, code := client.run("--token", tokenA, "exec", "noop", "--tenant", "beta")
		if code == 0 || !strings.Contains(errOut, `cannot act as tenant "beta"`) {
			t.Errorf("exec as beta with alpha's token: exit %d, stderr %q; want a rejection naming beta", code, errOut)
		}
		if _, _, code := client.run("--token", tokenA, "tenants", "get", "beta"); code == 0 {
			t.Errorf("alpha read beta's record")
		}
		if _, _, code := client.run("--token", tokenB, "tenants", "usage", "alpha"); code == 0 {
			t.Errorf("beta read alpha's usage")
		}
		if _, _, code := client.run("--token", tokenA, "tenants", "create", "gamma", "--plan", "enterprise"); code == 0 {
			t.Errorf("a tenant's token created a tenant")
		}
		log := d.output.String()
		if !strings.Contains(log, "uid="+otherUID) {
			t.Errorf("daemon log does not record the uid of the denied caller")
		}
		for _, tok := range []string{tokenA, tokenB} {
			if strings.Contains(log, tok) {
				t.Errorf("daemon log contains a token")
			}
		}
	})
	t.Run("disabled tenant reads only its record", func(t *testing.T) {
		d.mustCLI("tenants", "disable", "beta")
		if out, errOut, code := client.run("--token", tokenB, "tenants", "get", "beta", "-o", "json"); code != 0 || !strings.Contains(out, `"disabled": true`) {
			t.Errorf("disabled beta reading its record: exit %d, out %q, err %q", code, out, errOut)
		}
		if _, _, code := client.run("--token", tokenB, "exec", "noop"); code == 0 {
			t.Errorf("disabled beta's exec succeeded")
		}
		if _, _, code := client.run("--token", tokenB, "tenants", "token", "create", "beta"); code == 0 {
			t.Errorf("disabled beta created a token")
		}
		d.mustCLI("tenants", "enable", "beta")
		if _, errOut, code := client.run("--token", tokenB, "exec", "noop"); code != 0 {
			t.Errorf("beta's exec after enable: exit %d, err %q", code, errOut)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		var list struct {
			Tokens []struct {
				ID string `json:"id"`
			} `json:"tokens"`
		}
		decodeJSON(t, d.mustCLI("tenants", "token", "list", "alpha", "-o", "json"), &list)
		if len(list.Tokens) != 1 {
			t.Fatalf("alpha has %d tokens, want 1", len(list.Tokens))
		}
		d.mustCLI("tenants", "token", "revoke", "alpha", list.Tokens[0].ID)
		_, errOut, code := client.run("--token", tokenA, "exec", "noop")
		if code == 0 {
			t.Errorf("revoked token still works")
		} else if !strings.Contains(errOut, "token") {
			t.Errorf("revoked token stderr %q, want it to mention the token", errOut)
		}
	})
}
