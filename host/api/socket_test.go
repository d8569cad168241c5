package api

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestPrepareSocketDirModes(t *testing.T) {
	root := t.TempDir()

	private := filepath.Join(root, "private", "m.sock")
	if err := PrepareSocketDir(private, ""); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Dir(private)); info.Mode().Perm() != 0o700 {
		t.Errorf("private socket directory mode %04o, want 0700", info.Mode().Perm())
	}

	gid := os.Getgid()
	shared := filepath.Join(root, "shared", "m.sock")
	if err := PrepareSocketDir(shared, strconv.Itoa(gid)); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(filepath.Dir(shared))
	if info.Mode().Perm() != 0o710 {
		t.Errorf("shared socket directory mode %04o, want 0710", info.Mode().Perm())
	}
	if st := info.Sys().(*syscall.Stat_t); int(st.Gid) != gid {
		t.Errorf("shared socket directory group %d, want %d", st.Gid, gid)
	}

	if err := PrepareSocketDir(filepath.Join(root, "x", "m.sock"), "no-such-group-here"); err == nil || !strings.Contains(err.Error(), "no-such-group-here") {
		t.Errorf("unknown group: got %v, want an error naming it", err)
	}
	long := filepath.Join(root, strings.Repeat("d", 120), "m.sock")
	if err := PrepareSocketDir(long, ""); err == nil || !strings.Contains(err.Error(), "107") {
		t.Errorf("long path: got %v, want an error naming the limit", err)
	}
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	if err := PrepareSocketDir(filepath.Join(open, "m.sock"), ""); err == nil || !strings.Contains(err.Error(), "writable by everyone") {
		t.Errorf("world-writable directory: got %v", err)
	}
}
