package prommetrics

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metricType is the Prometheus type of a recorded metric.
type metricType string

// The metric types that record accepts.
const (
	counterType   metricType = "counter"
	gaugeType     metricType = "gauge"
	histogramType metricType = "histogram"
)

func parseType(s string) (metricType, error) {
	switch t := metricType(s); t {
	case counterType, gaugeType, histogramType:
		return t, nil
	case "":
		return "", invalidf("missing type: use counter, gauge or histogram")
	}
	return "", invalidf("unknown type %q: use counter, gauge or histogram", s)
}

// defaultHelp is the help text of a metric whose first record gave none.
const defaultHelp = "Chaos metric recorded through the prometheus-metrics plugin."

// family is one metric: its definition and the series of every tenant.
// The definition is shared by all tenants, because all their series appear
// in one exposition, where a metric has one type and one set of labels.
type family struct {
	name string
	kind metricType
	help string
	// labelNames are sorted and exclude the tenant label.
	labelNames []string
	// buckets are the upper bounds of a histogram, without +Inf.
	buckets []float64
	desc    *prometheus.Desc
	series  map[string]*series
}

// series is one label set of a family, owned by one tenant.
type series struct {
	tenant string
	// labelValues are in the order of the family's labelNames.
	labelValues []string
	// value is a counter's total or a gauge's current value.
	value float64
	// count, sum and bucketCounts are a histogram's state. bucketCounts
	// are cumulative, one per upper bound.
	count        uint64
	sum          float64
	bucketCounts []uint64
}

// store holds every recorded series and exposes them as a
// prometheus.Collector. Its methods are safe for concurrent use.
type store struct {
	mu        sync.Mutex
	maxSeries int
	families  map[string]*family
	// sampleOwners maps every sample name in use (such as x_bucket of a
	// histogram x) to the family that produces it.
	sampleOwners map[string]*family
	// seriesPerTenant counts each tenant's series over all families.
	seriesPerTenant map[string]int
}

var _ prometheus.Collector = (*store)(nil)

func newStore(maxSeries int) *store {
	return &store{
		maxSeries:       maxSeries,
		families:        map[string]*family{},
		sampleOwners:    map[string]*family{},
		seriesPerTenant: map[string]int{},
	}
}

// setMaxSeries changes the per-tenant series limit. Series beyond a lowered
// limit stay; the tenant cannot add new ones until it is below the limit.
func (s *store) setMaxSeries(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxSeries = n
}

// Describe sends nothing, which makes the store an unchecked collector: its
// metrics change with every record, and the registry checks their
// consistency at each scrape instead.
func (s *store) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series of every tenant.
func (s *store) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.families {
		for _, sr := range f.series {
			ch <- f.constMetric(sr)
		}
	}
}

// constMetric converts sr to a metric. The store validated every part, so
// an error here is a bug, and client_golang reports it to the scraper.
func (f *family) constMetric(sr *series) prometheus.Metric {
	labels := append(slices.Clone(sr.labelValues), sr.tenant)
	var m prometheus.Metric
	var err error
	switch f.kind {
	case counterType:
		m, err = prometheus.NewConstMetric(f.desc, prometheus.CounterValue, sr.value, labels...)
	case gaugeType:
		m, err = prometheus.NewConstMetric(f.desc, prometheus.GaugeValue, sr.value, labels...)
	default:
		buckets := make(map[float64]uint64, len(f.buckets))
		for i, bound := range f.buckets {
			buckets[bound] = sr.bucketCounts[i]
		}
		m, err = prometheus.NewConstHistogram(f.desc, sr.count, sr.sum, buckets, labels...)
	}
	if err != nil {
		return prometheus.NewInvalidMetric(f.desc, err)
	}
	return m
}

// seriesKey identifies a tenant's label set within a family. Each part is
// length-prefixed, so that no two label sets share a key.
func seriesKey(tenant string, values []string) string {
	var b strings.Builder
	for _, part := range append([]string{tenant}, values...) {
		b.WriteString(strconv.Itoa(len(part)))
		b.WriteByte(':')
		b.WriteString(part)
	}
	return b.String()
}

// labelValues returns the values of labels in the order of names.
func labelValues(names []string, labels map[string]string) []string {
	values := make([]string, len(names))
	for i, name := range names {
		values[i] = labels[name]
	}
	return values
}

// labelMap is the inverse of labelValues.
func labelMap(names, values []string) map[string]string {
	out := make(map[string]string, len(names))
	for i, name := range names {
		out[name] = values[i]
	}
	return out
}

// removeSeriesLocked deletes one series and, with its last series, the
// family. The caller holds s.mu.
func (s *store) removeSeriesLocked(f *family, key string) {
	sr := f.series[key]
	if sr == nil {
		return
	}
	delete(f.series, key)
	s.seriesPerTenant[sr.tenant]--
	if s.seriesPerTenant[sr.tenant] <= 0 {
		delete(s.seriesPerTenant, sr.tenant)
	}
	if len(f.series) == 0 {
		delete(s.families, f.name)
		for _, name := range sampleNames(f.name, f.kind) {
			delete(s.sampleOwners, name)
		}
	}
}
