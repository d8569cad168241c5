package dbfault

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mockforge/mockforged/sdk"
)

// Error codes of failed calls, in ErrorDetail.Code.
const (
	// CodeInvalidArgument marks a parameter that is missing, malformed or
	// out of range.
	CodeInvalidArgument = "invalid_argument"
	// CodeNotFound marks an unknown proxy or fault.
	CodeNotFound = "not_found"
	// CodeLimitExceeded marks a fault longer than the tenant plan allows.
	CodeLimitExceeded = "limit_exceeded"
)

func callError(code, format string, args ...any) error {
	return &sdk.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Execute runs the operation named by the "operation" parameter:
// list_proxies, add_fault, list_faults, remove_fault or reset. Bad
// parameters fail the call with CodeInvalidArgument and change nothing.
func (p *Plugin) Execute(_ context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	keys, err := presentKeys(req.Parameters)
	if err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	var prm params
	if err := req.DecodeParameters(&prm); err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	if prm.Operation == OpAddFault {
		return p.addFault(req, prm, keys)
	}
	allowed, ok := operationParams[prm.Operation]
	if !ok {
		if prm.Operation == "" {
			return nil, callError(CodeInvalidArgument, "missing operation: set operation to one of %s", strings.Join(operations(), ", "))
		}
		return nil, callError(CodeInvalidArgument, "unknown operation %q: use one of %s", prm.Operation, strings.Join(operations(), ", "))
	}
	if err := checkAllowed(keys, allowed, "operation "+prm.Operation); err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	switch prm.Operation {
	case OpListProxies:
		return p.listProxies(), nil
	case OpListFaults:
		return p.listFaults(req.TenantID, string(prm.Proxy))
	case OpRemoveFault:
		return p.removeFault(req.TenantID, prm.ID)
	default:
		return p.reset(req.TenantID, string(prm.Proxy))
	}
}

// ProxyInfo describes a proxy in the output of list_proxies.
type ProxyInfo struct {
	// Name, Upstream, Protocol, TLS and Enabled are as configured.
	Name string `json:"name"`
	// Listen is the configured listen address; Address is the bound one,
	// empty while the proxy is disabled.
	Listen   string   `json:"listen"`
	Address  string   `json:"address,omitempty"`
	Upstream string   `json:"upstream"`
	Protocol Protocol `json:"protocol"`
	TLS      TLSMode  `json:"tls"`
	Enabled  bool     `json:"enabled"`
	// Connections counts the client connections being served.
	Connections int `json:"connections"`
	// Faults counts the proxy's active faults of every tenant.
	Faults int `json:"faults"`
}

// FaultInfo describes an active fault in the output of add_fault,
// list_faults, remove_fault and reset. Fields that do not apply to the
// fault's type are omitted.
type FaultInfo struct {
	// ID names the fault in remove_fault, such as "f3".
	ID          string    `json:"id"`
	Proxy       string    `json:"proxy"`
	Type        FaultType `json:"type"`
	Tenant      string    `json:"tenant,omitempty"`
	Probability float64   `json:"probability"`
	Direction   Direction `json:"direction,omitempty"`

	// The parameters of add_fault, in the same units and spelling.
	Latency        string `json:"latency,omitempty"`
	Jitter         string `json:"jitter,omitempty"`
	Match          string `json:"match,omitempty"`
	SQLState       string `json:"sqlstate,omitempty"`
	Code           int    `json:"code,omitempty"`
	Message        string `json:"message,omitempty"`
	Delay          string `json:"delay,omitempty"`
	Connections    string `json:"connections,omitempty"`
	AfterBytes     *int64 `json:"after_bytes,omitempty"`
	BytesPerSecond int64  `json:"bytes_per_second,omitempty"`
	AverageSize    int    `json:"average_size,omitempty"`
	SizeVariation  int    `json:"size_variation,omitempty"`

	// Duration is the requested lifetime; the fault is removed by itself
	// at ExpiresAt.
	Duration  string    `json:"duration"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Remaining is the time left, rounded to milliseconds.
	Remaining   string `json:"remaining"`
	RemainingMS int64  `json:"remaining_ms"`
}

func (p *Plugin) listProxies() *sdk.ExecuteResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	infos := make([]ProxyInfo, 0, len(p.order))
	for _, name := range p.order {
		px := p.proxies[name]
		cfg := px.cfg.Load()
		infos = append(infos, ProxyInfo{
			Name:        name,
			Listen:      cfg.Listen,
			Address:     px.address(),
			Upstream:    cfg.Upstream,
			Protocol:    cfg.Protocol,
			TLS:         cfg.TLS,
			Enabled:     cfg.isEnabled(),
			Connections: px.connectionCount(),
			Faults:      len(p.faultsOfLocked(name)),
		})
	}
	return sdk.OK(countNoun(len(infos), "proxy", "proxies"), map[string]any{"proxies": infos})
}

func (p *Plugin) addFault(req *sdk.ExecuteRequest, prm params, keys []string) (*sdk.ExecuteResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if prm.Proxy == "" {
		return nil, callError(CodeInvalidArgument, "missing proxy: set proxy to one of %s", p.proxyNamesLocked())
	}
	px := p.proxies[string(prm.Proxy)]
	if px == nil {
		return nil, callError(CodeNotFound, "proxy %q not found: use one of %s", prm.Proxy, p.proxyNamesLocked())
	}
	spec, err := parseFaultSpec(prm, keys, px.cfg.Load().Protocol)
	if err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	if err := checkMaxDuration(req, spec.Duration); err != nil {
		return nil, err
	}

	p.nextFault++
	created := time.Now()
	f := &fault{
		id:      "f" + strconv.FormatUint(p.nextFault, 10),
		seq:     p.nextFault,
		tenant:  req.TenantID,
		spec:    spec,
		created: created,
		expires: created.Add(spec.Duration),
		done:    make(chan struct{}),
	}
	p.faults[f.id] = f
	f.timer = time.AfterFunc(spec.Duration, func() { p.expire(f) })
	px.setFaults(p.faultsOfLocked(spec.Proxy))
	if spec.Type == FaultConnectionReset && spec.Connections != resetNew {
		resetExistingConnections(px, f)
	}
	p.log.Info("fault added", "fault", f.id, "proxy", spec.Proxy, "type", spec.Type, "tenant", f.tenant, "duration", spec.Duration)
	info := f.info(created)
	return sdk.OK(fmt.Sprintf("added %s fault %s to proxy %s for %s", spec.Type, f.id, spec.Proxy, spec.Duration), map[string]any{"fault": info}), nil
}

// checkMaxDuration enforces the maximum experiment duration of the
// tenant's plan, when the host passed one.
func checkMaxDuration(req *sdk.ExecuteRequest, d time.Duration) error {
	raw, ok := req.Metadata[MetadataMaxDuration]
	if !ok {
		return nil
	}
	limit, err := time.ParseDuration(raw)
	if err != nil || limit <= 0 {
		return callError(CodeInvalidArgument, "invalid request metadata %s=%q: the host must pass a positive Go duration", MetadataMaxDuration, raw)
	}
	if d > limit {
		return callError(CodeLimitExceeded, "duration %s exceeds the maximum experiment duration %s of tenant %q's plan: use a duration of at most %s", d, limit, req.TenantID, limit)
	}
	return nil
}

// resetExistingConnections applies a connection_reset fault to the
// connections a proxy has now.
func resetExistingConnections(px *proxy, f *fault) {
	for _, l := range px.currentLinks() {
		if !l.decide(f) {
			continue
		}
		if f.spec.AfterBytes == 0 {
			l.reset()
		} else {
			l.armReset(f)
		}
	}
}

func (p *Plugin) proxyNamesLocked() string {
	if len(p.order) == 0 {
		return "the proxies of the plugin config, which has none"
	}
	return strings.Join(p.order, ", ")
}

func (p *Plugin) listFaults(tenant, proxyName string) (*sdk.ExecuteResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if proxyName != "" && p.proxies[proxyName] == nil {
		return nil, callError(CodeNotFound, "proxy %q not found: use one of %s", proxyName, p.proxyNamesLocked())
	}
	at := time.Now()
	infos := []FaultInfo{}
	for _, f := range p.sortedFaultsLocked() {
		if visibleTo(f, tenant) && (proxyName == "" || f.spec.Proxy == proxyName) {
			infos = append(infos, f.info(at))
		}
	}
	return sdk.OK(countNoun(len(infos), "active fault", "active faults"), map[string]any{"faults": infos}), nil
}

func (p *Plugin) removeFault(tenant, id string) (*sdk.ExecuteResult, error) {
	if id == "" {
		return nil, callError(CodeInvalidArgument, "missing id: set id to a fault id from list_faults, such as f1")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults[id]
	if f == nil || !visibleTo(f, tenant) {
		return nil, callError(CodeNotFound, "fault %q not found: it expired, was removed, or never existed; list_faults shows the active ones", id)
	}
	info := f.info(time.Now())
	p.removeFaultsLocked(func(g *fault) bool { return g == f }, "removed by request")
	return sdk.OK(fmt.Sprintf("removed fault %s", id), map[string]any{"fault": info}), nil
}

func (p *Plugin) reset(tenant, proxyName string) (*sdk.ExecuteResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if proxyName != "" && p.proxies[proxyName] == nil {
		return nil, callError(CodeNotFound, "proxy %q not found: use one of %s", proxyName, p.proxyNamesLocked())
	}
	at := time.Now()
	removed := p.removeFaultsLocked(func(f *fault) bool {
		return visibleTo(f, tenant) && (proxyName == "" || f.spec.Proxy == proxyName)
	}, "reset")
	infos := make([]FaultInfo, len(removed))
	for i, f := range removed {
		infos[i] = f.info(at)
	}
	return sdk.OK("removed "+countNoun(len(infos), "fault", "faults"), map[string]any{"faults": infos}), nil
}

// visibleTo reports whether a caller of tenant may list and remove f. A
// call without a tenant, as when the host runs without tenants, may access
// every fault.
func visibleTo(f *fault, tenant string) bool {
	return tenant == "" || f.tenant == tenant
}

// sortedFaultsLocked returns the faults in creation order.
func (p *Plugin) sortedFaultsLocked() []*fault {
	out := make([]*fault, 0, len(p.faults))
	for _, f := range p.faults {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *fault) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// info describes f as seen at time at.
func (f *fault) info(at time.Time) FaultInfo {
	s := f.spec
	remaining := max(f.expires.Sub(at), 0).Round(time.Millisecond)
	info := FaultInfo{
		ID:             f.id,
		Proxy:          s.Proxy,
		Type:           s.Type,
		Tenant:         f.tenant,
		Probability:    s.Probability,
		Direction:      s.Direction,
		SQLState:       s.SQLState,
		Code:           int(s.Code),
		Connections:    s.Connections,
		BytesPerSecond: s.BytesPerSecond,
		AverageSize:    s.AverageSize,
		SizeVariation:  s.SizeVariation,
		Duration:       s.Duration.String(),
		CreatedAt:      f.created.UTC(),
		ExpiresAt:      f.expires.UTC(),
		Remaining:      remaining.String(),
		RemainingMS:    remaining.Milliseconds(),
	}
	if s.Type == FaultQueryError {
		info.Message = s.Message
	}
	if s.Latency > 0 {
		info.Latency = s.Latency.String()
	}
	if s.Jitter > 0 {
		info.Jitter = s.Jitter.String()
	}
	if s.Match != nil {
		info.Match = s.Match.String()
	}
	if s.Delay > 0 {
		info.Delay = s.Delay.String()
	}
	if s.Type == FaultConnectionReset {
		n := s.AfterBytes
		info.AfterBytes = &n
	}
	return info
}

// countNoun returns "1 fault" or "3 faults".
func countNoun(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}
