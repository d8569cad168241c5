package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func TestStatusText(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "status")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	for _, want := range []string{"1.0.0-test", "1h30m0s (since 2030-01-02T03:04:05Z)", "2 total: 1 running, 0 starting, 1 failed, 0 stopped", "/run/mockforged.sock"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "status", "-o", "json")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	var got statusView
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("stdout is not the status JSON document: %v\n%s", err, res.stdout)
	}
	if got.Version != "1.0.0-test" {
		t.Errorf("version = %q, want 1.0.0-test", got.Version)
	}
	if got.UptimeSeconds != 5400 {
		t.Errorf("uptime_seconds = %v, want 5400", got.UptimeSeconds)
	}
	if got.PluginsFailed != 1 {
		t.Errorf("plugins_failed = %d, want 1", got.PluginsFailed)
	}
}

func TestPluginsListTable(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "list")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines, want a header and 2 rows:\n%s", len(lines), res.stdout)
	}
	if fields := strings.Fields(lines[1]); fields[0] != "dbfault" || fields[3] != "1.2.0" || fields[4] != "running" || fields[5] != "fault,hook" {
		t.Errorf("row of dbfault = %q, want id, name, version 1.2.0, state running, capabilities fault,hook", lines[1])
	}
	if !strings.Contains(lines[2], "failed") || !strings.Contains(lines[2], "handshake failed: plugin exited") {
		t.Errorf("row of the failed plugin = %q, want state failed and its reason on one line", lines[2])
	}
	if !strings.Contains(lines[1], fakeSHA256[:12]) || strings.Contains(lines[1], fakeSHA256) {
		t.Errorf("row of dbfault = %q, want the SHA-256 shortened to 12 digits", lines[1])
	}
}

func TestPluginsListJSON(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "list", "-o", "json")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	var got pluginListView
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("stdout is not the plugin list JSON document: %v\n%s", err, res.stdout)
	}
	if len(got.Plugins) != 2 {
		t.Fatalf("got %d plugins, want 2", len(got.Plugins))
	}
	if got.Plugins[0].State != "running" || got.Plugins[0].SHA256 != fakeSHA256 {
		t.Errorf("first plugin = %+v, want state running and the full SHA-256", got.Plugins[0])
	}
	if got.Plugins[1].State != "failed" || got.Plugins[1].Reason != "handshake failed:\nplugin exited" {
		t.Errorf("second plugin = %+v, want state failed with its reason", got.Plugins[1])
	}
}

func TestPluginsDescribeJSONEmbedsConfig(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "describe", "dbfault", "-o", "json")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	var got struct {
		Plugin       pluginView     `json:"plugin"`
		ConfigSchema map[string]any `json:"config_schema"`
		ConfigJSON   map[string]any `json:"config_json"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("stdout is not a describe document with embedded JSON objects: %v\n%s", err, res.stdout)
	}
	if got.ConfigSchema["type"] != "object" {
		t.Errorf("config_schema = %v, want the schema object", got.ConfigSchema)
	}
	if got.ConfigJSON["dsn"] != "postgres://localhost/test" {
		t.Errorf("config_json = %v, want the config object", got.ConfigJSON)
	}
}

func TestPluginsDescribeText(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "describe", "dbfault")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	for _, want := range []string{"ID:", "dbfault", "Capabilities:", "fault, hook", "Config schema:\n  {", `"dsn": "postgres://localhost/test"`} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("describe output lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestPluginsDescribeNotFound(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "describe", "nope")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	want := `mockforged: plugin "nope" not found; run "mockforged plugins list" to see the plugins the daemon serves` + "\n"
	if res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
	if res.stdout != "" {
		t.Errorf("stdout = %q, want nothing", res.stdout)
	}
}

func TestPluginsConfigureFromFile(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	config := `{"dsn": "postgres://db/x", "enabled": true}`
	file := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, "", "--socket", socket, "plugins", "configure", "dbfault", "--file", file)

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if got := string(fake.configure.GetConfigJson()); got != config {
		t.Errorf("daemon received config %q, want the file's bytes %q", got, config)
	}
	if fake.configure.GetId() != "dbfault" {
		t.Errorf("daemon received id %q, want dbfault", fake.configure.GetId())
	}
	if res.stdout != "Configured plugin dbfault: running, enabled\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
}

func TestPluginsConfigureFromStdin(t *testing.T) {
	fake, socket := startFakeDaemon(t)

	res := runCLI(t, `{"dsn": "x"}`, "--socket", socket, "plugins", "configure", "dbfault", "--file", "-", "-o", "json")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if got := string(fake.configure.GetConfigJson()); got != `{"dsn": "x"}` {
		t.Errorf("daemon received config %q, want stdin", got)
	}
	var view pluginView
	if err := json.Unmarshal([]byte(res.stdout), &view); err != nil || view.ID != "dbfault" {
		t.Errorf("stdout = %q, want the plugin's JSON document (error: %v)", res.stdout, err)
	}
}

func TestPluginsConfigureRejectsNonObject(t *testing.T) {
	fake, socket := startFakeDaemon(t)

	res := runCLI(t, `[1, 2]`, "--socket", socket, "plugins", "configure", "dbfault", "--file", "-")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "--file (stdin) must contain a JSON object") {
		t.Errorf("stderr = %q, want it to name the file and the expected JSON object", res.stderr)
	}
	if n := fake.requestCount(); n != 0 {
		t.Errorf("daemon received %d requests, want none", n)
	}
}

func TestPluginsConfigureInvalidArgument(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, `{"invalid": 1}`, "--socket", socket, "plugins", "configure", "dbfault", "--file", "-")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	want := "mockforged: invalid config for plugin dbfault: at '/invalid': additional properties are not allowed\n"
	if res.stderr != want {
		t.Errorf("stderr = %q, want the daemon's message as is: %q", res.stderr, want)
	}
}

func TestPluginsReload(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		wantID string
	}{
		{name: "one plugin", args: []string{"dbfault"}, wantID: "dbfault"},
		{name: "every plugin", args: nil, wantID: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)

			res := runCLI(t, "", append([]string{"--socket", socket, "plugins", "reload"}, tt.args...)...)

			if res.code != exitOK {
				t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
			}
			if fake.reload.GetId() != tt.wantID {
				t.Errorf("daemon received id %q, want %q", fake.reload.GetId(), tt.wantID)
			}
			if !strings.Contains(res.stdout, "dbfault") {
				t.Errorf("stdout lacks the reloaded plugin:\n%s", res.stdout)
			}
		})
	}
}

func TestDaemonUnavailableMessageKept(t *testing.T) {
	_, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "reload", "starting")

	want := "mockforged: plugin starting is starting (handshake); retry in a moment\n"
	if res.stderr != want {
		t.Errorf("stderr = %q, want the daemon's message as is: %q", res.stderr, want)
	}
	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
}

func TestExecSendsParameters(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	file := filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(file, []byte(`{"fault": "error", "target": {"host": "db", "port": 1}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	res := runCLI(t, "", "--socket", socket, "exec", "dbfault",
		"--params-file", file, "--param", "fault=latency", "--param", "target.port=5432",
		"--param", "tags=[\"a\",\"b\"]", "--tenant", "team-a", "--timeout", "5s")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	req := fake.lastExecute()
	wantParams := `{"fault":"latency","tags":["a","b"],"target":{"host":"db","port":5432}}`
	if got := string(req.GetParametersJson()); got != wantParams {
		t.Errorf("parameters = %s, want %s", got, wantParams)
	}
	if req.GetPluginId() != "dbfault" {
		t.Errorf("plugin id = %q, want dbfault", req.GetPluginId())
	}
	if req.GetTenantId() != "team-a" {
		t.Errorf("tenant id = %q, want team-a", req.GetTenantId())
	}
	if got := req.GetTimeout().AsDuration(); got != 5*time.Second {
		t.Errorf("timeout = %s, want 5s", got)
	}
	for _, want := range []string{"Result:", "success", "latency injected", "req-1", `"injected_ms": 250`} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("exec output lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestExecWithoutParametersSendsEmptyObject(t *testing.T) {
	fake, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "exec", "dbfault")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if got := string(fake.lastExecute().GetParametersJson()); got != "{}" {
		t.Errorf("parameters = %s, want {}", got)
	}
	if fake.lastExecute().GetTimeout() != nil {
		t.Errorf("timeout = %v, want unset so that the daemon's default applies", fake.lastExecute().GetTimeout())
	}
}

func TestExecFailedCallJSON(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	fake.executeResult = &apiv1.ExecuteResponse{
		Success:   false,
		PluginId:  "dbfault",
		RequestId: "req-9",
		Error:     &apiv1.ErrorDetail{Code: "CONNECTION_REFUSED", Message: "db:5432 refused", Retryable: true, DetailsJson: []byte(`{"attempts": 3}`)},
		HookFailures: []*apiv1.HookFailure{
			{Hook: "audit", Point: "after_execute", Error: "disk full"},
		},
	}

	res := runCLI(t, "", "--socket", socket, "exec", "dbfault", "-o", "json")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("stdout is not only the JSON document: %v\n%s", err, res.stdout)
	}
	if got["success"] != false {
		t.Errorf("success = %v, want false", got["success"])
	}
	errorObject, _ := got["error"].(map[string]any)
	details, _ := errorObject["details_json"].(map[string]any)
	if details["attempts"] != 3.0 {
		t.Errorf("error.details_json = %v, want the embedded object {\"attempts\": 3}", errorObject["details_json"])
	}
	if hooks, _ := got["hook_failures"].([]any); len(hooks) != 1 {
		t.Errorf("hook_failures = %v, want one entry", got["hook_failures"])
	}
	wantErr := `mockforged: call to plugin "dbfault" failed: CONNECTION_REFUSED: db:5432 refused (retryable); request id req-9` + "\n"
	if res.stderr != wantErr {
		t.Errorf("stderr = %q, want %q", res.stderr, wantErr)
	}
}

func TestExecDeadlineExceeded(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	fake.executeErr = status.Error(codes.DeadlineExceeded, "call to plugin dbfault exceeded its deadline")

	res := runCLI(t, "", "--socket", socket, "exec", "dbfault", "--timeout", "250ms")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, `call to plugin "dbfault" timed out after 250ms; raise --timeout`) {
		t.Errorf("stderr = %q, want it to name the plugin and the 250ms deadline", res.stderr)
	}
}

func TestExecDeadlineExceededResult(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{
			name: "with --timeout",
			args: []string{"--timeout", "300ms"},
			want: `mockforged: call to plugin "dbfault" timed out after 300ms; raise --timeout or check the plugin's logs; request id req-3` + "\n",
		},
		{
			name: "daemon default",
			want: `mockforged: call to plugin "dbfault" timed out at the daemon's default deadline (deadline_exceeded: context deadline exceeded); set a longer deadline with --timeout; request id req-3` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			fake.executeResult = &apiv1.ExecuteResponse{
				RequestId: "req-3",
				Error:     &apiv1.ErrorDetail{Code: "deadline_exceeded", Message: "context deadline exceeded", Retryable: true},
			}

			res := runCLI(t, "", append([]string{"--socket", socket, "exec", "dbfault"}, tt.args...)...)

			if res.code != exitFailure {
				t.Errorf("exit status = %d, want 1", res.code)
			}
			if res.stderr != tt.want {
				t.Errorf("stderr:\n got %s\nwant %s", res.stderr, tt.want)
			}
		})
	}
}

func TestExecFailedWithoutErrorDetail(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	fake.executeResult = &apiv1.ExecuteResponse{Message: "target refused"}

	res := runCLI(t, "", "--socket", socket, "exec", "dbfault")

	want := `mockforged: call to plugin "dbfault" failed: target refused` + "\n"
	if res.stderr != want {
		t.Errorf("stderr = %q, want %q", res.stderr, want)
	}
	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
}

func TestExecSendsToken(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want []string
	}{
		{name: "flag", args: []string{"--token", "s3cret"}, want: []string{"Bearer s3cret"}},
		{name: "environment", env: "from-env", want: []string{"Bearer from-env"}},
		{name: "flag over environment", env: "from-env", args: []string{"--token", "from-flag"}, want: []string{"Bearer from-flag"}},
		{name: "none", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envToken, tt.env)
			fake, socket := startFakeDaemon(t)

			args := append([]string{"--socket", socket, "exec", "dbfault"}, tt.args...)
			res := runCLI(t, "", args...)

			if res.code != exitOK {
				t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
			}
			got := fake.lastAuthorization()
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("authorization metadata = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPluginsCommandsSendToken(t *testing.T) {
	t.Setenv(envToken, "")
	fake, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "plugins", "--token", "abc", "list")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
	if got := fake.lastAuthorization(); len(got) != 1 || got[0] != "Bearer abc" {
		t.Errorf("authorization metadata = %q, want [Bearer abc]", got)
	}
}

func TestTokenWithWhitespaceRejected(t *testing.T) {
	fake, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "status", "--token", "abc def")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "invalid token in --token") || strings.Contains(res.stderr, "abc def") {
		t.Errorf("stderr = %q, want it to name the flag and not the token", res.stderr)
	}
	if n := fake.requestCount(); n != 0 {
		t.Errorf("daemon received %d requests, want none", n)
	}
}

func TestDaemonNotRunning(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "missing.sock")

	res := runCLI(t, "", "--socket", socket, "plugins", "list")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	for _, want := range []string{"daemon not reachable at " + socket, "no such file or directory", `mockforged serve`} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr = %q, want it to contain %q", res.stderr, want)
		}
	}
}

func TestSocketNotADaemon(t *testing.T) {
	// A socket file whose listener is closed refuses connections, as a stale
	// socket left by a crashed daemon does.
	socket := filepath.Join(t.TempDir(), "stale.sock")
	listener, err := netListenUnix(socket)
	if err != nil {
		t.Fatal(err)
	}
	listener.SetUnlinkOnClose(false)
	listener.Close()

	res := runCLI(t, "", "--socket", socket, "status")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "daemon not reachable at "+socket+" (connect: connection refused)") {
		t.Errorf("stderr = %q, want it to say the daemon is not reachable", res.stderr)
	}
}

func TestSocketNotAGRPCServer(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "other.sock")
	listener, err := netListenUnix(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		// Accept and close every connection, as a server of another protocol
		// might, until the listener is closed.
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()

	res := runCLI(t, "", "--socket", socket, "status")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.HasPrefix(res.stderr, "mockforged: daemon not reachable at "+socket) {
		t.Errorf("stderr = %q, want it to say the daemon is not reachable", res.stderr)
	}
}

func TestDaemonStopsDuringExec(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	fake.executeStarted = make(chan struct{})
	result := make(chan cliResult, 1)
	go func() {
		var stdout, stderr strings.Builder
		code := execute(t.Context(), []string{"--socket", socket, "exec", "dbfault"}, streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
		result <- cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
	}()
	<-fake.executeStarted

	fake.server.Stop()

	res := <-result
	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.HasPrefix(res.stderr, "mockforged: lost the connection to the daemon at "+socket+" during the request") {
		t.Errorf("stderr = %q, want it to say the connection was lost", res.stderr)
	}
}

func TestSocketPathTooLong(t *testing.T) {
	socket := "/tmp/" + strings.Repeat("s", 200) + ".sock"

	res := runCLI(t, "", "--socket", socket, "status")

	if res.code != exitUsage {
		t.Errorf("exit status = %d, want 2", res.code)
	}
	if !strings.Contains(res.stderr, "limit of 107 bytes") {
		t.Errorf("stderr = %q, want it to name the limit", res.stderr)
	}
}

func TestSocketFromEnvironment(t *testing.T) {
	_, socket := startFakeDaemon(t)
	t.Setenv("MOCKFORGE_SOCKET", socket)

	res := runCLI(t, "", "status")

	if res.code != exitOK {
		t.Errorf("exit status = %d, want 0; stderr: %s", res.code, res.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate" for "mockforged"`},
		{name: "unknown plugins subcommand", args: []string{"plugins", "lsit"}, want: `unknown command "lsit" for "mockforged plugins"`},
		{name: "unknown flag", args: []string{"status", "--frob"}, want: "unknown flag: --frob"},
		{name: "bad output format", args: []string{"plugins", "list", "-o", "yaml"}, want: `invalid argument "yaml" for "-o, --output" flag: use one of table, json`},
		{name: "missing id", args: []string{"exec"}, want: "accepts 1 arg(s), received 0"},
		{name: "extra argument", args: []string{"status", "extra"}, want: `unknown command "extra"`},
		{name: "malformed param", args: []string{"exec", "dbfault", "--param", "oops"}, want: `invalid --param "oops": expected key=value`},
		{name: "negative timeout", args: []string{"exec", "dbfault", "--timeout", "-1s"}, want: "invalid --timeout -1s"},
		{name: "configure without file", args: []string{"plugins", "configure", "dbfault"}, want: "missing --file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, "", append([]string{"--socket", "/nonexistent/d.sock"}, tt.args...)...)

			if res.code != exitUsage {
				t.Errorf("exit status = %d, want 2; stderr: %s", res.code, res.stderr)
			}
			if !strings.HasPrefix(res.stderr, "mockforged: ") || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr = %q, want \"mockforged: ...%s...\"", res.stderr, tt.want)
			}
			if !strings.Contains(res.stderr, "--help' for usage") {
				t.Errorf("stderr = %q, want a pointer to --help", res.stderr)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	res := runCLI(t, "", "version")

	if res.code != exitOK {
		t.Fatalf("exit status = %d, want 0", res.code)
	}
	if res.stdout != "mockforged "+currentVersion()+"\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
}
