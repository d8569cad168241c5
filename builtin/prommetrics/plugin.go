package prommetrics

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mockforge/mockforged/sdk"
)

// PluginID is the plugin's id in the host.
const PluginID = "prometheus-metrics"

// Version is the plugin's version.
const Version = "1.0.0"

// Plugin is the prometheus-metrics plugin. Create it with New; its methods
// are safe for concurrent use.
type Plugin struct {
	log      hclog.Logger
	store    *store
	registry *prometheus.Registry

	// mu guards the fields below. Initialize and Cleanup hold it while they
	// start and stop the listener and the pusher.
	mu       sync.Mutex
	settings settings
	endpoint *endpoint
	// listenErr is why the default listener could not start.
	listenErr string
	pusher    *pusher
}

var (
	_ sdk.Plugin          = (*Plugin)(nil)
	_ sdk.ConfigValidator = (*Plugin)(nil)
)

// New returns the plugin. Its listener starts with the host's first
// Initialize.
func New() sdk.Plugin {
	return newPlugin(sdk.Logger().Named(PluginID))
}

func newPlugin(log hclog.Logger) *Plugin {
	st := newStore(defaultMaxSeries)
	registry := prometheus.NewRegistry()
	registry.MustRegister(st)
	return &Plugin{log: log, store: st, registry: registry}
}

// Metadata describes the plugin.
func (p *Plugin) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID:          PluginID,
		Name:        "Prometheus metrics",
		Version:     Version,
		Description: "Records chaos metrics from scenarios and plugins and exposes them to Prometheus, labelled by tenant.",
		Author:      "mockforged",
		Repository:  "https://github.com/mockforge/mockforged",
		Tags:        []string{"prometheus", "metrics", "openmetrics", "pushgateway", "observability"},
	}
}

// Capabilities returns metrics and observability.
func (p *Plugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityMetrics, sdk.CapabilityObservability}
}

// ConfigSchema returns the JSON Schema (draft 2020-12) of the config.
func (p *Plugin) ConfigSchema() []byte {
	return append([]byte(nil), configSchema...)
}

// ValidateConfig checks what the schema cannot: the listen address, the
// Pushgateway URL and interval, and the grouping label names.
func (p *Plugin) ValidateConfig(_ context.Context, config json.RawMessage) error {
	_, err := parseConfig(config)
	return err
}

// Initialize applies config. A listener on a new address opens before the
// old one closes, so a config whose address cannot be used fails and
// leaves the previous listener serving. When the config names no address,
// a failure to listen on DefaultListen is logged and reported by list
// instead, so that the plugin still records and pushes metrics.
func (p *Plugin) Initialize(ctx context.Context, config json.RawMessage) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.applyListenLocked(ctx, cfg); err != nil {
		return err
	}
	p.store.setMaxSeries(cfg.maxSeries)
	if !sameSettings(p.settings.push, cfg.push) {
		if p.pusher != nil {
			p.pusher.stop(ctx)
			p.pusher = nil
		}
		if cfg.push != nil {
			p.pusher = startPusher(*cfg.push, p.registry, p.log)
		}
	}
	p.settings = cfg
	return nil
}

// applyListenLocked starts, moves or stops the listener to match cfg. The
// caller holds p.mu.
func (p *Plugin) applyListenLocked(ctx context.Context, cfg settings) error {
	if p.endpoint != nil && cfg.listen == p.settings.listen {
		return nil
	}
	var next *endpoint
	listenErr := ""
	if cfg.listen != "" {
		e, err := startEndpoint(cfg.listen, p.registry, p.log)
		switch {
		case err != nil && cfg.listenExplicit:
			return fmt.Errorf("listen on %s: %w; choose another address in \"listen\"", cfg.listen, err)
		case err != nil:
			listenErr = fmt.Sprintf("listen on the default address %s: %v; set another address in \"listen\"", cfg.listen, err)
			p.log.Error("metrics listener not started; the plugin records and pushes metrics without it",
				"address", cfg.listen, "error", err)
		}
		next = e
	}
	if p.endpoint != nil {
		p.endpoint.stopWithin(ctx)
	}
	p.endpoint, p.listenErr = next, listenErr
	return nil
}

// Cleanup pushes a last time when a Pushgateway is configured, and stops
// the pusher and the listener.
func (p *Plugin) Cleanup(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pusher != nil {
		p.pusher.stop(ctx)
		p.pusher = nil
	}
	if p.endpoint != nil {
		p.endpoint.stopWithin(ctx)
		p.endpoint = nil
	}
	p.settings = settings{}
	return nil
}

// ListenerStatus describes the /metrics listener in the output of list.
type ListenerStatus struct {
	// Address is the bound address; empty when the listener is off.
	Address string `json:"address,omitempty"`
	// Error is the reason the default listener could not start.
	Error string `json:"error,omitempty"`
}

// status returns the listener's and the pusher's state.
func (p *Plugin) status() (ListenerStatus, *PushStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	listener := ListenerStatus{Error: p.listenErr}
	if p.endpoint != nil {
		listener.Address = p.endpoint.address()
	}
	var push *PushStatus
	if p.pusher != nil {
		s := p.pusher.snapshot()
		push = &s
	}
	return listener, push
}
