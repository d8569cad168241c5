package prommetrics

import (
	"math"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// recordRequest is one value to record for a tenant.
type recordRequest struct {
	Name   string
	Type   string
	Help   string
	Labels map[string]string
	// Value is required: the increment of a counter, the new value of a
	// gauge, or the observation of a histogram.
	Value *float64
	// Buckets are a histogram's upper bounds, set by the record that
	// creates the metric. Default: prometheus.DefBuckets.
	Buckets []float64
}

// record validates r and applies it to the tenant's series. It changes
// nothing when it returns an error.
func (s *store) record(tenant string, r recordRequest) (SeriesInfo, error) {
	def, err := newDefinition(r)
	if err != nil {
		return SeriesInfo{}, err
	}
	value := *r.Value

	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.families[def.name]
	if f == nil {
		if err := s.checkNameFreeLocked(def); err != nil {
			return SeriesInfo{}, err
		}
		f = def
	} else if err := f.checkCompatible(def, r); err != nil {
		return SeriesInfo{}, err
	}

	values := labelValues(f.labelNames, r.Labels)
	key := seriesKey(tenant, values)
	sr := f.series[key]
	isNew := sr == nil
	if isNew {
		if n := s.seriesPerTenant[tenant]; n >= s.maxSeries {
			return SeriesInfo{}, errorf(codeLimitExceeded,
				"tenant %q has %d series, the limit of max_series_per_tenant (%d): delete series with the delete operation, or raise max_series_per_tenant in the plugin's config",
				tenant, n, s.maxSeries)
		}
		sr = &series{tenant: tenant, labelValues: values}
		if f.kind == histogramType {
			sr.bucketCounts = make([]uint64, len(f.buckets))
		}
	}
	next, err := f.apply(*sr, value)
	if err != nil {
		return SeriesInfo{}, err
	}

	*sr = next
	if isNew {
		s.addSeriesLocked(f, key, sr)
	}
	return f.seriesInfo(sr), nil
}

// newDefinition validates r and returns the family it would create.
func newDefinition(r recordRequest) (*family, error) {
	kind, err := parseType(r.Type)
	if err != nil {
		return nil, err
	}
	if err := checkMetricName(r.Name, kind); err != nil {
		return nil, err
	}
	names, err := checkLabels(r.Labels)
	if err != nil {
		return nil, err
	}
	if err := checkHelp(r.Help); err != nil {
		return nil, err
	}
	if err := checkValue(kind, r.Value); err != nil {
		return nil, err
	}
	buckets, err := definitionBuckets(r.Name, kind, r.Buckets)
	if err != nil {
		return nil, err
	}

	help := r.Help
	if help == "" {
		help = defaultHelp
	}
	return &family{
		name:       r.Name,
		kind:       kind,
		help:       help,
		labelNames: names,
		buckets:    buckets,
		desc:       prometheus.NewDesc(r.Name, help, append(slices.Clone(names), tenantLabel), nil),
		series:     map[string]*series{},
	}, nil
}

// checkValue rejects a missing or non-finite value, and a negative counter
// increment.
func checkValue(kind metricType, value *float64) error {
	switch {
	case value == nil:
		return invalidf("missing value: give the %s's %s as a number", kind, valueMeaning(kind))
	case math.IsNaN(*value) || math.IsInf(*value, 0):
		return invalidf("value %g is not a finite number", *value)
	case kind == counterType && *value < 0:
		return invalidf("counter increment %g is negative: counters only go up; record a gauge for a value that can go down", *value)
	}
	return nil
}

// definitionBuckets returns the checked upper bounds of a histogram, the
// default ones when none are given, and nil for other types.
func definitionBuckets(name string, kind metricType, buckets []float64) ([]float64, error) {
	switch {
	case kind != histogramType && buckets != nil:
		return nil, invalidf("buckets apply to histograms only, and %q is a %s", name, kind)
	case kind != histogramType:
		return nil, nil
	case buckets == nil:
		return slices.Clone(prometheus.DefBuckets), nil
	case len(buckets) == 0:
		return nil, invalidf("buckets is empty: give at least one upper bound, or omit buckets for the default %v", prometheus.DefBuckets)
	}
	if err := checkBuckets(buckets); err != nil {
		return nil, err
	}
	return slices.Clone(buckets), nil
}

func valueMeaning(kind metricType) string {
	switch kind {
	case counterType:
		return "increment"
	case gaugeType:
		return "new value"
	}
	return "observation"
}

// checkNameFreeLocked rejects a new metric whose samples would have the
// name of another metric's samples. The caller holds s.mu.
func (s *store) checkNameFreeLocked(def *family) error {
	for _, name := range sampleNames(def.name, def.kind) {
		if other := s.sampleOwners[name]; other != nil {
			return errorf(codeConflict,
				"metric %q (%s) would collide with the existing %s %q, whose exposition also uses the name %q: choose another name",
				def.name, def.kind, other.kind, other.name, name)
		}
	}
	return nil
}

// checkCompatible rejects a record that does not match the existing
// definition f: another type, other label names, other buckets or help.
func (f *family) checkCompatible(def *family, r recordRequest) error {
	switch {
	case def.kind != f.kind:
		return errorf(codeConflict,
			"metric %q is a %s and cannot be recorded as a %s: use another name, or delete every series of %q first",
			f.name, f.kind, def.kind, f.name)
	case !slices.Equal(def.labelNames, f.labelNames):
		return errorf(codeConflict,
			"metric %q has the labels [%s], and this record has [%s]: give the same label names in every record of a metric",
			f.name, strings.Join(f.labelNames, " "), strings.Join(def.labelNames, " "))
	case r.Buckets != nil && !slices.Equal(r.Buckets, f.buckets):
		return errorf(codeConflict,
			"histogram %q has the buckets %v, and this record gives %v: omit buckets or give the same ones",
			f.name, f.buckets, r.Buckets)
	case r.Help != "" && r.Help != f.help:
		return errorf(codeConflict,
			"metric %q has the help %q, and this record gives %q: omit help or give the same text",
			f.name, f.help, r.Help)
	}
	return nil
}

// apply returns sr after recording value. It fails when a total would
// overflow to infinity, which Prometheus accepts but JSON cannot carry.
func (f *family) apply(sr series, value float64) (series, error) {
	switch f.kind {
	case counterType:
		total := sr.value + value
		if math.IsInf(total, 0) {
			return sr, invalidf("counter %q would overflow: its total is already %g", f.name, sr.value)
		}
		sr.value = total
	case gaugeType:
		sr.value = value
	default:
		sr.sum += value
		if math.IsInf(sr.sum, 0) {
			return sr, invalidf("histogram %q would overflow: the sum of its observations would be infinite", f.name)
		}
		sr.count++
		sr.bucketCounts = slices.Clone(sr.bucketCounts)
		for i, bound := range f.buckets {
			if value <= bound {
				sr.bucketCounts[i]++
			}
		}
	}
	return sr, nil
}

// addSeriesLocked stores a new series, and f when it is new. The caller
// holds s.mu.
func (s *store) addSeriesLocked(f *family, key string, sr *series) {
	if s.families[f.name] == nil {
		s.families[f.name] = f
		for _, name := range sampleNames(f.name, f.kind) {
			s.sampleOwners[name] = f
		}
	}
	f.series[key] = sr
	s.seriesPerTenant[sr.tenant]++
}
