package api

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mockforge/mockforged/host/paths"
)

// PrepareSocketDir checks the socket path's length and creates its
// directory with mode 0700 when missing. It rejects a directory that
// another user owns or that others may write, because they could replace
// the socket.
func PrepareSocketDir(path string) error {
	if err := paths.CheckSocketPath(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create socket directory %s: %w", dir, err)
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
