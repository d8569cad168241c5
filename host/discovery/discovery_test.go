package discovery

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// collector gathers events from a running watcher.
type collector struct {
	mu     sync.Mutex
	events []Event
}

func (c *collector) add(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
}

func (c *collector) snapshot() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

func (c *collector) count(kind Kind, path string) int {
	n := 0
	for _, ev := range c.snapshot() {
		if ev.Kind == kind && ev.Path == path {
			n++
		}
	}
	return n
}

func startWatcher(t *testing.T, dir string) *collector {
	t.Helper()
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	w := New(Options{Dir: dir, StableFor: 300 * time.Millisecond, RescanEvery: 200 * time.Millisecond})
	go func() { done <- w.Run(ctx, c.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	time.Sleep(50 * time.Millisecond)
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExistingFilesReportedAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin")
	if err := os.WriteFile(path, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startWatcher(t, dir)
	eventually(t, "ready event", func() bool { return c.count(Ready, path) == 1 })
}

func TestRenameIntoPlaceReportedOnce(t *testing.T) {
	dir := t.TempDir()
	c := startWatcher(t, dir)
	tmp := filepath.Join(dir, ".plugin.tmp")
	if err := os.WriteFile(tmp, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plugin")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ready event", func() bool { return c.count(Ready, path) == 1 })
	time.Sleep(600 * time.Millisecond)
	if n := c.count(Ready, path); n != 1 {
		t.Errorf("ready reported %d times, want once", n)
	}
	for _, ev := range c.snapshot() {
		if ev.Path == tmp {
			t.Errorf("temporary name reported: %+v", ev)
		}
	}
}

func TestInPlaceWriteWaitsForStableFile(t *testing.T) {
	dir := t.TempDir()
	c := startWatcher(t, dir)
	path := filepath.Join(dir, "plugin")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if _, err := f.Write([]byte("chunk")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if n := c.count(Ready, path); n != 0 {
			t.Fatalf("file reported ready after chunk %d while still being written", i)
		}
	}
	f.Close()
	eventually(t, "ready after the writes stopped", func() bool { return c.count(Ready, path) == 1 })
}

func TestReplaceAndRemove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin")
	if err := os.WriteFile(path, []byte("v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startWatcher(t, dir)
	eventually(t, "first ready", func() bool { return c.count(Ready, path) == 1 })

	tmp := filepath.Join(dir, "plugin.part")
	if err := os.WriteFile(tmp, []byte("version two"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "second ready after replace", func() bool { return c.count(Ready, path) == 2 })

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "removed", func() bool { return c.count(Removed, path) == 1 })
}

func TestIgnoredNames(t *testing.T) {
	dir := t.TempDir()
	c := startWatcher(t, dir)
	for _, name := range []string{".hidden", "x.tmp", "x.part", "backup~", ".x.swp", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(800 * time.Millisecond)
	if evs := c.snapshot(); len(evs) != 0 {
		t.Errorf("ignored names produced events: %+v", evs)
	}
}

func TestUnchangedFileNotReportedAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plugin")
	if err := os.WriteFile(path, []byte("v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startWatcher(t, dir)
	eventually(t, "ready", func() bool { return c.count(Ready, path) == 1 })
	time.Sleep(700 * time.Millisecond)
	if n := c.count(Ready, path); n != 1 {
		t.Errorf("unchanged file reported %d times over several rescans, want once", n)
	}
}
