package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func TestWritePluginTable(t *testing.T) {
	var out strings.Builder

	if err := writePluginTable(&out, fakePlugins()); err != nil {
		t.Fatal(err)
	}

	want := "" +
		"ID       NAME      VERSION  STATE    CAPABILITIES  FILE              SHA256        REASON\n" +
		"dbfault  DB fault  1.2.0    running  fault,hook    /plugins/dbfault  0123456789ab  -\n" +
		"-        -         -        failed   -             /plugins/broken   0123456789ab  handshake failed: plugin exited\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestWritePluginTableEmpty(t *testing.T) {
	var out strings.Builder

	if err := writePluginTable(&out, nil); err != nil {
		t.Fatal(err)
	}

	if out.String() != "No plugins.\n" {
		t.Errorf("output = %q, want \"No plugins.\\n\"", out.String())
	}
}

func TestPluginListJSON(t *testing.T) {
	var out strings.Builder

	if err := writeJSON(&out, newPluginListView(fakePlugins())); err != nil {
		t.Fatal(err)
	}

	var got map[string][]map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	first := got["plugins"][0]
	checks := map[string]any{
		"id": "dbfault", "name": "DB fault", "version": "1.2.0", "state": "running",
		"sha256": fakeSHA256, "file": "/plugins/dbfault", "pid": 4242.0, "enabled": true,
	}
	for key, want := range checks {
		if first[key] != want {
			t.Errorf("plugins[0].%s = %v, want %v", key, first[key], want)
		}
	}
	if _, ok := first["reason"]; ok {
		t.Errorf("plugins[0] has a reason although it is running: %v", first["reason"])
	}
	if got["plugins"][1]["reason"] != "handshake failed:\nplugin exited" {
		t.Errorf("plugins[1].reason = %v, want the failure reason", got["plugins"][1]["reason"])
	}
	if tags, ok := first["tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("plugins[0].tags = %v, want an empty array", first["tags"])
	}
}

func TestEmbeddedJSON(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{name: "empty", data: "", want: "null"},
		{name: "blank", data: "  \n", want: "null"},
		{name: "object", data: `{"a": 1}`, want: `{"a": 1}`},
		{name: "invalid JSON becomes a string", data: `{oops`, want: `"{oops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(embeddedJSON([]byte(tt.data))); got != tt.want {
				t.Errorf("embeddedJSON(%q) = %s, want %s", tt.data, got, tt.want)
			}
		})
	}
}

func TestExecuteJSONDocument(t *testing.T) {
	var out strings.Builder
	resp := &apiv1.ExecuteResponse{
		Success:  true,
		DataJson: []byte(`{"rows": [1, 2]}`),
		PluginId: "dbfault",
		Duration: durationpb.New(1500 * time.Millisecond),
	}

	if err := writeJSON(&out, newExecuteView(resp)); err != nil {
		t.Fatal(err)
	}

	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if data, ok := got["data_json"].(map[string]any); !ok || len(data["rows"].([]any)) != 2 {
		t.Errorf("data_json = %v, want the embedded object", got["data_json"])
	}
	if got["duration_seconds"] != 1.5 {
		t.Errorf("duration_seconds = %v, want 1.5", got["duration_seconds"])
	}
	if got["error"] != nil {
		t.Errorf("error = %v, want null for a successful call", got["error"])
	}
	if hooks, ok := got["hook_failures"].([]any); !ok || len(hooks) != 0 {
		t.Errorf("hook_failures = %v, want an empty array", got["hook_failures"])
	}
}

func TestWriteExecuteResultFailure(t *testing.T) {
	var out strings.Builder
	resp := &apiv1.ExecuteResponse{
		PluginId:      "dbfault",
		PluginVersion: "1.2.0",
		RequestId:     "req-2",
		Duration:      durationpb.New(3 * time.Millisecond),
		Error:         &apiv1.ErrorDetail{Code: "BAD_TARGET", Message: "no such table", DetailsJson: []byte(`{"table":"t"}`)},
		HookFailures:  []*apiv1.HookFailure{{Hook: "audit", Point: "on_error", Error: "disk\nfull"}},
	}

	if err := writeExecuteResult(&out, resp); err != nil {
		t.Fatal(err)
	}

	want := "" +
		"Result:      failed\n" +
		"Error:       BAD_TARGET: no such table\n" +
		"Retryable:   false\n" +
		"Plugin:      dbfault 1.2.0\n" +
		"Request ID:  req-2\n" +
		"Duration:    3ms\n" +
		"Hook failed: audit at on_error: disk full\n" +
		"Error details:\n" +
		"  {\n" +
		"    \"table\": \"t\"\n" +
		"  }\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestWriteStatus(t *testing.T) {
	var out strings.Builder
	resp := &apiv1.StatusResponse{
		Version:         "2.0.0",
		Uptime:          durationpb.New(61*time.Second + 400*time.Millisecond),
		PluginsTotal:    4,
		PluginsRunning:  1,
		PluginsStarting: 1,
		PluginsFailed:   1,
		PluginsStopped:  1,
	}

	if err := writeStatus(&out, resp); err != nil {
		t.Fatal(err)
	}

	want := "" +
		"Version:     2.0.0\n" +
		"Uptime:      1m1s\n" +
		"Plugins:     4 total: 1 running, 1 starting, 1 failed, 1 stopped\n" +
		"Plugins dir: -\n" +
		"Data dir:    -\n" +
		"Socket:      -\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestWriteDescriptionWithoutConfig(t *testing.T) {
	var out strings.Builder
	resp := &apiv1.DescribePluginResponse{Plugin: &apiv1.PluginInfo{
		Id:     "x",
		State:  apiv1.PluginState_PLUGIN_STATE_FAILED,
		Reason: "exited with status 1",
		Dependencies: []*apiv1.Dependency{
			{Id: "base", Version: ">=1.0"},
		},
	}}

	if err := writeDescription(&out, resp); err != nil {
		t.Fatal(err)
	}

	for _, want := range []string{"State:            failed\n", "Reason:           exited with status 1\n", "Dependencies:     base >=1.0\n", "Config schema: none\n", "Config: none\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("description lacks %q:\n%s", want, out.String())
		}
	}
}

func TestStateName(t *testing.T) {
	tests := map[apiv1.PluginState]string{
		apiv1.PluginState_PLUGIN_STATE_STARTING:    "starting",
		apiv1.PluginState_PLUGIN_STATE_RUNNING:     "running",
		apiv1.PluginState_PLUGIN_STATE_FAILED:      "failed",
		apiv1.PluginState_PLUGIN_STATE_STOPPED:     "stopped",
		apiv1.PluginState_PLUGIN_STATE_UNSPECIFIED: "unknown",
		apiv1.PluginState(99):                      "unknown",
	}
	for state, want := range tests {
		if got := stateName(state); got != want {
			t.Errorf("stateName(%v) = %q, want %q", state, got, want)
		}
	}
}
