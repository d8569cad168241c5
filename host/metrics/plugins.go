package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mockforge/mockforged/host/registry"
)

var pluginsDesc = prometheus.NewDesc(namespace+"_plugins",
	"Plugin sources (files in the plugins directory and built-ins), by state.",
	[]string{"state"}, nil)

// pluginStates counts plugin sources by state when it is collected, from
// the registry's list at that moment.
type pluginStates struct {
	mu   sync.Mutex
	list func() []registry.Snapshot
}

var _ prometheus.Collector = (*pluginStates)(nil)

// WatchPlugins makes the metrics count the sources that list returns, at
// every scrape. Until it is called, every state counts zero.
func (m *Metrics) WatchPlugins(list func() []registry.Snapshot) {
	if m == nil {
		return
	}
	m.plugins.mu.Lock()
	defer m.plugins.mu.Unlock()
	m.plugins.list = list
}

func (p *pluginStates) Describe(ch chan<- *prometheus.Desc) {
	ch <- pluginsDesc
}

// Collect sends one count per state, zeros included, so that a query such
// as mockforged_plugins{state="failed"} > 0 always has a series.
func (p *pluginStates) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	list := p.list
	p.mu.Unlock()
	counts := map[registry.State]int{}
	if list != nil {
		for _, snap := range list() {
			counts[snap.State]++
		}
	}
	for _, state := range []registry.State{registry.Starting, registry.Running, registry.Failed, registry.Stopped} {
		ch <- prometheus.MustNewConstMetric(pluginsDesc, prometheus.GaugeValue, float64(counts[state]), state.String())
	}
}
