package dbfault

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/sdk"
)

// PluginID is the plugin's id in the host.
const PluginID = "db-fault-injector"

// Version is the plugin's version.
const Version = "1.0.0"

// MetadataMaxDuration is the ExecuteRequest.Metadata key under which the
// host passes the maximum experiment duration of the calling tenant's plan,
// as a Go duration string. When it is present, add_fault rejects a longer
// fault.
const MetadataMaxDuration = "mockforged.max_duration"

// Plugin is the database fault injector. Create it with New; the zero
// value is not usable.
type Plugin struct {
	log hclog.Logger

	mu      sync.Mutex
	proxies map[string]*proxy
	// order lists the proxy names in config order.
	order     []string
	faults    map[string]*fault
	nextFault uint64
}

var (
	_ sdk.Plugin          = (*Plugin)(nil)
	_ sdk.ConfigValidator = (*Plugin)(nil)
)

// Option changes how New builds the plugin.
type Option func(*Plugin)

// WithLogger makes the plugin log to log instead of sdk.Logger().
func WithLogger(log hclog.Logger) Option {
	return func(p *Plugin) { p.log = log }
}

// New returns the plugin with no proxies. The host's first Initialize
// starts the proxies of its config.
func New(opts ...Option) *Plugin {
	p := &Plugin{
		log:     sdk.Logger(),
		proxies: make(map[string]*proxy),
		faults:  make(map[string]*fault),
	}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// Metadata describes the plugin.
func (p *Plugin) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID:          PluginID,
		Name:        "Database fault injector",
		Version:     Version,
		Description: "Runs fault proxies between applications and PostgreSQL, MySQL or any TCP server, and injects real faults into their traffic.",
		Author:      "mockforged",
		Repository:  "https://github.com/mockforge/mockforged",
		Tags:        []string{"database", "postgres", "mysql", "proxy", "latency", "errors"},
	}
}

// Capabilities returns fault injection and traffic shaping.
func (p *Plugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityFaultInjection, sdk.CapabilityTrafficShaping}
}

// ConfigSchema returns the JSON Schema (draft 2020-12) of the config.
func (p *Plugin) ConfigSchema() []byte {
	return append([]byte(nil), configSchema...)
}

// ValidateConfig checks what the schema cannot: unique names and listen
// addresses, and addresses that parse.
func (p *Plugin) ValidateConfig(_ context.Context, config json.RawMessage) error {
	_, err := parseConfig(config)
	return err
}

// Initialize starts, changes and stops proxies to match config. It opens
// every new listener before it changes anything, so a config that cannot be
// applied leaves the running proxies and faults as they were.
//
// A proxy whose upstream, protocol or tls mode changed drops its
// connections; one whose only change is its listen address keeps them.
// Faults of a removed proxy are removed, and so are query faults of a proxy
// that now speaks tcp.
func (p *Plugin) Initialize(_ context.Context, config json.RawMessage) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	changes, err := p.planChanges(cfg)
	if err != nil {
		return err
	}
	p.applyChanges(changes)
	return nil
}

// proxyChange is one proxy of a new config and what applying it takes.
type proxyChange struct {
	cfg      ProxyConfig
	existing *proxy
	// listener is opened for a proxy that starts listening or moves.
	listener        net.Listener
	settingsChanged bool
	listenChanged   bool
}

// planChanges compares cfg with the running proxies and opens the new
// listeners. On error it closes the listeners it opened.
func (p *Plugin) planChanges(cfg Config) ([]proxyChange, error) {
	changes := make([]proxyChange, 0, len(cfg.Proxies))
	for _, pc := range cfg.Proxies {
		ch := proxyChange{cfg: pc, existing: p.proxies[pc.Name]}
		needListener := pc.isEnabled()
		if ch.existing != nil {
			old := ch.existing.cfg.Load()
			ch.settingsChanged = old.Upstream != pc.Upstream || old.Protocol != pc.Protocol || old.TLS != pc.TLS
			ch.listenChanged = old.Listen != pc.Listen || old.isEnabled() != pc.isEnabled()
			needListener = pc.isEnabled() && ch.listenChanged
		}
		if needListener {
			// NOTE: two proxies that swap listen addresses in one change
			// fail here, because the old listeners are still open.
			l, err := listen(pc.Listen)
			if err != nil {
				closeListeners(changes)
				return nil, fmt.Errorf("proxy %q: listen on %s: %w", pc.Name, pc.Listen, err)
			}
			ch.listener = l
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

func closeListeners(changes []proxyChange) {
	for _, ch := range changes {
		if ch.listener != nil {
			_ = ch.listener.Close()
		}
	}
}

// applyChanges commits a plan; nothing in it can fail.
func (p *Plugin) applyChanges(changes []proxyChange) {
	keep := make(map[string]bool, len(changes))
	for _, ch := range changes {
		keep[ch.cfg.Name] = true
	}
	for name, px := range p.proxies {
		if !keep[name] {
			px.stop()
			delete(p.proxies, name)
			p.removeFaultsLocked(func(f *fault) bool { return f.spec.Proxy == name }, "proxy removed")
			px.log.Info("proxy removed")
		}
	}

	p.order = p.order[:0]
	for _, ch := range changes {
		cfg := ch.cfg
		px := ch.existing
		switch {
		case px == nil:
			px = newProxy(cfg, p.log)
			p.proxies[cfg.Name] = px
		default:
			if ch.listenChanged {
				px.closeListener()
			}
			px.cfg.Store(&cfg)
			if ch.settingsChanged || !cfg.isEnabled() {
				px.closeLinks()
			}
			if cfg.Protocol == ProtocolTCP {
				p.removeFaultsLocked(func(f *fault) bool {
					return f.spec.Proxy == cfg.Name && f.spec.Type.isQueryFault()
				}, "proxy no longer reads queries")
			}
		}
		if ch.listener != nil {
			px.serve(ch.listener)
		}
		p.order = append(p.order, cfg.Name)
	}
}

// Cleanup removes every fault and stops every proxy.
func (p *Plugin) Cleanup(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Proxies stop first, so that removing a connection_timeout fault does
	// not release held connections toward the server.
	for name, px := range p.proxies {
		px.stop()
		delete(p.proxies, name)
	}
	p.removeFaultsLocked(func(*fault) bool { return true }, "cleanup")
	p.order = nil
	p.log.Info("all proxies stopped")
	return nil
}

// faultsOfLocked returns the faults of one proxy in creation order.
func (p *Plugin) faultsOfLocked(proxyName string) []*fault {
	var out []*fault
	for _, f := range p.sortedFaultsLocked() {
		if f.spec.Proxy == proxyName {
			out = append(out, f)
		}
	}
	return out
}

// removeFaultsLocked removes the faults that match and updates the faults
// of the proxies they belonged to.
func (p *Plugin) removeFaultsLocked(match func(*fault) bool, reason string) []*fault {
	var removed []*fault
	touched := make(map[string]bool)
	for _, f := range p.sortedFaultsLocked() {
		if !match(f) {
			continue
		}
		delete(p.faults, f.id)
		f.timer.Stop()
		close(f.done)
		touched[f.spec.Proxy] = true
		removed = append(removed, f)
		p.log.Info("fault removed", "fault", f.id, "proxy", f.spec.Proxy, "type", f.spec.Type, "tenant", f.tenant, "reason", reason)
	}
	for name := range touched {
		if px := p.proxies[name]; px != nil {
			px.setFaults(p.faultsOfLocked(name))
		}
	}
	return removed
}

// expire removes f when its duration has passed, unless it is gone.
func (p *Plugin) expire(f *fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults[f.id] != f {
		return
	}
	p.removeFaultsLocked(func(g *fault) bool { return g == f }, "duration elapsed")
}
