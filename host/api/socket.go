package api

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/mockforge/mockforged/host/paths"
)

// PrepareSocketDir checks the socket path's length and creates its
// directory when missing: with mode 0700, or, when group is set, with mode
// 0710 and that group, so that the group's members can reach a socket that
// allows them. It rejects a directory that another user owns or that others
// may write, because they could replace the socket. An existing directory
// keeps its mode and group.
func PrepareSocketDir(path, group string) error {
	if err := paths.CheckSocketPath(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	_, statErr := os.Stat(dir)
	mode := os.FileMode(0o700)
	if group != "" {
		// Parents the daemon creates must let the group's members pass.
		mode = 0o711
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create socket directory %s: %w", dir, err)
	}
	if os.IsNotExist(statErr) && group != "" {
		if err := shareWithGroup(dir, group); err != nil {
			return err
		}
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat socket directory %s: %w", dir, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != os.Getuid() && st.Uid != 0 {
		return fmt.Errorf("socket directory %s is owned by uid %d, not by the daemon's user (uid %d) or root; choose another --socket", dir, st.Uid, os.Getuid())
	}
	if info.Mode().Perm()&0o002 != 0 && info.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("socket directory %s is writable by everyone (mode %04o); run chmod o-w on it or choose another --socket", dir, info.Mode().Perm())
	}
	return nil
}

// shareWithGroup gives dir to group with mode 0710: members may traverse
// it to the socket but not list or change it.
func shareWithGroup(dir, group string) error {
	gid, err := strconv.Atoi(group)
	if err != nil {
		g, lookupErr := user.LookupGroup(group)
		if lookupErr != nil {
			return fmt.Errorf("socket group %q: %w; name an existing group or its numeric id", group, lookupErr)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if err := os.Chown(dir, -1, gid); err != nil {
		return fmt.Errorf("give socket directory %s to group %s: %w", dir, group, err)
	}
	if err := os.Chmod(dir, 0o710); err != nil {
		return fmt.Errorf("set mode of socket directory %s: %w", dir, err)
	}
	return nil
}
