package auth_test

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/mockforge/mockforged/host/auth"
)

func TestListenModes(t *testing.T) {
	tests := []struct {
		name     string
		opts     auth.SocketOptions
		wantMode fs.FileMode
		wantGID  int
	}{
		{"default", auth.SocketOptions{}, 0o600, os.Getgid()},
		{"numeric group", auth.SocketOptions{Group: "65534"}, 0o660, 65534},
		{"group name", auth.SocketOptions{Group: groupName(t, 65534)}, 0o660, 65534},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Group == "" && tt.wantGID == 65534 {
				t.Skip("no group with gid 65534 on this machine")
			}
			if tt.wantGID != os.Getgid() && os.Getuid() != 0 {
				t.Skip("changing a socket's group to one the user is not in needs root")
			}
			path := filepath.Join(t.TempDir(), "m.sock")
			lis, err := auth.Listen(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			info, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Type() != fs.ModeSocket || info.Mode().Perm() != tt.wantMode {
				t.Errorf("mode = %s, want socket with %s", info.Mode(), tt.wantMode)
			}
			if gid := int(info.Sys().(*syscall.Stat_t).Gid); gid != tt.wantGID {
				t.Errorf("group = %d, want %d", gid, tt.wantGID)
			}
			conn, err := net.Dial("unix", path)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			_ = conn.Close()
			if err := lis.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(path); !os.IsNotExist(err) {
				t.Errorf("socket file still exists after Close: %v", err)
			}
		})
	}
}

// groupName returns the name of the group with gid, or "" when none exists.
func groupName(t *testing.T, gid int) string {
	t.Helper()
	data, err := os.ReadFile("/etc/group")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 && f[2] == strconv.Itoa(gid) {
			return f[0]
		}
	}
	return ""
}

func TestListenErrors(t *testing.T) {
	dir := t.TempDir()

	t.Run("live socket", func(t *testing.T) {
		path := filepath.Join(dir, "live.sock")
		lis, err := auth.Listen(path, auth.SocketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer lis.Close()
		go func() {
			for {
				conn, err := lis.Accept()
				if err != nil {
					return
				}
				_ = conn.Close()
			}
		}()
		_, err = auth.Listen(path, auth.SocketOptions{})
		if err == nil || !strings.Contains(err.Error(), "another process is listening") {
			t.Errorf("error = %v, want one naming the other listener", err)
		}
	})
	t.Run("stale socket", func(t *testing.T) {
		path := filepath.Join(dir, "stale.sock")
		old, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		old.(*net.UnixListener).SetUnlinkOnClose(false)
		_ = old.Close()
		lis, err := auth.Listen(path, auth.SocketOptions{})
		if err != nil {
			t.Fatalf("Listen over a stale socket: %v", err)
		}
		_ = lis.Close()
	})
	t.Run("regular file", func(t *testing.T) {
		path := filepath.Join(dir, "file.sock")
		if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := auth.Listen(path, auth.SocketOptions{})
		if err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("error = %v", err)
		}
		if data, _ := os.ReadFile(path); string(data) != "data" {
			t.Error("Listen changed the regular file")
		}
	})
	t.Run("long path", func(t *testing.T) {
		path := filepath.Join(dir, strings.Repeat("x", 120))
		_, err := auth.Listen(path, auth.SocketOptions{})
		if err == nil || !strings.Contains(err.Error(), "use a shorter path") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("unknown group", func(t *testing.T) {
		_, err := auth.Listen(filepath.Join(dir, "g.sock"), auth.SocketOptions{Group: "no-such-group-xyz"})
		if err == nil || !strings.Contains(err.Error(), `"no-such-group-xyz"`) {
			t.Errorf("error = %v", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "g.sock")); !os.IsNotExist(err) {
			t.Error("a socket file was left behind")
		}
	})
	t.Run("close keeps a replaced socket", func(t *testing.T) {
		path := filepath.Join(dir, "replaced.sock")
		lis, err := auth.Listen(path, auth.SocketOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		other, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_ = lis.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("closing the old listener removed the new socket: %v", err)
		}
	})
}
