package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// dataDirTmpfsSize is the size of the tmpfs that holds the data directory
// in the disk rows. It holds the stored copies of the test plugins (about
// 20 MiB each) and leaves room to fill.
const dataDirTmpfsSize = "192m"

// faultWindow is how long a file-system fault lasts while the load runs.
const faultWindow = 2 * time.Second

// mountTmpfs mounts a tmpfs of size at a new directory inside the test's
// temporary directory and unmounts it when the test ends.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs at %s (%v: %s); this fault needs a machine that allows mounts", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmount tmpfs %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
		}
	})
	return filepath.Join(dir, "data")
}

// fillDisk writes path until the file system reports ENOSPC. The loop is
// bounded by the size of the tmpfs.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for range 4096 {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatalf("fill %s: %v", path, err)
		}
	}
	t.Fatalf("wrote 256 MiB to %s without filling the tmpfs", path)
}

// checkWritesResume fails the test unless the background writer gets a
// write acknowledged within 10 s after the fault ended.
func checkWritesResume(t *testing.T, load *background) {
	t.Helper()
	before := len(load.ackedKeys())
	waitFor(t, 10*time.Second, "a write acknowledged after the fault ended", func() bool {
		return len(load.ackedKeys()) > before
	})
}

func diskFull() faultCase {
	return faultCase{
		name:      "disk full on the data dir",
		needsRoot: true,
		dataDir:   func(t *testing.T) string { return mountTmpfs(t, dataDirTmpfsSize) },
		inject: func(t *testing.T, d *daemon, load *background) {
			filler := filepath.Join(filepath.Dir(d.dataDir), "filler")
			fillDisk(t, filler)
			putsBefore, callsBefore := load.puts.snapshot(), load.calls.snapshot()
			time.Sleep(faultWindow)
			putsDuring, callsDuring := load.puts.snapshot(), load.calls.snapshot()
			t.Logf("writes while the disk was full: %d acknowledged, %d failed (first: %v)",
				putsDuring.ok-putsBefore.ok, putsDuring.failed-putsBefore.failed, putsDuring.firstError)
			if putsDuring.failed == putsBefore.failed {
				t.Errorf("no write failed in the %s the disk was full", faultWindow)
			} else if !strings.Contains(putsDuring.firstError.Error(), "no space left on device") {
				t.Errorf("write on a full disk failed with %v, want an error that names ENOSPC", putsDuring.firstError)
			}
			t.Logf("calls while the disk was full: %d, of which %d report a failed hook (first: %s)",
				callsDuring.attempts-callsBefore.attempts, callsDuring.hookFailures-callsBefore.hookFailures, callsDuring.firstHookFailure)
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			checkWritesResume(t, load)
			checkAuditLines(t, filepath.Join(d.dataDir, "audit.log"))
		},
	}
}

// checkAuditLines fails the test for every line of the audit log that is
// not one JSON object, such as a record cut short by a full disk.
func checkAuditLines(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	bad := 0
	for i, line := range lines {
		var record map[string]any
		if err := json.Unmarshal(line, &record); err != nil {
			bad++
			if bad <= 3 {
				t.Errorf("audit log line %d of %d is not a JSON object (%v): %.120q", i+1, len(lines), err, line)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d audit log lines are not JSON objects", bad, len(lines))
	}
}

// withoutDACOverride returns a setpriv command line that runs the daemon
// without the capabilities that let root ignore file modes, so that a
// data directory without write permission is read-only for it as for any
// other user. Other users need no wrapper.
func withoutDACOverride(t *testing.T) []string {
	if os.Geteuid() != 0 {
		return nil
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is missing, and root ignores file modes without it")
	}
	const caps = "-dac_override,-dac_read_search"
	return []string{setpriv, "--inh-caps=" + caps, "--bounding-set=" + caps, "--"}
}

// makeReadOnly removes the write permission from every file and directory
// under dir and returns a function that restores the modes. A mounted file
// system cannot be remounted read-only here: the daemon holds its store
// and audit log open for writing, so the kernel rejects with EBUSY.
func makeReadOnly(t *testing.T, dir string) (restore func()) {
	t.Helper()
	modes := map[string]os.FileMode{}
	err := filepath.WalkDir(dir, func(path string, entry os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		modes[path] = info.Mode().Perm()
		return os.Chmod(path, info.Mode().Perm()&^0o222)
	})
	restore = func() {
		for path, mode := range modes {
			if err := os.Chmod(path, mode); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("restore mode of %s: %v", path, err)
			}
		}
	}
	if err != nil {
		restore()
		t.Fatalf("make %s read-only: %v", dir, err)
	}
	return restore
}

// configureNoop stores an empty config for the no-op plugin, which writes
// a new file into the data directory.
func configureNoop(d *daemon) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := d.client.ConfigurePlugin(ctx, &apiv1.ConfigurePluginRequest{Id: noopID, ConfigJson: []byte(`{"enabled":true}`)})
	return err
}

func dataDirReadOnly() faultCase {
	return faultCase{
		name:    "data dir read-only",
		wrapper: withoutDACOverride,
		inject: func(t *testing.T, d *daemon, load *background) {
			restore := makeReadOnly(t, d.dataDir)
			defer restore()

			if err := configureNoop(d); err == nil {
				t.Error("config change with a read-only data dir succeeded, want an error")
			} else if !strings.Contains(err.Error(), d.dataDir) {
				t.Errorf("config change with a read-only data dir failed with %v, want an error that names the path", err)
			} else {
				t.Logf("config change with a read-only data dir: %v", err)
			}
			// A new plugin file cannot be copied into the binary store.
			d.install(bins.selfid, victimName, idTrailer(victimID, 0))
			failed := d.waitPlugin(victimName, apiv1.PluginState_PLUGIN_STATE_FAILED, 30*time.Second, nil)
			t.Logf("plugin added with a read-only data dir: %s", failed.Reason)
			time.Sleep(faultWindow)

			restore()
			if err := configureNoop(d); err != nil {
				t.Errorf("config change after the data dir is writable again: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := d.client.ReloadPlugins(ctx, &apiv1.ReloadPluginsRequest{}); err != nil {
				t.Fatalf("reload plugins: %v", err)
			}
			d.waitPlugin(victimName, apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, nil)
			checkWritesResume(t, load)

			// Removing the plugin again brings the descriptors back to the
			// baseline taken before it was added.
			if err := os.Remove(filepath.Join(d.pluginsDir, victimName)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "the victim to leave the list", func() bool { return d.plugin(victimName) == nil })
		},
	}
}

// Files dropped into plugins.d at once in the thousands-of-files row: most
// are not executable, some are executable scripts that exit before the
// handshake, and each kind fails with its own reason.
const (
	droppedDataFiles   = 1800
	droppedScriptFiles = 200
)

func thousandsOfFiles() faultCase {
	return faultCase{
		name: "thousands of files dropped into plugins.d",
		inject: func(t *testing.T, d *daemon, _ *background) {
			dropped := map[string]bool{}
			for i := range droppedDataFiles + droppedScriptFiles {
				name, mode, body := fmt.Sprintf("junk-%04d", i), os.FileMode(0o644), "not a plugin\n"
				if i >= droppedDataFiles {
					name, mode, body = fmt.Sprintf("script-%04d", i), 0o755, "#!/bin/sh\nexit 3\n"
				}
				path := filepath.Join(d.pluginsDir, name)
				if err := os.WriteFile(path, []byte(body), mode); err != nil {
					t.Fatal(err)
				}
				dropped[path] = true
			}
			waitFor(t, 90*time.Second, "every dropped file to be listed as failed", func() bool {
				return countFailed(d.list(), dropped) == len(dropped)
			})
			for path := range dropped {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 60*time.Second, "every dropped file to leave the list", func() bool {
				return countListed(d.list(), dropped) == 0
			})
			mustCall(t, d, noopID, `{}`)
		},
	}
}

func countFailed(plugins []*apiv1.PluginInfo, files map[string]bool) int {
	n := 0
	for _, p := range plugins {
		if files[p.File] && p.State == apiv1.PluginState_PLUGIN_STATE_FAILED {
			n++
		}
	}
	return n
}

func countListed(plugins []*apiv1.PluginInfo, files map[string]bool) int {
	n := 0
	for _, p := range plugins {
		if files[p.File] {
			n++
		}
	}
	return n
}
