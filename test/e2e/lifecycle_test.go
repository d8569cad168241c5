package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

const running = apiv1.PluginState_PLUGIN_STATE_RUNNING
const failed = apiv1.PluginState_PLUGIN_STATE_FAILED

func TestDropByRenameServedWithinOneSecond(t *testing.T) {
	d := startDaemon(t)
	start := time.Now()
	path := d.install(bins.example, "db-fault-simulator")
	waitFor(t, time.Second, "dropped plugin running", func() bool {
		p := d.byFile(path)
		return p != nil && p.State == running
	})
	t.Logf("plugin served %s after the rename", time.Since(start))

	p := d.byFile(path)
	if p.Id != "db-fault-simulator" || p.Version != "1.0.0" {
		t.Errorf("listed id %q version %q, want db-fault-simulator 1.0.0", p.Id, p.Version)
	}
	if len(p.Sha256) != 64 {
		t.Errorf("sha256 %q is not a hex SHA-256", p.Sha256)
	}
	if len(p.Capabilities) != 1 || p.Capabilities[0] != "fault_injection" {
		t.Errorf("capabilities = %v, want [fault_injection]", p.Capabilities)
	}
}

func TestSlowCopyLaunchedOnlyWhenComplete(t *testing.T) {
	d := startDaemon(t)
	data, err := os.ReadFile(bins.example)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.pluginsDir, "slow-copy")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	const chunks = 10
	size := (len(data) + chunks - 1) / chunks
	for i := 0; i < len(data); i += size {
		end := min(i+size, len(data))
		if _, err := f.Write(data[i:end]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if p := d.byFile(path); p != nil {
			t.Fatalf("partial file was picked up after %d of %d bytes: state %s, reason %q", end, len(data), p.State, p.Reason)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	p := d.waitState(path, running, 10*time.Second)
	if p.Restarts != 0 {
		t.Errorf("restarts = %d, want 0", p.Restarts)
	}
}

func TestConfigureAndExecuteFaults(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.example, "db-fault-simulator")
	d.waitState(path, running, 10*time.Second)
	ctx := context.Background()

	_, err := d.client.ConfigurePlugin(ctx, &apiv1.ConfigurePluginRequest{Id: "db-fault-simulator", ConfigJson: []byte(`{"default_timeout_ms": 100}`)})
	if err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	_, err = d.client.ConfigurePlugin(ctx, &apiv1.ConfigurePluginRequest{Id: "db-fault-simulator", ConfigJson: []byte(`{"default_timeout_ms": "soon"}`)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "/default_timeout_ms") {
		t.Fatalf("invalid config: got %v, want InvalidArgument naming /default_timeout_ms", err)
	}
	desc, err := d.client.DescribePlugin(ctx, &apiv1.DescribePluginRequest{Id: "db-fault-simulator"})
	if err != nil {
		t.Fatal(err)
	}
	if string(desc.ConfigJson) != `{"default_timeout_ms":100}` {
		t.Errorf("config after rejected change = %s, want the previous one", desc.ConfigJson)
	}
	if !strings.Contains(string(desc.ConfigSchema), "default_timeout_ms") {
		t.Errorf("described schema lacks default_timeout_ms: %s", desc.ConfigSchema)
	}

	t.Run("slow_query", func(t *testing.T) {
		resp, err := d.exec(ctx, "db-fault-simulator", `{"fault_type":"slow_query","latency_ms":50}`)
		if err != nil || !resp.Success {
			t.Fatalf("slow_query: resp %v, err %v", resp, err)
		}
		if resp.Duration.AsDuration() < 50*time.Millisecond {
			t.Errorf("slow_query took %s, want at least 50ms", resp.Duration.AsDuration())
		}
	})
	t.Run("connection_timeout uses configured default", func(t *testing.T) {
		resp, err := d.exec(ctx, "db-fault-simulator", `{"fault_type":"connection_timeout"}`)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Success || resp.Error.GetCode() != "connection_timeout" || !strings.Contains(resp.Error.GetMessage(), "100ms") {
			t.Errorf("got success %v error %v, want connection_timeout after 100ms", resp.Success, resp.Error)
		}
	})
	t.Run("query_error", func(t *testing.T) {
		resp, err := d.exec(ctx, "db-fault-simulator", `{"fault_type":"query_error"}`)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Success || resp.Error.GetCode() != "query_error" || !strings.Contains(resp.Error.GetMessage(), "57014") {
			t.Errorf("got success %v error %v, want query_error with SQLSTATE 57014", resp.Success, resp.Error)
		}
	})
	t.Run("timeout honoured", func(t *testing.T) {
		start := time.Now()
		_, err := d.client.Execute(ctx, &apiv1.ExecuteRequest{
			PluginId:       "db-fault-simulator",
			ParametersJson: []byte(`{"fault_type":"slow_query","latency_ms":5000}`),
			Timeout:        durationOf(200 * time.Millisecond),
		})
		if status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("timed-out call returned after %s; the 5s sleep was not cancelled", elapsed)
		}
	})
	t.Run("unknown plugin", func(t *testing.T) {
		_, err := d.exec(ctx, "no-such-plugin", `{}`)
		if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "mockforged plugins list") {
			t.Errorf("got %v, want NotFound with a hint", err)
		}
	})
	t.Run("parameters not an object", func(t *testing.T) {
		_, err := d.exec(ctx, "db-fault-simulator", `[1,2]`)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("got %v, want InvalidArgument", err)
		}
	})
}

func TestConfigPersistsAndDisables(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.example, "db-fault-simulator")
	d.waitState(path, running, 10*time.Second)
	ctx := context.Background()

	if _, err := d.client.ConfigurePlugin(ctx, &apiv1.ConfigurePluginRequest{Id: "db-fault-simulator", ConfigJson: []byte(`{"default_timeout_ms": 70}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.client.ReloadPlugins(ctx, &apiv1.ReloadPluginsRequest{Id: "db-fault-simulator"}); err != nil {
		t.Fatalf("reload: %v", err)
	}
	resp, err := d.exec(ctx, "db-fault-simulator", `{"fault_type":"connection_timeout"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Error.GetMessage(), "70ms") {
		t.Errorf("after reload the call reported %q; the persisted 70ms config was not applied", resp.Error.GetMessage())
	}

	if _, err := d.client.ConfigurePlugin(ctx, &apiv1.ConfigurePluginRequest{Id: "db-fault-simulator", ConfigJson: []byte(`{"enabled": false, "default_timeout_ms": 70}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = d.exec(ctx, "db-fault-simulator", `{"fault_type":"query_error"}`)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("disabled plugin: got %v, want FailedPrecondition saying it is disabled", err)
	}
}

func TestReplaceBinaryWithoutFailedCalls(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.example, "db-fault-simulator")
	d.waitState(path, running, 10*time.Second)

	var calls, failures atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				resp, err := d.exec(ctx, "db-fault-simulator", `{"fault_type":"slow_query","latency_ms":2}`)
				cancel()
				calls.Add(1)
				if err != nil || !resp.Success {
					failures.Add(1)
					if err == nil {
						err = status.Error(codes.Unknown, resp.GetMessage())
					}
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	d.install(bins.exampleV2, "db-fault-simulator")
	waitFor(t, 10*time.Second, "version 2.0.0 served", func() bool {
		p := d.byFile(path)
		return p != nil && p.Version == "2.0.0" && p.State == running
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed during the swap; first: %v", failures.Load(), calls.Load(), firstErr.Load())
	}
	resp, err := d.exec(context.Background(), "db-fault-simulator", `{"fault_type":"slow_query","latency_ms":1}`)
	if err != nil || resp.PluginVersion != "2.0.0" {
		t.Errorf("after the swap: version %q, err %v; want 2.0.0", resp.GetPluginVersion(), err)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "removed plugin gone from the list", func() bool { return d.byFile(path) == nil })
	if _, err := d.exec(context.Background(), "db-fault-simulator", `{}`); status.Code(err) != codes.NotFound {
		t.Errorf("call to removed plugin: got %v, want NotFound", err)
	}
}

func TestRejectedFilesWhileGoodPluginServes(t *testing.T) {
	d := startDaemon(t)
	good := d.install(bins.example, "good plugin with spaces")
	d.waitState(good, running, 10*time.Second)

	textFile := filepath.Join(d.pluginsDir, "notes")
	if err := os.WriteFile(textFile, []byte("just some text\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notPlugin := d.install("/bin/true", "not-a-plugin")
	stdout := d.install(bins.stdout, "stdout-talker")
	hang := d.install(bins.hang, "never-handshakes")
	exits := d.install(bins.exit, "exits-at-once")
	dup := d.install(bins.dupExample, "duplicate-id")
	proto2 := d.install(bins.protocol2, "protocol-two")
	writable := d.install(bins.noop, "group-writable")
	if err := os.Chmod(writable, 0o775); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, file, reason string
	}{
		{"text file with exec bit", textFile, "exec format error"},
		{"executable that is not a plugin", notPlugin, "exited before completing the handshake"},
		{"stdout before handshake", stdout, "wrote to stdout before the handshake"},
		{"start timeout", hang, "start timeout"},
		{"exits at once", exits, "exited before completing the handshake"},
		{"duplicate id", dup, `duplicate plugin id "db-fault-simulator"`},
		{"unsupported protocol", proto2, "unsupported plugin protocol"},
		{"group-writable binary", writable, "writable by group or others (mode 0775)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := d.waitState(tc.file, failed, 15*time.Second)
			if !strings.Contains(p.Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", p.Reason, tc.reason)
			}
			if strings.Contains(p.Reason, "\n") {
				t.Errorf("reason spans several lines: %q", p.Reason)
			}
		})
	}

	resp, err := d.exec(context.Background(), "db-fault-simulator", `{"fault_type":"slow_query","latency_ms":1}`)
	if err != nil || !resp.Success {
		t.Fatalf("good plugin stopped serving: %v %v", resp, err)
	}
	if p := d.byFile(good); p.Restarts != 0 || p.State != running {
		t.Errorf("good plugin state %s restarts %d", p.State, p.Restarts)
	}
	// A rejected file is not retried while it stays unchanged.
	before := strings.Count(d.output.String(), "never-handshakes")
	time.Sleep(3 * time.Second)
	if after := strings.Count(d.output.String(), "never-handshakes"); after != before {
		t.Errorf("unchanged rejected file was retried: %d log mentions before, %d after", before, after)
	}
}

func TestPluginKilledDuringCall(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.example, "db-fault-simulator")
	p := d.waitState(path, running, 10*time.Second)

	errc := make(chan error, 1)
	go func() {
		_, err := d.exec(context.Background(), "db-fault-simulator", `{"fault_type":"slow_query","latency_ms":20000}`)
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(int(p.Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "exited") {
			t.Errorf("in-flight call: got %v, want Unavailable saying the plugin exited", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight call hung after its plugin was killed")
	}
	var back *apiv1.PluginInfo
	waitFor(t, 10*time.Second, "plugin relaunched", func() bool {
		back = d.byFile(path)
		return back != nil && back.State == running && back.Pid != p.Pid
	})
	if back.Restarts != 1 {
		t.Errorf("restarts = %d, want 1", back.Restarts)
	}
	resp, err := d.exec(context.Background(), "db-fault-simulator", `{"fault_type":"slow_query","latency_ms":1}`)
	if err != nil || !resp.Success {
		t.Errorf("call after restart: %v %v", resp, err)
	}
}

func TestLargePayloadsBothWays(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.example, "db-fault-simulator")
	d.waitState(path, running, 10*time.Second)
	payload := strings.Repeat("x", 5<<20)
	params, _ := json.Marshal(map[string]any{"fault_type": "slow_query", "latency_ms": 0, "payload": payload})
	resp, err := d.exec(context.Background(), "db-fault-simulator", string(params))
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(resp.DataJson, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Payload) != len(payload) {
		t.Errorf("echoed payload is %d bytes, want %d", len(data.Payload), len(payload))
	}
}

func TestHooksAndPanics(t *testing.T) {
	d := startDaemon(t)
	noop := d.install(bins.noop, "noop")
	hook := d.install(bins.hook, "hook")
	panicky := d.install(bins.panicky, "panicky")
	d.waitState(noop, running, 10*time.Second)
	d.waitState(hook, running, 10*time.Second)
	d.waitState(panicky, running, 10*time.Second)
	ctx := context.Background()

	_, err := d.exec(ctx, "noop", `{"reject": true}`)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "rejected by the test hook") {
		t.Fatalf("before hook: got %v, want FailedPrecondition with the hook's message", err)
	}
	resp, err := d.exec(ctx, "noop", `{"hello": "world"}`)
	if err != nil || !resp.Success {
		t.Fatalf("call with failing after hook: %v %v", resp, err)
	}
	if len(resp.HookFailures) != 1 || resp.HookFailures[0].Point != "after_execute" {
		t.Errorf("hook failures = %v, want one after_execute failure beside the result", resp.HookFailures)
	}

	_, err = d.exec(ctx, "panicky", `{}`)
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("panicking plugin: got %v, want Internal saying it panicked", err)
	}
	if p := d.byFile(panicky); p.State != running || p.Restarts != 0 {
		t.Errorf("panicking plugin: state %s restarts %d, want running without restart", p.State, p.Restarts)
	}

	audit, err := os.ReadFile(filepath.Join(d.dataDir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(audit)), "\n")
	if len(lines) < 3 {
		t.Fatalf("audit log has %d lines, want one per call (at least 3)", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"time", "tenant", "plugin_id", "plugin_version", "duration_ms", "outcome"} {
		if _, ok := rec[key]; !ok {
			t.Errorf("audit record lacks %q: %s", key, lines[0])
		}
	}
}

func TestShutdownLeavesNoPluginProcess(t *testing.T) {
	t.Run("SIGTERM runs Cleanup", func(t *testing.T) {
		d := startDaemon(t)
		path := d.install(bins.noop, "noop")
		p := d.waitState(path, running, 10*time.Second)
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-d.exited:
		case <-time.After(20 * time.Second):
			t.Fatal("daemon did not exit after SIGTERM")
		}
		if !strings.Contains(d.output.String(), "cleanup ran") {
			t.Errorf("plugin Cleanup did not run; daemon output:\n%s", d.output.String())
		}
		if !processGone(int(p.Pid)) {
			t.Errorf("plugin process %d still runs after the daemon stopped", p.Pid)
		}
		if _, err := os.Stat(d.socket); !os.IsNotExist(err) {
			t.Errorf("socket %s left behind: %v", d.socket, err)
		}
	})
	t.Run("SIGKILL leaves no orphan", func(t *testing.T) {
		d := startDaemon(t)
		path := d.install(bins.noop, "noop")
		p := d.waitState(path, running, 10*time.Second)
		if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-d.exited
		waitFor(t, 5*time.Second, "plugin process gone after daemon SIGKILL", func() bool { return processGone(int(p.Pid)) })
	})
}

func TestPluginEnvironmentStripped(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.noop, "noop")
	p := d.waitState(path, running, 10*time.Second)
	env, err := os.ReadFile("/proc/" + itoa(int(p.Pid)) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(env), "MOCKFORGE_TEST_SECRET") {
		t.Errorf("plugin environment contains the daemon's secret: %q", env)
	}
}

// processesRunning lists the pids whose command line is exactly args.
func processesRunning(args ...string) []int {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(data) == want {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			if !processGone(pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func TestWrapperScriptChildrenDoNotOutliveRejection(t *testing.T) {
	d := startDaemon(t)
	script := filepath.Join(d.pluginsDir, ".wrapper.tmp")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 987\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.pluginsDir, "wrapper")
	if err := os.Rename(script, path); err != nil {
		t.Fatal(err)
	}
	p := d.waitState(path, failed, 15*time.Second)
	if !strings.Contains(p.Reason, "start timeout") {
		t.Errorf("reason %q does not name the start timeout", p.Reason)
	}
	waitFor(t, 5*time.Second, "the wrapper's child gone", func() bool { return len(processesRunning("sleep", "987")) == 0 })

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not exit after SIGTERM")
	}
}
