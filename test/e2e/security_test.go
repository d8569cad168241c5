package e2e

import (
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPluginOwnedByOtherUserRejected(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another uid needs root")
	}
	d := startDaemon(t)
	good := d.install(bins.noop, "noop")
	d.waitState(good, running, 10*time.Second)

	// Chown the file under a hidden name, which the daemon ignores, so that
	// it sees the file only with its final owner.
	tmp := filepath.Join(d.pluginsDir, ".foreign.tmp")
	copyFile(t, bins.example, tmp, 0o755)
	if err := os.Chown(tmp, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(d.pluginsDir, "foreign")
	if err := os.Rename(tmp, foreign); err != nil {
		t.Fatal(err)
	}

	p := d.waitState(foreign, failed, 15*time.Second)
	if !strings.Contains(p.Reason, "owned by uid 65534") {
		t.Errorf("reason %q does not name the owner uid 65534", p.Reason)
	}
	if p.Pid != 0 {
		t.Errorf("rejected plugin has pid %d; it must never run", p.Pid)
	}
	if p := d.byFile(good); p.State != running {
		t.Errorf("the good plugin is %s after the rejection, want running", p.State)
	}
}

// TestDaemonFilesPrivate checks that the socket is a socket with mode 0600
// and that nothing the daemon creates in its data directory is readable or
// writable by group or others: the tenant store holds token hashes and the
// audit log holds every call's parameters.
func TestDaemonFilesPrivate(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.noop, "noop")
	d.waitRunning("noop")
	d.mustCLI("tenants", "create", "alpha", "--plan", "starter")
	d.mustCLI("tenants", "token", "create", "alpha")
	d.mustCLI("exec", "noop")

	info, err := os.Stat(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Type() != fs.ModeSocket || info.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %s, want a socket with mode 0600", info.Mode())
	}
	if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != os.Getuid() {
		t.Errorf("socket owned by uid %d, want the daemon's uid %d", st.Uid, os.Getuid())
	}

	err = filepath.WalkDir(d.dataDir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %04o; group and others must have no access", path, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTokensNeverLogged uses a valid token, an unknown token and a revoked
// token as another user, and checks that no token appears in the daemon's
// debug log.
func TestTokensNeverLogged(t *testing.T) {
	shared := sharedSocketDir(t)
	socket := filepath.Join(shared, "mockforged.sock")
	client := newOtherUserClient(t, socket, shared)
	group := otherUserGroup(t)

	d := startDaemonOnSocket(t, socket, "--socket-group", group)
	d.install(bins.noop, "noop")
	d.mustCLI("tenants", "create", "alpha", "--plan", "starter")
	valid := strings.TrimSpace(d.mustCLI("tenants", "token", "create", "alpha"))
	revoked := strings.TrimSpace(d.mustCLI("tenants", "token", "create", "alpha", "--description", "revoked"))
	d.waitRunning("noop")
	unknown := valid[:len(valid)-4] + "zzzz"

	if _, errOut, code := client.run("--token", valid, "exec", "noop"); code != 0 {
		t.Fatalf("exec with a valid token: exit %d, stderr %q", code, errOut)
	}
	if _, _, code := client.run("--token", unknown, "exec", "noop"); code == 0 {
		t.Error("exec with an unknown token succeeded")
	}
	var list struct {
		Tokens []struct {
			ID          string `json:"id"`
			Description string `json:"description"`
		} `json:"tokens"`
	}
	decodeJSON(t, d.mustCLI("tenants", "token", "list", "alpha", "-o", "json"), &list)
	for _, tok := range list.Tokens {
		if tok.Description == "revoked" {
			d.mustCLI("tenants", "token", "revoke", "alpha", tok.ID)
		}
	}
	if _, _, code := client.run("--token", revoked, "exec", "noop"); code == 0 {
		t.Error("exec with a revoked token succeeded")
	}
	if _, _, code := client.run("--token", "not a token\nwith a newline", "exec", "noop"); code == 0 {
		t.Error("exec with a malformed token succeeded")
	}

	log := d.output.String()
	for name, tok := range map[string]string{"valid": valid, "unknown": unknown, "revoked": revoked} {
		if strings.Contains(log, tok) {
			t.Errorf("daemon log contains the %s token", name)
		}
	}
	if !strings.Contains(log, "uid="+otherUID) {
		t.Error("daemon log does not record the uid of the rejected caller")
	}
}

// otherUserGroup returns the name of the group with gid 65534, or skips.
func otherUserGroup(t *testing.T) string {
	t.Helper()
	group, err := user.LookupGroupId(otherUID)
	if err != nil {
		t.Skipf("no group with gid %s to give access to the socket: %v", otherUID, err)
	}
	return group.Name
}
