package metrics

import (
	"encoding/json"
	"strings"
	"time"
)

// chaosMeshPluginID is the id of the built-in Chaos Mesh plugin, whose
// results the daemon reads to count active experiments.
const chaosMeshPluginID = "chaos-mesh"

// chaosKinds maps the resource names of the Chaos Mesh kinds the plugin
// manages to their kinds, so that a kind filter of a list call (either
// name, in any case) can be matched against the kinds in its results.
var chaosKinds = map[string]string{
	"podchaos": "PodChaos", "networkchaos": "NetworkChaos", "stresschaos": "StressChaos",
	"iochaos": "IOChaos", "timechaos": "TimeChaos", "dnschaos": "DNSChaos",
	"httpchaos": "HTTPChaos", "jvmchaos": "JVMChaos", "kernelchaos": "KernelChaos",
	"schedules": "Schedule",
}

// chaosInfo is the part of an experiment in chaos-mesh's results that the
// metrics read.
type chaosInfo struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Managed   bool   `json:"managed"`
	Phase     string `json:"phase"`
	Duration  string `json:"duration"`
	CreatedAt string `json:"created_at"`
}

// id identifies the experiment among the tenant's.
func (c chaosInfo) id() string {
	return c.Kind + "/" + c.Namespace + "/" + c.Name
}

// chaosRequest is the part of chaos-mesh's parameters that the metrics read.
type chaosRequest struct {
	Operation     string `json:"operation"`
	Kind          string `json:"kind"`
	Namespace     string `json:"namespace"`
	AllNamespaces bool   `json:"all_namespaces"`
}

// observeChaos updates the tenant's Chaos Mesh experiments from a
// successful call to chaos-mesh, given its parameters and result data.
// Experiments live in the cluster, so they stay counted across restarts of
// the plugin and end by their duration, a delete or cleanup, or a list or
// status that shows them gone or recovered.
func (e *experiments) observeChaos(plugin, tenant string, params, data []byte) {
	var request chaosRequest
	var result struct {
		Experiment  *chaosInfo  `json:"experiment"`
		Experiments []chaosInfo `json:"experiments"`
		Deleted     []chaosInfo `json:"deleted"`
	}
	if json.Unmarshal(params, &request) != nil || json.Unmarshal(data, &result) != nil {
		return
	}
	now := e.instant()
	e.mu.Lock()
	defer e.mu.Unlock()
	switch request.Operation {
	case "create", "status", "pause", "resume", "wait":
		if result.Experiment != nil {
			e.updateChaosLocked(plugin, tenant, *result.Experiment, now)
		}
	case "delete":
		if result.Experiment != nil {
			delete(e.active, experimentKey{plugin, tenant, result.Experiment.id()})
		}
	case "cleanup":
		for _, x := range result.Deleted {
			delete(e.active, experimentKey{plugin, tenant, x.id()})
		}
	case "list":
		e.replaceListedLocked(plugin, tenant, request, result.Experiments, now)
	}
}

// replaceListedLocked applies a list result. A list of one namespace or of
// every namespace is complete for the tenant there, so experiments that it
// lacks are dropped. A list of the plugin's default namespace, which the
// daemon does not know, only adds and updates.
func (e *experiments) replaceListedLocked(plugin, tenant string, request chaosRequest, listed []chaosInfo, now instant) {
	if request.AllNamespaces || request.Namespace != "" {
		for key, x := range e.active {
			if key.plugin != plugin || key.tenant != tenant {
				continue
			}
			if (request.AllNamespaces || x.scope == request.Namespace) && kindMatches(request.Kind, x.kind) {
				delete(e.active, key)
			}
		}
	}
	for _, x := range listed {
		if x.Managed {
			e.updateChaosLocked(plugin, tenant, x, now)
		}
	}
}

// kindMatches reports whether a kind filter, empty for every kind, selects
// kind.
func kindMatches(filter, kind string) bool {
	if filter == "" || strings.EqualFold(filter, kind) {
		return true
	}
	return chaosKinds[strings.ToLower(filter)] == kind
}

// updateChaosLocked counts an experiment until the end of its duration,
// or drops it once it has recovered. A Schedule, or an experiment whose
// duration does not parse, is counted until a call shows it gone.
func (e *experiments) updateChaosLocked(plugin, tenant string, x chaosInfo, now instant) {
	key := experimentKey{plugin, tenant, x.id()}
	if x.Name == "" || x.Phase == "recovered" {
		delete(e.active, key)
		return
	}
	var expires time.Duration
	if d, err := time.ParseDuration(x.Duration); err == nil && d > 0 {
		start := now.wall
		if created, err := time.Parse(time.RFC3339, x.CreatedAt); err == nil {
			start = created
		}
		end := start.Add(d)
		if !end.After(now.wall) {
			delete(e.active, key)
			return
		}
		expires = now.deadline(end)
	}
	e.addExperimentLocked(key, experiment{kind: oneOf(x.Kind, chaosKindNames()), scope: x.Namespace, expires: expires})
}

func chaosKindNames() []string {
	names := make([]string, 0, len(chaosKinds))
	for _, kind := range chaosKinds {
		names = append(names, kind)
	}
	return names
}
