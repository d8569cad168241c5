package chaosmesh

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/hashicorp/go-hclog"
	"k8s.io/client-go/dynamic"

	"github.com/mockforge/mockforged/sdk"
)

// PluginID is the plugin's id in the host.
const PluginID = "chaos-mesh"

// Version is the plugin's version.
const Version = "1.0.0"

// MetadataMaxDuration is the ExecuteRequest.Metadata key under which the
// host passes the maximum experiment duration of the calling tenant's plan,
// as a Go duration string.
const MetadataMaxDuration = "mockforged.max_duration"

// Plugin is the Chaos Mesh plugin. Create it with New.
type Plugin struct {
	log hclog.Logger

	mu       sync.Mutex
	settings settings
	// client is created on first use from settings, or set by
	// WithDynamicClient; nil until then.
	client    dynamic.Interface
	namespace string
	fixed     bool
}

var (
	_ sdk.Plugin          = (*Plugin)(nil)
	_ sdk.ConfigValidator = (*Plugin)(nil)
)

// Option changes how NewPlugin builds the plugin.
type Option func(*Plugin)

// WithLogger makes the plugin log to log instead of sdk.Logger().
func WithLogger(log hclog.Logger) Option {
	return func(p *Plugin) { p.log = log }
}

// WithDynamicClient makes the plugin use client, in namespace by default,
// instead of the cluster named by its config. It is meant for tests.
func WithDynamicClient(client dynamic.Interface, namespace string) Option {
	return func(p *Plugin) {
		p.client = client
		p.namespace = namespace
		p.fixed = true
	}
}

// New returns the plugin as the host runs it.
func New() sdk.Plugin {
	return NewPlugin()
}

// NewPlugin returns the plugin with options applied.
func NewPlugin(opts ...Option) *Plugin {
	s, _ := parseConfig(nil)
	p := &Plugin{log: sdk.Logger(), settings: s}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// Metadata describes the plugin.
func (p *Plugin) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID:          PluginID,
		Name:        "Chaos Mesh",
		Version:     Version,
		Description: "Creates and manages Chaos Mesh experiments (pod, network, stress, I/O, time, DNS, HTTP, JVM, kernel chaos and schedules) on a Kubernetes cluster.",
		Author:      "mockforged",
		Repository:  "https://github.com/mockforge/mockforged",
		Tags:        []string{"kubernetes", "chaos-mesh", "pods", "network", "stress"},
	}
}

// Capabilities returns integration and fault injection. Integration needs
// the tenant permission integrate_external.
func (p *Plugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityIntegration, sdk.CapabilityFaultInjection}
}

// ConfigSchema returns the JSON Schema (draft 2020-12) of the config.
func (p *Plugin) ConfigSchema() []byte {
	return append([]byte(nil), configSchema...)
}

// ValidateConfig checks what the schema cannot: durations that parse, and
// that a kubeconfig named by the config loads with its context.
func (p *Plugin) ValidateConfig(_ context.Context, config json.RawMessage) error {
	s, err := parseConfig(config)
	if err != nil {
		return err
	}
	if s.cfg.Kubeconfig != "" || s.cfg.Context != "" {
		if _, _, err := s.restConfig(); err != nil {
			return err
		}
	}
	return nil
}

// Initialize applies a config. The connection is made on the first call
// that needs the cluster, so a daemon without any Kubernetes config still
// serves the plugin and its dry runs.
func (p *Plugin) Initialize(_ context.Context, config json.RawMessage) error {
	s, err := parseConfig(config)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settings = s
	if !p.fixed {
		p.client = nil
		p.namespace = ""
	}
	p.log.Info("config applied", "kubeconfig", s.cfg.Kubeconfig, "context", s.cfg.Context, "namespace", s.cfg.Namespace)
	return nil
}

// Cleanup releases nothing: experiments live in the cluster and end by
// their duration, and cleanup calls remove them on request.
func (p *Plugin) Cleanup(context.Context) error {
	p.log.Info("plugin stopped")
	return nil
}

// connection returns the client and the default namespace, connecting on
// first use.
func (p *Plugin) connection() (dynamic.Interface, string, settings, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		ns := p.namespace
		if p.settings.cfg.Namespace != "" {
			ns = p.settings.cfg.Namespace
		}
		return p.client, ns, p.settings, nil
	}
	// A config that is missing or does not load fails the same way on
	// every try, so these errors are not retryable. Failures to reach the
	// API server come later, from the requests, and are retryable.
	cfg, ns, err := p.settings.restConfig()
	if err != nil {
		p.log.Error("load Kubernetes client config failed", "kubeconfig", p.settings.cfg.Kubeconfig, "context", p.settings.cfg.Context, "error", err)
		return nil, "", p.settings, callError(CodeNotConfigured, "%v", err)
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		p.log.Error("create Kubernetes client failed", "host", cfg.Host, "error", err)
		return nil, "", p.settings, callError(CodeNotConfigured, "create Kubernetes client for %s: %v; check the kubeconfig's cluster and user entries", cfg.Host, err)
	}
	p.client, p.namespace = client, ns
	p.log.Info("connected to Kubernetes API server", "host", cfg.Host, "namespace", ns)
	return client, ns, p.settings, nil
}
