package pluginfile

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		"plugin": false, "my plugin": false, "db-fault": false,
		".hidden": true, "x.tmp": true, "x.part": true, "x~": true, ".x.swp": true, "README.md": true, "": true,
	} {
		if got := Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestAddChecksAndCopies(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+name+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}

	good := write("good", 0o755)
	blob, err := store.Add(good)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	sum := sha256.Sum256(data)
	if blob.Hex() != hex.EncodeToString(sum[:]) {
		t.Errorf("digest %s, want %x", blob.Hex(), sum)
	}
	info, err := os.Stat(blob.Path)
	if err != nil || info.Mode().Perm() != 0o500 {
		t.Errorf("stored copy mode %v err %v, want 0500", info.Mode(), err)
	}
	// Changing the source does not change the stored copy.
	write("good", 0o755)
	if err := os.WriteFile(good, []byte("changed"), 0o755); err != nil {
		t.Fatal(err)
	}
	if stored, _ := os.ReadFile(blob.Path); string(stored) != string(data) {
		t.Error("stored copy changed with its source")
	}

	cases := map[string]struct {
		mode os.FileMode
		want string
	}{
		"not-executable":  {0o644, "not executable"},
		"group-writable":  {0o775, "writable by group or others (mode 0775)"},
		"others-writable": {0o757, "writable by group or others"},
	}
	for name, tc := range cases {
		_, err := store.Add(write(name, tc.mode))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v, want an error naming the file and %q", name, err, tc.want)
		}
	}
	if _, err := store.Add(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: got %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Add(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symbolic link: got %v, want a rejection", err)
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	store, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "a")
	if err := os.WriteFile(src, []byte("a"), 0o755); err != nil {
		t.Fatal(err)
	}
	blob, err := store.Add(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Prune(map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(blob.Path); !os.IsNotExist(err) {
		t.Errorf("pruned blob still there: %v", err)
	}
}
