// Package anomaly is the anomaly-detector plugin: it keeps a streaming
// model per metric and tenant, scores every point, and reports statistical,
// trend, seasonal and collective anomalies. It is written against the
// public SDK only and runs out of process like any plugin; the mockforged
// binary serves it with sdk.Serve(anomaly.New()).
//
// The detection engine is in package detect, CSV streaming in package
// csvio and benchmark scoring in package evaluate. README.md documents the
// operations and their parameters.
package anomaly

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/sdk"
)

// PluginID is the plugin's id.
const PluginID = "anomaly-detector"

// Version is the plugin's version.
const Version = "1.0.0"

// Plugin is the anomaly-detector plugin. Its methods are safe for
// concurrent use.
type Plugin struct {
	log hclog.Logger
	// storeFor returns the store of a tenant; tests replace it.
	storeFor func(ctx context.Context, tenant string) sdk.Store

	mu  sync.RWMutex
	cfg Config
	// cfgGen counts Initialize calls; models built for an older generation
	// are reconfigured on their next use.
	cfgGen   uint64
	tenants  map[string]*tenant
	sessions *sessionTable
}

var (
	_ sdk.Plugin          = (*Plugin)(nil)
	_ sdk.ConfigValidator = (*Plugin)(nil)
)

// New returns the plugin with the default config.
func New() sdk.Plugin {
	return newPlugin()
}

func newPlugin() *Plugin {
	cfg, err := ParseConfig(nil)
	if err != nil {
		panic("anomaly: default config is invalid: " + err.Error())
	}
	return &Plugin{
		log:      sdk.Logger().Named(PluginID),
		storeFor: sdk.StorageForTenant,
		cfg:      cfg,
		tenants:  map[string]*tenant{},
		sessions: newSessionTable(),
	}
}

// Metadata describes the plugin.
func (p *Plugin) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID:          PluginID,
		Name:        "Anomaly detector",
		Version:     Version,
		Description: "Streaming detection of statistical, trend, seasonal and collective anomalies in metrics.",
		Author:      "mockforged",
		Tags:        []string{"anomaly", "metrics", "observability"},
	}
}

// Capabilities returns anomaly_detection.
func (p *Plugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityAnomalyDetection}
}

// ConfigSchema returns the JSON Schema (draft 2020-12) of Config.
func (p *Plugin) ConfigSchema() []byte {
	return configSchema
}

// ValidateConfig checks what the schema cannot, such as a moving average
// window larger than the retention.
func (p *Plugin) ValidateConfig(_ context.Context, raw json.RawMessage) error {
	_, err := ParseConfig(raw)
	return err
}

// Initialize applies a config. Models already in memory take it on their
// next use; see detect.Model.Reconfigure for what they keep.
func (p *Plugin) Initialize(_ context.Context, raw json.RawMessage) error {
	cfg, err := ParseConfig(raw)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.cfg = cfg
	p.cfgGen++
	p.mu.Unlock()
	p.log.Info("initialized", "max_metrics", cfg.MaxMetrics, "sensitivity", *cfg.Sensitivity,
		"seasonal", cfg.EnableSeasonal, "robust", cfg.Robust)
	return nil
}

// Cleanup drops the in-memory models and scan sessions. Stored models stay
// in the host's storage.
func (p *Plugin) Cleanup(context.Context) error {
	p.mu.Lock()
	p.tenants = map[string]*tenant{}
	p.mu.Unlock()
	p.sessions.clear()
	p.log.Info("cleaned up")
	return nil
}

// tenant returns the state of a tenant, creating it on first use.
func (p *Plugin) tenant(id string) *tenant {
	p.mu.RLock()
	t := p.tenants[id]
	p.mu.RUnlock()
	if t != nil {
		return t
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t = p.tenants[id]; t == nil {
		t = newTenant(id)
		p.tenants[id] = t
	}
	return t
}
