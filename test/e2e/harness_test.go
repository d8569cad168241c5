package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// bins holds the binaries built once for the whole package.
var bins struct {
	dir        string
	daemon     string
	example    string
	exampleV2  string
	noop       string
	dupExample string
	stdout     string
	hang       string
	exit       string
	protocol2  string
	hook       string
	panicky    string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mockforged-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := buildAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildAll(dir string) error {
	bins.dir = dir
	type build struct {
		out     *string
		name    string
		pkg     string
		ldflags string
	}
	const misbehave = "github.com/mockforge/mockforged/test/plugins/misbehave"
	builds := []build{
		{&bins.daemon, "mockforged", "github.com/mockforge/mockforged/cmd/mockforged", ""},
		{&bins.example, "db-fault-simulator", "github.com/mockforge/mockforged/examples/dbfault-sim", ""},
		{&bins.exampleV2, "db-fault-simulator-v2", "github.com/mockforge/mockforged/examples/dbfault-sim", "-X main.version=2.0.0"},
		{&bins.noop, "noop", misbehave, ""},
		{&bins.dupExample, "dup", misbehave, "-X main.id=db-fault-simulator"},
		{&bins.stdout, "stdout", misbehave, "-X main.mode=stdout"},
		{&bins.hang, "hang", misbehave, "-X main.mode=hang"},
		{&bins.exit, "exit", misbehave, "-X main.mode=exit"},
		{&bins.protocol2, "protocol2", misbehave, "-X main.mode=protocol2"},
		{&bins.hook, "hook", misbehave, "-X main.mode=hook"},
		{&bins.panicky, "panicky", misbehave, "-X main.mode=panic"},
	}
	for _, b := range builds {
		*b.out = filepath.Join(dir, b.name)
		args := []string{"build", "-o", *b.out}
		if b.ldflags != "" {
			args = append(args, "-ldflags", b.ldflags)
		}
		cmd := exec.Command("go", append(args, b.pkg)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", b.pkg, err, stderr.String())
		}
	}
	return nil
}

// syncBuffer collects the daemon's output for assertions.
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

// daemon is a running `mockforged serve`.
type daemon struct {
	t          *testing.T
	cmd        *exec.Cmd
	socket     string
	pluginsDir string
	dataDir    string
	output     *syncBuffer
	client     apiv1.DaemonClient
	exited     chan struct{}
}

// startDaemon starts the daemon on fresh directories and waits until its
// socket answers.
func startDaemon(t *testing.T, extraArgs ...string) *daemon {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "mf-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	root := t.TempDir()
	d := &daemon{
		t:          t,
		socket:     filepath.Join(sockDir, "mockforged.sock"),
		pluginsDir: filepath.Join(root, "plugins.d"),
		dataDir:    filepath.Join(root, "data"),
		output:     &syncBuffer{},
		exited:     make(chan struct{}),
	}
	if err := os.MkdirAll(d.pluginsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	d.start(extraArgs...)
	return d
}

func (d *daemon) start(extraArgs ...string) {
	t := d.t
	t.Helper()
	args := append([]string{"serve",
		"--socket", d.socket,
		"--plugins-dir", d.pluginsDir,
		"--data-dir", d.dataDir,
		"--log-level", "debug",
		"--plugin-start-timeout", "2s",
	}, extraArgs...)
	d.cmd = exec.Command(bins.daemon, args...)
	d.cmd.Stdout = d.output
	d.cmd.Stderr = d.output
	d.cmd.Env = append(os.Environ(), "MOCKFORGE_TEST_SECRET=do-not-leak")
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	d.exited = make(chan struct{})
	go func() {
		_ = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.exited
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.output.String())
		}
	})
	conn, err := grpc.NewClient("unix://"+d.socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatalf("dial daemon: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	d.client = apiv1.NewDaemonClient(conn)
	waitFor(t, 15*time.Second, "daemon socket answers", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := d.client.Status(ctx, &apiv1.StatusRequest{})
		return err == nil
	})
}

// cli runs the mockforged CLI against this daemon.
func (d *daemon) cli(stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	d.t.Helper()
	cmd := exec.Command(bins.daemon, append([]string{"--socket", d.socket}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, stdin
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatalf("run cli %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// install drops a binary into the plugins directory the recommended way:
// copy to a hidden temporary name in the same directory, then rename.
func (d *daemon) install(src, name string) string {
	d.t.Helper()
	dst := filepath.Join(d.pluginsDir, name)
	tmp := filepath.Join(d.pluginsDir, "."+name+".tmp")
	copyFile(d.t, src, tmp, 0o755)
	if err := os.Rename(tmp, dst); err != nil {
		d.t.Fatal(err)
	}
	return dst
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

func (d *daemon) list() []*apiv1.PluginInfo {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := d.client.ListPlugins(ctx, &apiv1.ListPluginsRequest{})
	if err != nil {
		d.t.Fatalf("list plugins: %v", err)
	}
	return resp.Plugins
}

// byFile returns the plugin loaded from file, or nil.
func (d *daemon) byFile(file string) *apiv1.PluginInfo {
	for _, p := range d.list() {
		if p.File == file {
			return p
		}
	}
	return nil
}

func (d *daemon) byID(id string) *apiv1.PluginInfo {
	for _, p := range d.list() {
		if p.Id == id && p.State == apiv1.PluginState_PLUGIN_STATE_RUNNING {
			return p
		}
	}
	return nil
}

// waitState waits until file is listed in state and returns it.
func (d *daemon) waitState(file string, state apiv1.PluginState, within time.Duration) *apiv1.PluginInfo {
	d.t.Helper()
	var got *apiv1.PluginInfo
	waitFor(d.t, within, fmt.Sprintf("%s in state %s", filepath.Base(file), state), func() bool {
		got = d.byFile(file)
		return got != nil && got.State == state
	})
	return got
}

func (d *daemon) exec(ctx context.Context, id, params string) (*apiv1.ExecuteResponse, error) {
	return d.client.Execute(ctx, &apiv1.ExecuteRequest{PluginId: id, ParametersJson: []byte(params)})
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processGone reports whether pid no longer runs (exited or a zombie).
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}
