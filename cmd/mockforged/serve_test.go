package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mockforge/mockforged/host/daemon"
	"github.com/mockforge/mockforged/sdk"
)

// serveHarness runs the serve command with a fake daemon.Run.
type serveHarness struct {
	app    *app
	stderr *syncBuffer

	mu      sync.Mutex
	options daemon.Options
	calls   int
}

func newServeHarness(run func(ctx context.Context) error) *serveHarness {
	h := &serveHarness{stderr: &syncBuffer{}}
	h.app = &app{
		streams:  streams{in: strings.NewReader(""), out: &strings.Builder{}, err: h.stderr},
		builtins: []builtinPlugin{{name: "anomaly", newPlugin: func() sdk.Plugin { return nil }}},
		runDaemon: func(ctx context.Context, opts daemon.Options) error {
			h.mu.Lock()
			h.options = opts
			h.calls++
			h.mu.Unlock()
			return run(ctx)
		},
		exit: func(int) { panic("unexpected exit") },
	}
	return h
}

func returnAtOnce(context.Context) error { return nil }

func TestServeOptionsFromFlags(t *testing.T) {
	dir := t.TempDir()
	h := newServeHarness(returnAtOnce)

	code := h.app.run(context.Background(), []string{
		"serve",
		"--socket", filepath.Join(dir, "d.sock"),
		"--data-dir", filepath.Join(dir, "data"),
		"--plugins-dir", filepath.Join(dir, "plugins"),
		"--default-timeout", "3s",
		"--shutdown-grace", "4s",
		"--plugin-start-timeout", "5s",
		"--rescan-interval", "6s",
	})

	if code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", code, h.stderr)
	}
	got := h.options
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"SocketPath", got.SocketPath, filepath.Join(dir, "d.sock")},
		{"DataDir", got.DataDir, filepath.Join(dir, "data")},
		{"PluginsDir", got.PluginsDir, filepath.Join(dir, "plugins")},
		{"DefaultCallTimeout", got.DefaultCallTimeout, 3 * time.Second},
		{"ShutdownGrace", got.ShutdownGrace, 4 * time.Second},
		{"PluginStartTimeout", got.PluginStartTimeout, 5 * time.Second},
		{"RescanInterval", got.RescanInterval, 6 * time.Second},
		{"Version", got.Version, currentVersion()},
		{"Logger set", got.Logger != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("Options.%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if len(got.Builtins) != 1 || got.Builtins[0].Name != "anomaly" || strings.Join(got.Builtins[0].Args, " ") != "__plugin anomaly" {
		t.Errorf("Options.Builtins = %+v, want anomaly started with [__plugin anomaly]", got.Builtins)
	}
}

func TestServeOptionsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MOCKFORGE_SOCKET", filepath.Join(dir, "env.sock"))
	t.Setenv("MOCKFORGE_DATA_DIR", filepath.Join(dir, "env-data"))
	t.Setenv("MOCKFORGE_PLUGINS_DIR", filepath.Join(dir, "env-plugins"))
	h := newServeHarness(returnAtOnce)

	code := h.app.run(context.Background(), []string{"serve", "--data-dir", filepath.Join(dir, "flag-data")})

	if code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", code, h.stderr)
	}
	if h.options.SocketPath != filepath.Join(dir, "env.sock") {
		t.Errorf("SocketPath = %s, want the MOCKFORGE_SOCKET value", h.options.SocketPath)
	}
	if h.options.PluginsDir != filepath.Join(dir, "env-plugins") {
		t.Errorf("PluginsDir = %s, want the MOCKFORGE_PLUGINS_DIR value", h.options.PluginsDir)
	}
	if h.options.DataDir != filepath.Join(dir, "flag-data") {
		t.Errorf("DataDir = %s, want the --data-dir flag over MOCKFORGE_DATA_DIR", h.options.DataDir)
	}
}

func TestServeRelativePathsMadeAbsolute(t *testing.T) {
	h := newServeHarness(returnAtOnce)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}

	code := h.app.run(context.Background(), []string{"serve", "--socket", "d.sock", "--plugins-dir", "plugins.d", "--data-dir", "data"})

	if code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", code, h.stderr)
	}
	if h.options.PluginsDir != filepath.Join(wd, "plugins.d") {
		t.Errorf("PluginsDir = %s, want %s", h.options.PluginsDir, filepath.Join(wd, "plugins.d"))
	}
	if h.options.SocketPath != filepath.Join(wd, "d.sock") {
		t.Errorf("SocketPath = %s, want %s", h.options.SocketPath, filepath.Join(wd, "d.sock"))
	}
}

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "zero default timeout", args: []string{"--default-timeout", "0s"}, want: "invalid --default-timeout 0s: it must be positive"},
		{name: "negative grace", args: []string{"--shutdown-grace", "-1s"}, want: "invalid --shutdown-grace -1s"},
		{name: "bad duration", args: []string{"--plugin-start-timeout", "soon"}, want: `invalid argument "soon" for "--plugin-start-timeout"`},
		{name: "bad log level", args: []string{"--log-level", "verbose"}, want: "use one of trace, debug, info, warn, error"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, want: "use one of text, json"},
		{name: "empty data dir", args: []string{"--data-dir", ""}, want: "--data-dir is empty; set it or MOCKFORGE_DATA_DIR"},
		{name: "socket too long", args: []string{"--socket", "/tmp/" + strings.Repeat("x", 150)}, want: "over the operating system's limit of 107 bytes"},
		{name: "extra argument", args: []string{"now"}, want: `unknown command "now" for "mockforged serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newServeHarness(returnAtOnce)

			code := h.app.run(context.Background(), append([]string{"serve", "--socket", "/tmp/mf-test.sock"}, tt.args...))

			if code != exitUsage {
				t.Errorf("exit status = %d, want 2", code)
			}
			if !strings.Contains(h.stderr.String(), tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", h.stderr, tt.want)
			}
			if h.calls != 0 {
				t.Errorf("daemon.Run called %d times, want 0", h.calls)
			}
		})
	}
}

func TestServeRunErrorExitsOne(t *testing.T) {
	h := newServeHarness(func(context.Context) error {
		return os.ErrPermission
	})

	code := h.app.run(context.Background(), []string{"serve", "--socket", "/tmp/mf-test.sock"})

	if code != exitFailure {
		t.Errorf("exit status = %d, want 1", code)
	}
	if !strings.Contains(h.stderr.String(), "mockforged: permission denied") {
		t.Errorf("stderr = %q, want the daemon's error", h.stderr)
	}
}

func TestServeStopsOnSignal(t *testing.T) {
	started := make(chan struct{})
	h := newServeHarness(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return nil
	})

	code := make(chan int, 1)
	go func() {
		code <- h.app.run(context.Background(), []string{"serve", "--socket", "/tmp/mf-test.sock", "--log-format", "json"})
	}()
	<-started
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	select {
	case got := <-code:
		if got != exitOK {
			t.Errorf("exit status = %d, want 0; stderr: %s", got, h.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return within 10s of SIGTERM")
	}
	line := firstLogLine(t, h.stderr.String())
	if line["@message"] == nil || !strings.Contains(line["@message"].(string), "stop signal received") || line["signal"] != "terminated" {
		t.Errorf("log line = %v, want a JSON stop-signal line naming the signal", line)
	}
}

func TestServeSecondSignalExits(t *testing.T) {
	started := make(chan struct{})
	stopping := make(chan struct{})
	exited := make(chan int, 1)
	h := newServeHarness(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		close(stopping)
		<-exited // a slow shutdown that only the second signal ends
		return nil
	})
	h.app.exit = func(code int) { exited <- code }

	done := make(chan int, 1)
	go func() {
		done <- h.app.run(context.Background(), []string{"serve", "--socket", "/tmp/mf-test.sock"})
	}()
	<-started
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-stopping
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}

	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return within 10s of the second signal")
	}
	if !strings.Contains(h.stderr.String(), "second stop signal received") {
		t.Errorf("stderr = %q, want the second-signal log line", h.stderr)
	}
}

func TestServeLogLevel(t *testing.T) {
	h := newServeHarness(func(context.Context) error { return nil })
	h.app.runDaemon = func(_ context.Context, opts daemon.Options) error {
		opts.Logger.Info("hidden at warn level")
		opts.Logger.Warn("shown at warn level")
		return nil
	}

	code := h.app.run(context.Background(), []string{"serve", "--socket", "/tmp/mf-test.sock", "--log-level", "warn"})

	if code != exitOK {
		t.Fatalf("exit status = %d, want 0", code)
	}
	if strings.Contains(h.stderr.String(), "hidden at warn level") {
		t.Errorf("stderr = %q, want no info line at --log-level warn", h.stderr)
	}
	if !strings.Contains(h.stderr.String(), "[WARN]  mockforged: shown at warn level") {
		t.Errorf("stderr = %q, want the warn line in text format", h.stderr)
	}
}

func firstLogLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	first, _, _ := strings.Cut(logs, "\n")
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatalf("log line %q is not JSON: %v", first, err)
	}
	return line
}

// syncBuffer is a strings.Builder safe for the concurrent writes of a
// logger and the reads of a test.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
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
