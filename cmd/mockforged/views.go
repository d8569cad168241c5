package main

import (
	"encoding/json"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// The types in this file are the JSON documents that -o json prints. Field
// names follow the API's protobuf field names. Differences from protojson:
// plugin states are lowercase words ("running"), config and result bytes are
// embedded JSON rather than base64, and durations are in seconds as numbers.

// pluginView is one plugin in JSON output.
type pluginView struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Version         string           `json:"version"`
	State           string           `json:"state"`
	Reason          string           `json:"reason,omitempty"`
	Description     string           `json:"description"`
	Author          string           `json:"author"`
	Homepage        string           `json:"homepage"`
	Repository      string           `json:"repository"`
	Tags            []string         `json:"tags"`
	Dependencies    []dependencyView `json:"dependencies"`
	APIVersion      string           `json:"api_version"`
	ProtocolVersion int32            `json:"protocol_version"`
	Capabilities    []string         `json:"capabilities"`
	File            string           `json:"file"`
	SHA256          string           `json:"sha256"`
	PID             int32            `json:"pid"`
	Restarts        int32            `json:"restarts"`
	Builtin         bool             `json:"builtin"`
	Enabled         bool             `json:"enabled"`
	Configured      bool             `json:"configured"`
}

// dependencyView is a plugin's dependency on another plugin.
type dependencyView struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// pluginListView is the output of "plugins list" and "plugins reload".
type pluginListView struct {
	Plugins []pluginView `json:"plugins"`
}

// describeView is the output of "plugins describe".
type describeView struct {
	Plugin       pluginView      `json:"plugin"`
	ConfigSchema json.RawMessage `json:"config_schema"`
	ConfigJSON   json.RawMessage `json:"config_json"`
}

// statusView is the output of "status".
type statusView struct {
	Version         string  `json:"version"`
	StartedAt       string  `json:"started_at"`
	UptimeSeconds   float64 `json:"uptime_seconds"`
	PluginsTotal    int32   `json:"plugins_total"`
	PluginsRunning  int32   `json:"plugins_running"`
	PluginsStarting int32   `json:"plugins_starting"`
	PluginsFailed   int32   `json:"plugins_failed"`
	PluginsStopped  int32   `json:"plugins_stopped"`
	PluginsDir      string  `json:"plugins_dir"`
	DataDir         string  `json:"data_dir"`
	Socket          string  `json:"socket"`
}

// executeView is the output of "exec".
type executeView struct {
	Success         bool              `json:"success"`
	Message         string            `json:"message"`
	DataJSON        json.RawMessage   `json:"data_json"`
	Error           *errorDetailView  `json:"error"`
	PluginID        string            `json:"plugin_id"`
	PluginVersion   string            `json:"plugin_version"`
	RequestID       string            `json:"request_id"`
	DurationSeconds float64           `json:"duration_seconds"`
	HookFailures    []hookFailureView `json:"hook_failures"`
}

// errorDetailView is the error of a failed call.
type errorDetailView struct {
	Code        string          `json:"code"`
	Message     string          `json:"message"`
	Retryable   bool            `json:"retryable"`
	DetailsJSON json.RawMessage `json:"details_json"`
}

// hookFailureView is a hook that failed around a call.
type hookFailureView struct {
	Hook  string `json:"hook"`
	Point string `json:"point"`
	Error string `json:"error"`
}

func newPluginView(p *apiv1.PluginInfo) pluginView {
	dependencies := make([]dependencyView, 0, len(p.GetDependencies()))
	for _, d := range p.GetDependencies() {
		dependencies = append(dependencies, dependencyView{ID: d.GetId(), Version: d.GetVersion()})
	}
	return pluginView{
		ID:              p.GetId(),
		Name:            p.GetName(),
		Version:         p.GetVersion(),
		State:           stateName(p.GetState()),
		Reason:          p.GetReason(),
		Description:     p.GetDescription(),
		Author:          p.GetAuthor(),
		Homepage:        p.GetHomepage(),
		Repository:      p.GetRepository(),
		Tags:            nonNil(p.GetTags()),
		Dependencies:    dependencies,
		APIVersion:      p.GetApiVersion(),
		ProtocolVersion: p.GetProtocolVersion(),
		Capabilities:    nonNil(p.GetCapabilities()),
		File:            p.GetFile(),
		SHA256:          p.GetSha256(),
		PID:             p.GetPid(),
		Restarts:        p.GetRestarts(),
		Builtin:         p.GetBuiltin(),
		Enabled:         p.GetEnabled(),
		Configured:      p.GetConfigured(),
	}
}

func newPluginListView(plugins []*apiv1.PluginInfo) pluginListView {
	views := make([]pluginView, 0, len(plugins))
	for _, p := range plugins {
		views = append(views, newPluginView(p))
	}
	return pluginListView{Plugins: views}
}

func newDescribeView(resp *apiv1.DescribePluginResponse) describeView {
	return describeView{
		Plugin:       newPluginView(resp.GetPlugin()),
		ConfigSchema: embeddedJSON(resp.GetConfigSchema()),
		ConfigJSON:   embeddedJSON(resp.GetConfigJson()),
	}
}

func newStatusView(resp *apiv1.StatusResponse) statusView {
	view := statusView{
		Version:         resp.GetVersion(),
		UptimeSeconds:   resp.GetUptime().AsDuration().Seconds(),
		PluginsTotal:    resp.GetPluginsTotal(),
		PluginsRunning:  resp.GetPluginsRunning(),
		PluginsStarting: resp.GetPluginsStarting(),
		PluginsFailed:   resp.GetPluginsFailed(),
		PluginsStopped:  resp.GetPluginsStopped(),
		PluginsDir:      resp.GetPluginsDir(),
		DataDir:         resp.GetDataDir(),
		Socket:          resp.GetSocket(),
	}
	if resp.GetStartedAt() != nil {
		view.StartedAt = resp.GetStartedAt().AsTime().Format(time.RFC3339Nano)
	}
	return view
}

func newExecuteView(resp *apiv1.ExecuteResponse) executeView {
	view := executeView{
		Success:         resp.GetSuccess(),
		Message:         resp.GetMessage(),
		DataJSON:        embeddedJSON(resp.GetDataJson()),
		PluginID:        resp.GetPluginId(),
		PluginVersion:   resp.GetPluginVersion(),
		RequestID:       resp.GetRequestId(),
		DurationSeconds: resp.GetDuration().AsDuration().Seconds(),
		HookFailures:    make([]hookFailureView, 0, len(resp.GetHookFailures())),
	}
	if e := resp.GetError(); e != nil {
		view.Error = &errorDetailView{
			Code:        e.GetCode(),
			Message:     e.GetMessage(),
			Retryable:   e.GetRetryable(),
			DetailsJSON: embeddedJSON(e.GetDetailsJson()),
		}
	}
	for _, h := range resp.GetHookFailures() {
		view.HookFailures = append(view.HookFailures, hookFailureView{Hook: h.GetHook(), Point: h.GetPoint(), Error: h.GetError()})
	}
	return view
}

// nonNil returns s, or an empty slice when s is nil, so that JSON output
// has [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
