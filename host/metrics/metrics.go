// Package metrics holds the daemon's own Prometheus metrics and serves them
// over HTTP at /metrics.
//
// The other host packages report events through small methods of Metrics:
// host/api reports every Execute request and every call the tenant gate
// rejected, and host/registry reports restarts, launch failures and hook
// failures. A nil *Metrics records nothing, so those packages need no
// checks when the daemon runs without a metrics listener.
//
// Every label takes values from a bounded set: plugin ids and tenant names
// (both set by the operator), gRPC code names, and fixed lists of reasons,
// states, severities and types. Values that come from callers, such as the
// metric names in anomaly results, are capped and folded into "_other".
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// namespace prefixes the names of the daemon's own metrics.
const namespace = "mockforged"

// unknownLabel is the plugin or tenant label of a call that failed before
// the plugin or tenant was known to exist. Neither plugin ids nor tenant
// names may start with "_", so it never names a real one.
const unknownLabel = "_unknown"

// otherLabel replaces a label value beyond a cap or outside a fixed set.
const otherLabel = "_other"

// callDurationBuckets span a fast call (1 ms) to a long fault injection.
var callDurationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Metrics is the set of the daemon's metrics. Its methods are safe for
// concurrent use, and do nothing on a nil *Metrics.
type Metrics struct {
	registry *prometheus.Registry

	calls          *prometheus.CounterVec
	callDuration   *prometheus.HistogramVec
	restarts       *prometheus.CounterVec
	launchFailures *prometheus.CounterVec
	hookFailures   *prometheus.CounterVec
	rejections     *prometheus.CounterVec
	anomalies      *prometheus.CounterVec

	// anomalyMetrics caps the distinct values of the anomalies' metric label.
	anomalyMetrics *boundedValues
	experiments    *experiments
	plugins        *pluginStates
}

// New returns the daemon's metrics, registered with a new registry together
// with the Go runtime and process collectors. version is the daemon's
// version, exposed by mockforged_build_info.
func New(version string) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "plugin_calls_total",
			Help: "Execute requests, by plugin, tenant and outcome (success, failure, or the gRPC code name of the error).",
		}, []string{"plugin", "tenant", "outcome"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "plugin_call_duration_seconds",
			Help:    "Time from receiving an Execute request that the tenant gate admitted to answering it, by plugin.",
			Buckets: callDurationBuckets,
		}, []string{"plugin"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "plugin_restarts_total",
			Help: "Plugin processes replaced by a new one, by plugin and reason (crash, reload, replace).",
		}, []string{"plugin", "reason"}),
		launchFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "plugin_launch_failures_total",
			Help: "Plugin launches and restarts that failed, by reason.",
		}, []string{"reason"}),
		hookFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "hook_failures_total",
			Help: "Hooks that failed around a call, by hook and point (before_execute, after_execute, on_error).",
		}, []string{"hook", "point"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tenant_rejections_total",
			Help: "Calls rejected by the tenant gate, by tenant and reason (rate_limited, quota_*, permission_denied, tenant_disabled).",
		}, []string{"tenant", "reason"}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "anomalies_detected_total",
			Help: "Anomalies reported by the anomaly-detector plugin, by metric, severity and type.",
		}, []string{"metric", "severity", "type"}),
		anomalyMetrics: newBoundedValues(maxAnomalyMetrics),
		experiments:    newExperiments(),
		plugins:        &pluginStates{},
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1, with the daemon's version as a label.",
	}, []string{"version"})
	buildInfo.WithLabelValues(version).Set(1)

	m.registry.MustRegister(
		newGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.calls, m.callDuration, m.restarts, m.launchFailures, m.hookFailures, m.rejections, m.anomalies,
		m.experiments, m.plugins,
	)
	return m
}

// newGoCollector returns the Go runtime collector without its
// runtime.MemStats metrics, whose gauge go_memstats_alloc_bytes and counter
// go_memstats_alloc_bytes_total share one family name in OpenMetrics, which
// makes the exposition invalid (client_golang v1.25.0). The
// runtime/metrics memory group (go_memory_classes_*) carries the same
// information under other names, next to the collector's base metrics
// such as go_goroutines and go_gc_duration_seconds.
func newGoCollector() prometheus.Collector {
	return collectors.NewGoCollector(
		collectors.WithGoCollectorMemStatsMetricsDisabled(),
		collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsMemory),
	)
}

// Gatherer returns the registry that holds every metric, for the HTTP
// handler and for tests.
func (m *Metrics) Gatherer() prometheus.Gatherer {
	return m.registry
}
