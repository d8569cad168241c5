package pluginfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddRejectsOtherOwner checks that a binary owned by another user is
// rejected, because that user could replace what the daemon runs. Changing a
// file's owner needs root, so the test skips for other users.
func TestAddRejectsOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another uid needs root")
	}
	dir := t.TempDir()
	store, err := OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "foreign")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}

	_, err = store.Add(path)

	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("Add of a file owned by uid 65534: error %v, want ErrUnsafe", err)
	}
	if !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("error %q does not name the owner", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the store kept %d entries after a rejected file", len(entries))
	}
}
