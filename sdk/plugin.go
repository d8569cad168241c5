package sdk

import (
	"context"
	"encoding/json"
)

// Plugin is what a mockforged plugin implements. The host drives it through
// these steps:
//
//  1. Metadata, Capabilities and ConfigSchema are read once, right after the
//     process starts, and must not change while it runs.
//  2. Initialize is called with the config that the host validated against
//     ConfigSchema. It is called again, with the new config, after every
//     accepted configure request, and never concurrently with itself.
//  3. Execute is called for every call, possibly concurrently.
//  4. Cleanup is called once before the process is stopped. It must release
//     everything the plugin holds (connections, listeners, injected faults).
type Plugin interface {
	// Metadata describes the plugin. Its ID identifies the plugin to the host.
	Metadata() Metadata
	// Capabilities lists what the plugin does. The host uses them to decide
	// which permission a tenant needs to call the plugin.
	Capabilities() []Capability
	// ConfigSchema returns the JSON Schema (draft 7 or 2020-12) of the
	// plugin's config, or nil when the plugin takes no config.
	ConfigSchema() []byte
	// Initialize applies a config, which is a JSON object.
	Initialize(ctx context.Context, config json.RawMessage) error
	// Execute performs one call. The context carries the caller's deadline
	// and is cancelled when the caller goes away. A returned error marks the
	// call as failed; so does a result whose Success is false.
	Execute(ctx context.Context, req *ExecuteRequest) (*ExecuteResult, error)
	// Cleanup releases everything the plugin holds.
	Cleanup(ctx context.Context) error
}

// ConfigValidator is implemented by plugins that check their config beyond
// what the JSON Schema can express. The host calls ValidateConfig after the
// schema accepted a config and before Initialize; an error rejects the
// config and the previous one stays in force.
type ConfigValidator interface {
	ValidateConfig(ctx context.Context, config json.RawMessage) error
}

// Hooks is implemented by plugins that run code around calls. The host runs
// the hooks of a plugin around that plugin's own calls; when the plugin also
// declares CapabilityHook, the host runs them around every plugin's calls.
//
// An error from BeforeExecute aborts the call before the plugin is called,
// and the error is returned to the caller. Errors from AfterExecute and
// OnError are reported beside the result and never replace it.
type Hooks interface {
	BeforeExecute(ctx context.Context, call *HookCall) error
	AfterExecute(ctx context.Context, call *HookCall) error
	OnError(ctx context.Context, call *HookCall) error
}

// HookCall describes the call that a hook runs around.
type HookCall struct {
	// PluginID and PluginVersion name the plugin being called.
	PluginID      string
	PluginVersion string
	// Request is the call's request.
	Request *ExecuteRequest
	// Result is the plugin's result: set in AfterExecute, and in OnError when
	// the plugin returned a result with Success false.
	Result *ExecuteResult
	// Error is the failure's message; set in OnError only.
	Error string
}

// Metadata describes a plugin.
type Metadata struct {
	// ID identifies the plugin: lowercase letters, digits, '.', '_' and '-',
	// starting with a letter or digit, at most 128 characters.
	ID string
	// Name is a human-readable name.
	Name string
	// Version is a semantic version such as "1.4.0".
	Version string
	// Description says what the plugin does in one sentence.
	Description string
	// Author, Homepage and Repository say who maintains the plugin and where.
	Author     string
	Homepage   string
	Repository string
	// Tags are free-form search words.
	Tags []string
	// Dependencies lists other plugins this one needs.
	Dependencies []Dependency
	// APIVersion is the version of the SDK API the plugin was written for;
	// Serve fills in APIVersion when it is empty.
	APIVersion string
}

// Dependency names another plugin and the versions that satisfy it.
type Dependency struct {
	// ID of the plugin depended on.
	ID string
	// Version is a semantic version constraint such as ">= 1.2.0".
	Version string
}

// Capability names something a plugin does.
type Capability string

// Capabilities known to the host. A plugin may declare other, custom names.
const (
	CapabilityFaultInjection   Capability = "fault_injection"
	CapabilityTrafficShaping   Capability = "traffic_shaping"
	CapabilityObservability    Capability = "observability"
	CapabilityResilience       Capability = "resilience"
	CapabilityScenario         Capability = "scenario"
	CapabilityMetrics          Capability = "metrics"
	CapabilityAnomalyDetection Capability = "anomaly_detection"
	CapabilityIntegration      Capability = "integration"
	// CapabilityHook makes the host run the plugin's Hooks around the calls
	// of every plugin.
	CapabilityHook Capability = "hook"
)

// APIVersion is the version of this SDK's plugin API.
const APIVersion = "v1"
