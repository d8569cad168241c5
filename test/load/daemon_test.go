package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk"
)

// stopGrace bounds the daemon's shutdown after SIGTERM before the test
// kills it.
const stopGrace = 20 * time.Second

// daemon is a running `mockforged serve` on directories of its own.
type daemon struct {
	t          *testing.T
	root       string
	socket     string
	pluginsDir string
	dataDir    string
	args       []string
	// wrapper, when set, is a command line that runs the daemon, such as
	// setpriv with its options and "--".
	wrapper []string
	// binary, when set, replaces bins.daemon.
	binary string
	// env, when set, is the daemon's environment instead of the test's.
	env []string
	// clockFile holds the offset of the daemon's wall clock when it runs
	// the faultclock build.
	clockFile string
	cmd       *exec.Cmd
	output    *syncBuffer
	exited    chan struct{}
	conn      *grpc.ClientConn
	client    apiv1.DaemonClient
	tenants   apiv1.TenantsClient
}

// newDaemon prepares the directories of a daemon without starting it.
// dataDir may be empty for a fresh one. The socket lives in a short
// directory of its own, because a unix socket path is limited to 107 bytes.
func newDaemon(t *testing.T, dataDir string, extraArgs ...string) *daemon {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "mfload-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	root := t.TempDir()
	if dataDir == "" {
		dataDir = filepath.Join(root, "data")
	}
	d := &daemon{
		t:          t,
		root:       root,
		socket:     filepath.Join(sockDir, "mockforged.sock"),
		pluginsDir: filepath.Join(root, "plugins.d"),
		dataDir:    dataDir,
		args:       extraArgs,
	}
	if err := os.MkdirAll(d.pluginsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.kill()
		if t.Failed() && d.output != nil {
			t.Logf("daemon output (last 8 KiB):\n%s", d.output.Tail(8<<10))
		}
	})
	return d
}

// startDaemon starts a daemon on fresh directories.
func startDaemon(t *testing.T, extraArgs ...string) *daemon {
	t.Helper()
	d := newDaemon(t, "", extraArgs...)
	d.start()
	return d
}

// start runs the daemon and waits until its Status RPC succeeds.
func (d *daemon) start() {
	t := d.t
	t.Helper()
	args := append([]string{"serve",
		"--socket", d.socket,
		"--plugins-dir", d.pluginsDir,
		"--data-dir", d.dataDir,
		"--plugin-start-timeout", "5s",
		"--shutdown-grace", "5s",
	}, d.args...)
	d.output = &syncBuffer{}
	binary := bins.daemon
	if d.binary != "" {
		binary = d.binary
	}
	argv := append(append(slices.Clone(d.wrapper), binary), args...)
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Env = d.env
	d.cmd.Stdout = d.output
	d.cmd.Stderr = d.output
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	exited := make(chan struct{})
	d.exited = exited
	go func() {
		_ = d.cmd.Wait()
		close(exited)
	}()
	conn, err := grpc.NewClient("unix://"+d.socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes)))
	if err != nil {
		t.Fatalf("dial daemon: %v", err)
	}
	d.conn = conn
	d.client = apiv1.NewDaemonClient(conn)
	d.tenants = apiv1.NewTenantsClient(conn)
	waitFor(t, 30*time.Second, "the daemon's Status RPC to succeed", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := d.client.Status(ctx, &apiv1.StatusRequest{})
		return err == nil
	})
}

// stop sends SIGTERM and waits for the exit, killing the daemon after
// stopGrace. It fails the test when the daemon had to be killed.
func (d *daemon) stop() {
	d.t.Helper()
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(stopGrace):
		d.t.Errorf("daemon did not exit within %s of SIGTERM", stopGrace)
	}
	d.kill()
}

// kill sends SIGKILL and waits for the exit. It does nothing when the
// daemon has not been started or has already been waited for.
func (d *daemon) kill() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
	d.conn.Close()
	d.cmd = nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) list() []*apiv1.PluginInfo {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := d.client.ListPlugins(ctx, &apiv1.ListPluginsRequest{})
	if err != nil {
		d.t.Fatalf("list plugins: %v", err)
	}
	return resp.Plugins
}

// plugin returns the plugin loaded from the file name in the plugins
// directory, or nil.
func (d *daemon) plugin(name string) *apiv1.PluginInfo {
	d.t.Helper()
	file := filepath.Join(d.pluginsDir, name)
	for _, p := range d.list() {
		if p.File == file {
			return p
		}
	}
	return nil
}

// waitPlugin waits until the plugin file name is in state and cond, when
// not nil, holds for it.
func (d *daemon) waitPlugin(name string, state apiv1.PluginState, within time.Duration, cond func(*apiv1.PluginInfo) bool) *apiv1.PluginInfo {
	d.t.Helper()
	var got *apiv1.PluginInfo
	waitFor(d.t, within, fmt.Sprintf("plugin file %s in state %s", name, state), func() bool {
		got = d.plugin(name)
		return got != nil && got.State == state && (cond == nil || cond(got))
	})
	return got
}

// install copies src into the plugins directory under name the
// recommended way: write a hidden temporary file, then rename it. trailer,
// when not empty, is appended to the copy.
func (d *daemon) install(src, name, trailer string) {
	d.t.Helper()
	if err := installFile(src, d.pluginsDir, name, trailer); err != nil {
		d.t.Fatal(err)
	}
}

func installFile(src, dir, name, trailer string) error {
	data, err := readWithTrailer(src, trailer)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// idTrailer returns the trailer that gives a copy of the selfid binary the
// plugin id id. generation makes copies with the same id differ.
func idTrailer(id string, generation int) string {
	return fmt.Sprintf("\ngeneration=%d\nmockforged-test-id=%s\n", generation, id)
}

// fdCount returns the number of open descriptors of pid.
func fdCount(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("count descriptors of pid %d: %w", pid, err)
	}
	return len(entries), nil
}

// fdTargets returns what each open descriptor of pid refers to, such as
// "socket:[123]" or a file path, counted by target.
func fdTargets(pid int) map[string]int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	targets := map[string]int{}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if strings.HasPrefix(target, "socket:") {
			target = "socket"
		} else if strings.HasPrefix(target, "pipe:") {
			target = "pipe"
		}
		targets[target]++
	}
	return targets
}

// waitSettled waits until no plugin of the daemon is starting, so that
// the plugins' processes and connections are in place before a baseline
// of descriptors is taken.
func (d *daemon) waitSettled() {
	d.t.Helper()
	waitFor(d.t, 60*time.Second, "every plugin to finish starting", func() bool {
		for _, p := range d.list() {
			if p.State == apiv1.PluginState_PLUGIN_STATE_STARTING {
				return false
			}
		}
		return true
	})
}

// rssBytes returns the resident set size of pid from /proc/PID/status.
func rssBytes(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmRSS %q of pid %d: %w", rest, pid, err)
		}
		return kib << 10, nil
	}
	return 0, fmt.Errorf("no VmRSS in the status of pid %d", pid)
}

// processesUnder returns the pids of live processes whose command line
// contains dir: the plugins a daemon started from its data directory's
// copies of plugin binaries.
func processesUnder(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) {
			continue
		}
		if !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processState returns the state letter of pid from /proc/PID/stat, such
// as "R", "S", "T" (stopped) or "Z", or "" when pid does not exist.
func processState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// processGone reports whether pid no longer runs (exited or a zombie).
func processGone(pid int) bool {
	switch processState(pid) {
	case "", "Z", "X":
		return true
	}
	return false
}

// checkNoOrphans fails the test when a process started from dir is still
// running within a few seconds of the daemon's exit, and kills it.
func checkNoOrphans(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := processesUnder(dir)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("orphan processes started from %s still run after the daemon exited: %v", dir, pids)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer collects a child's output for failure messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns the last n bytes of the output.
func (b *syncBuffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func readWithTrailer(src, trailer string) ([]byte, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	return append(data, trailer...), nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
