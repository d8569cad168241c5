package metrics

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mockforge/mockforged/host/clock"
)

// dbFaultPluginID is the id of the built-in database fault injector, whose
// results the daemon reads to count active faults.
const dbFaultPluginID = "db-fault-injector"

// maxExperiments bounds the active experiments the daemon tracks. Beyond
// it, new ones are not counted until others end.
const maxExperiments = 10000

// dbFaultTypes are the fault types of the database fault injector; other
// values count as "_other".
var dbFaultTypes = []string{"slow_query", "query_error", "connection_timeout", "connection_reset", "bandwidth", "slicer"}

var (
	experimentsDesc = prometheus.NewDesc(namespace+"_chaos_experiments_active",
		"Chaos experiments running now, by plugin and tenant, as seen in the plugins' call results.",
		[]string{"plugin", "tenant"}, nil)
	dbFaultsDesc = prometheus.NewDesc(namespace+"_db_faults_active",
		"Faults of the db-fault-injector plugin active now, by tenant and fault type, as seen in its call results.",
		[]string{"tenant", "type"}, nil)
)

// experimentKey identifies an experiment: plugins number their
// experiments, and the ids of different tenants may repeat.
type experimentKey struct {
	plugin string
	tenant string
	id     string
}

// experiment is an active chaos experiment, such as a database fault or a
// Chaos Mesh experiment.
type experiment struct {
	kind string
	// scope is the proxy of a database fault or the namespace of a Chaos
	// Mesh experiment: a list call of one scope replaces its experiments.
	scope string
	// expires is when the experiment ends by itself, as the time elapsed
	// on the monotonic clock since the tracker started; zero means it runs
	// until a call shows it removed.
	expires time.Duration
}

// instant is one moment read on both clocks: the monotonic one that
// expiry follows, as the time elapsed since the tracker started, and the
// wall clock that the plugins' times are on.
type instant struct {
	elapsed time.Duration
	wall    time.Time
}

// deadline turns a wall-clock time reported by a plugin into a time on the
// monotonic clock, by the time left until it as measured at i. Expiry then
// follows the monotonic clock, so a step of the daemon's wall clock
// neither ends a running experiment early nor keeps an ended one counted.
func (i instant) deadline(wall time.Time) time.Duration {
	return i.elapsed + wall.Sub(i.wall)
}

// experiments tracks the active experiments that the daemon saw being
// created and removed in call results, and counts them when collected.
//
// NOTE: the daemon reads only the results of calls. A fault that the
// plugin removed by itself (a config change that removes its proxy) is
// counted until it expires, a list_faults call shows the truth again, or
// the plugin restarts. Likewise a Chaos Mesh experiment deleted with
// kubectl is counted until it expires or a chaos-mesh list shows it gone.
type experiments struct {
	mu     sync.Mutex
	active map[experimentKey]experiment
	// seenPlugins and seenFaults keep the label sets counted before, so
	// that their gauges go to 0 instead of disappearing.
	seenPlugins map[pluginTenant]bool
	seenFaults  map[tenantFault]bool
	// elapsed reads the monotonic clock as the time since the tracker
	// started, and wall reads the wall clock. Tests replace them.
	elapsed func() time.Duration
	wall    func() time.Time
}

type pluginTenant struct{ plugin, tenant string }

type tenantFault struct{ tenant, kind string }

var _ prometheus.Collector = (*experiments)(nil)

func newExperiments() *experiments {
	return &experiments{
		active:      map[experimentKey]experiment{},
		seenPlugins: map[pluginTenant]bool{},
		seenFaults:  map[tenantFault]bool{},
		elapsed:     monotonicSince(time.Now()),
		wall:        clock.Now,
	}
}

// monotonicSince returns a function that reads the monotonic clock as the
// time elapsed since start.
func monotonicSince(start time.Time) func() time.Duration {
	return func() time.Duration { return time.Since(start) }
}

// instant reads both clocks.
func (e *experiments) instant() instant {
	return instant{elapsed: e.elapsed(), wall: e.wall()}
}

// faultInfo is the part of a fault in db-fault-injector's results that the
// metrics read.
type faultInfo struct {
	ID        string    `json:"id"`
	Proxy     string    `json:"proxy"`
	Type      string    `json:"type"`
	ExpiresAt time.Time `json:"expires_at"`
}

// observeFaults updates the tenant's faults from a successful call to the
// fault injector, given its parameters and result data.
func (e *experiments) observeFaults(plugin, tenant string, params, data []byte) {
	var request struct {
		Operation string `json:"operation"`
		Proxy     string `json:"proxy"`
	}
	var result struct {
		Fault  *faultInfo  `json:"fault"`
		Faults []faultInfo `json:"faults"`
	}
	if json.Unmarshal(params, &request) != nil || json.Unmarshal(data, &result) != nil {
		return
	}
	now := e.instant()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch request.Operation {
	case "add_fault":
		if result.Fault != nil {
			e.addLocked(plugin, tenant, *result.Fault, now)
		}
	case "remove_fault":
		if result.Fault != nil {
			delete(e.active, experimentKey{plugin, tenant, result.Fault.ID})
		}
	case "reset":
		for _, f := range result.Faults {
			delete(e.active, experimentKey{plugin, tenant, f.ID})
		}
	case "list_faults":
		// The list is complete for the tenant, or for one proxy of it.
		for key, x := range e.active {
			if key.plugin == plugin && key.tenant == tenant && (request.Proxy == "" || x.scope == request.Proxy) {
				delete(e.active, key)
			}
		}
		for _, f := range result.Faults {
			e.addLocked(plugin, tenant, f, now)
		}
	}
}

func (e *experiments) addLocked(plugin, tenant string, f faultInfo, now instant) {
	if f.ID == "" || !f.ExpiresAt.After(now.wall) {
		return
	}
	x := experiment{kind: oneOf(f.Type, dbFaultTypes), scope: f.Proxy, expires: now.deadline(f.ExpiresAt)}
	e.addExperimentLocked(experimentKey{plugin, tenant, f.ID}, x)
}

// addExperimentLocked adds or replaces an active experiment, unless
// maxExperiments are tracked already.
func (e *experiments) addExperimentLocked(key experimentKey, x experiment) {
	if _, ok := e.active[key]; !ok && len(e.active) >= maxExperiments {
		return
	}
	e.active[key] = x
	e.seenPlugins[pluginTenant{key.plugin, key.tenant}] = true
	if key.plugin == dbFaultPluginID {
		e.seenFaults[tenantFault{key.tenant, x.kind}] = true
	}
}

// forgetPlugin drops the experiments of a plugin whose process was
// replaced, because its experiments ended with the old process. Chaos
// Mesh experiments live in the cluster and are kept.
func (e *experiments) forgetPlugin(plugin string) {
	if plugin == chaosMeshPluginID {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for key := range e.active {
		if key.plugin == plugin {
			delete(e.active, key)
		}
	}
}

func (e *experiments) Describe(ch chan<- *prometheus.Desc) {
	ch <- experimentsDesc
	ch <- dbFaultsDesc
}

// Collect drops the experiments that expired and counts the others, with
// zeros for the label sets counted before.
func (e *experiments) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	byPlugin := make(map[pluginTenant]int, len(e.seenPlugins))
	for k := range e.seenPlugins {
		byPlugin[k] = 0
	}
	byFault := make(map[tenantFault]int, len(e.seenFaults))
	for k := range e.seenFaults {
		byFault[k] = 0
	}
	now := e.elapsed()
	for key, x := range e.active {
		if x.expires != 0 && x.expires <= now {
			delete(e.active, key)
			continue
		}
		byPlugin[pluginTenant{key.plugin, key.tenant}]++
		if key.plugin == dbFaultPluginID {
			byFault[tenantFault{key.tenant, x.kind}]++
		}
	}
	e.mu.Unlock()

	for k, n := range byPlugin {
		ch <- prometheus.MustNewConstMetric(experimentsDesc, prometheus.GaugeValue, float64(n), k.plugin, k.tenant)
	}
	for k, n := range byFault {
		ch <- prometheus.MustNewConstMetric(dbFaultsDesc, prometheus.GaugeValue, float64(n), k.tenant, k.kind)
	}
}
