package prommetrics

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// MetricInfo describes one metric and the caller's series of it.
type MetricInfo struct {
	Name string `json:"name"`
	// Type is counter, gauge or histogram.
	Type string `json:"type"`
	Help string `json:"help"`
	// LabelNames are the metric's labels, sorted, without the tenant label.
	LabelNames []string `json:"label_names"`
	// Buckets are a histogram's upper bounds, without +Inf.
	Buckets []float64    `json:"buckets,omitempty"`
	Series  []SeriesInfo `json:"series"`
}

// SeriesInfo is one series: a label set and its current value.
type SeriesInfo struct {
	Labels map[string]string `json:"labels"`
	// Value is a counter's total or a gauge's value.
	Value *float64 `json:"value,omitempty"`
	// Count, Sum and Buckets are set for histograms.
	Count   *uint64       `json:"count,omitempty"`
	Sum     *float64      `json:"sum,omitempty"`
	Buckets []BucketCount `json:"buckets,omitempty"`
}

// BucketCount is the number of observations less than or equal to LE.
type BucketCount struct {
	LE    float64 `json:"le"`
	Count uint64  `json:"count"`
}

// seriesInfo describes sr; the caller holds the store's lock.
func (f *family) seriesInfo(sr *series) SeriesInfo {
	info := SeriesInfo{Labels: labelMap(f.labelNames, sr.labelValues)}
	if f.kind != histogramType {
		value := sr.value
		info.Value = &value
		return info
	}
	count, sum := sr.count, sr.sum
	info.Count, info.Sum = &count, &sum
	info.Buckets = make([]BucketCount, len(f.buckets))
	for i, bound := range f.buckets {
		info.Buckets[i] = BucketCount{LE: bound, Count: sr.bucketCounts[i]}
	}
	return info
}

// list describes the metrics in which tenant has series, sorted by name,
// with only that tenant's series. A non-empty name selects one metric.
func (s *store) list(tenant, name string) ([]MetricInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []MetricInfo{}
	for _, fname := range slices.Sorted(maps.Keys(s.families)) {
		if name != "" && fname != name {
			continue
		}
		f := s.families[fname]
		info := MetricInfo{
			Name:       f.name,
			Type:       string(f.kind),
			Help:       f.help,
			LabelNames: slices.Clone(f.labelNames),
			Series:     []SeriesInfo{},
		}
		if f.kind == histogramType {
			info.Buckets = slices.Clone(f.buckets)
		}
		for _, sr := range f.tenantSeries(tenant) {
			info.Series = append(info.Series, f.seriesInfo(sr))
		}
		if len(info.Series) > 0 {
			out = append(out, info)
		}
	}
	if name != "" && len(out) == 0 {
		return nil, errorf(codeNotFound, "metric %q not found for tenant %q: list the tenant's metrics with the list operation", name, tenant)
	}
	return out, nil
}

// tenantSeries returns the tenant's series of f sorted by label values.
func (f *family) tenantSeries(tenant string) []*series {
	var out []*series
	for _, sr := range f.series {
		if sr.tenant == tenant {
			out = append(out, sr)
		}
	}
	slices.SortFunc(out, func(a, b *series) int {
		return cmp.Compare(strings.Join(a.labelValues, "\x00"), strings.Join(b.labelValues, "\x00"))
	})
	return out
}

// seriesCount returns the number of series tenant has and the limit.
func (s *store) seriesCount(tenant string) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seriesPerTenant[tenant], s.maxSeries
}

// DeletedMetric names a metric and how many of its series a delete removed.
type DeletedMetric struct {
	Name   string `json:"name"`
	Series int    `json:"series"`
}

// deleteRequest selects the series a delete removes: every series of the
// tenant (All), every series of one metric (Name), or one series (Name and
// Labels).
type deleteRequest struct {
	Name   string
	Labels map[string]string
	All    bool
}

// delete removes the tenant's selected series. A metric whose last series
// of any tenant is deleted is forgotten, so its name can be defined again.
// It changes nothing when it returns an error.
func (s *store) delete(tenant string, r deleteRequest) ([]DeletedMetric, error) {
	if r.All == (r.Name != "") {
		return nil, invalidf(`delete needs either "name" (with optional "labels") or "all": true`)
	}
	if r.All && r.Labels != nil {
		return nil, invalidf(`"labels" selects a series of one metric: give "name" with it, not "all"`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	if r.All {
		deleted := []DeletedMetric{}
		for _, fname := range slices.Sorted(maps.Keys(s.families)) {
			if n := s.deleteTenantSeriesLocked(s.families[fname], tenant); n > 0 {
				deleted = append(deleted, DeletedMetric{Name: fname, Series: n})
			}
		}
		return deleted, nil
	}

	f := s.families[r.Name]
	if f == nil || len(f.tenantSeries(tenant)) == 0 {
		return nil, errorf(codeNotFound, "metric %q not found for tenant %q: nothing was deleted", r.Name, tenant)
	}
	if r.Labels == nil {
		n := s.deleteTenantSeriesLocked(f, tenant)
		return []DeletedMetric{{Name: r.Name, Series: n}}, nil
	}
	names := slices.Sorted(maps.Keys(r.Labels))
	if !slices.Equal(names, f.labelNames) {
		return nil, invalidf("metric %q has the labels [%s], and the delete gives [%s]: give every label of the series to delete",
			f.name, strings.Join(f.labelNames, " "), strings.Join(names, " "))
	}
	key := seriesKey(tenant, labelValues(f.labelNames, r.Labels))
	if f.series[key] == nil {
		return nil, errorf(codeNotFound, "metric %q has no series with the labels %v for tenant %q: nothing was deleted", f.name, r.Labels, tenant)
	}
	s.removeSeriesLocked(f, key)
	return []DeletedMetric{{Name: r.Name, Series: 1}}, nil
}

// deleteTenantSeriesLocked removes every series of tenant from f and
// returns how many it removed. The caller holds s.mu.
func (s *store) deleteTenantSeriesLocked(f *family, tenant string) int {
	n := 0
	for key, sr := range f.series {
		if sr.tenant == tenant {
			s.removeSeriesLocked(f, key)
			n++
		}
	}
	return n
}
