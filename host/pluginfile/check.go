// Package pluginfile decides which files in the plugins directory are plugin
// candidates, checks that a candidate is safe to run, and copies it into a
// content-addressed store so that the bytes that were checked are the bytes
// that run.
package pluginfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Ignored reports whether a file name in the plugins directory is never a
// plugin: dotfiles, editor backups, partial downloads and Markdown notes
// such as the directory's README.md.
func Ignored(name string) bool {
	switch {
	case name == "" || strings.HasPrefix(name, "."):
		return true
	case strings.HasSuffix(name, "~"):
		return true
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".tmp", ".part", ".partial", ".crdownload", ".swp", ".swx", ".md":
		return true
	}
	return false
}

// ErrUnsafe marks a file that must not be launched. Errors wrapping it give
// the reason and the fix.
var ErrUnsafe = errors.New("unsafe plugin file")

// CheckSafe verifies that info describes a file the daemon may execute: a
// regular file, executable by its owner, not writable by group or others,
// and owned by the daemon's user or root.
func CheckSafe(path string, info fs.FileInfo) error {
	mode := info.Mode()
	if !mode.IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file (mode %s); drop the plugin binary itself, not a link or directory", ErrUnsafe, path, mode)
	}
	if mode.Perm()&0o100 == 0 {
		return fmt.Errorf("%w: %s is not executable (mode %04o); run chmod 0755 on it", ErrUnsafe, path, mode.Perm())
	}
	if mode.Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o); run chmod go-w on it", ErrUnsafe, path, mode.Perm())
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: cannot read the owner of %s", ErrUnsafe, path)
	}
	if uid := int(st.Uid); uid != 0 && uid != os.Getuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not by the daemon's user (uid %d) or root; run chown on it", ErrUnsafe, path, uid, os.Getuid())
	}
	return nil
}
