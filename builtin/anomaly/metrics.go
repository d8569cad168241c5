package anomaly

import (
	"fmt"
	"slices"

	"github.com/mockforge/mockforged/sdk"
)

// listMetrics describes every metric of the tenant.
func (c *call) listMetrics(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var params ListMetricsParams
	if err := decode(req, &params); err != nil {
		return nil, err
	}
	names, err := c.sortedNames()
	if err != nil {
		return nil, err
	}
	out := ListMetricsResult{Metrics: []MetricInfo{}}
	for _, name := range names {
		m, found, err := c.model(name)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		info := MetricInfo{Name: name, Samples: m.Samples(), Newest: m.Newest()}
		if b := m.Baseline(); b.Ready() {
			info.Ready, info.Base = true, &b
		}
		out.Metrics = append(out.Metrics, info)
	}
	return sdk.OK(countOf(len(out.Metrics), "metric", "metrics"), out), nil
}

// clearMetrics deletes metrics from memory and storage.
func (c *call) clearMetrics(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var params ClearMetricsParams
	if err := decode(req, &params); err != nil {
		return nil, err
	}
	if params.All == (len(params.Metrics) > 0) {
		return nil, &opError{code: codeInvalid, msg: "clear_metrics needs either \"metrics\": [names] or \"all\": true"}
	}

	known, err := c.knownNames()
	if err != nil {
		return nil, err
	}
	names := params.Metrics
	if params.All {
		names = make([]string, 0, len(known))
		for name := range known {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		if !known[name] {
			return nil, &opError{code: codeNotFound, msg: fmt.Sprintf("metric %q not found: nothing was cleared", name)}
		}
	}

	cleared := []string{}
	for _, name := range names {
		if err := c.store.Delete(c.ctx, modelKeyPrefix+name); err != nil {
			if err := c.storageErr(err, fmt.Sprintf("delete metric %q", name)); err != nil {
				return nil, &opError{code: codeStorage, retryable: true,
					msg: fmt.Sprintf("%v (metrics cleared before the failure: %v)", err, cleared)}
			}
		}
		delete(c.t.models, name)
		delete(known, name)
		cleared = append(cleared, name)
	}
	c.p.log.Info("cleared metrics", "tenant", c.t.id, "count", len(cleared))
	return sdk.OK("cleared "+countOf(len(cleared), "metric", "metrics"), ClearMetricsResult{Cleared: cleared}), nil
}
