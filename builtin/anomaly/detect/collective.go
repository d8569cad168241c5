package detect

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CollectiveOptions configures DetectCollective.
type CollectiveOptions struct {
	// Lookback is how far back from the newest point of all the metrics to
	// look.
	Lookback time.Duration
	// Bucket is the bucket width. Buckets are aligned to whole multiples of
	// Bucket since the Unix epoch, so a 1m bucket runs from :00 to :59.
	Bucket time.Duration
	// MinMetrics is the number of distinct metrics that must be anomalous in
	// one bucket; at least 2.
	MinMetrics int
	// Context is copied into each anomaly.
	Context map[string]string
}

// DetectCollective looks for buckets in which at least MinMetrics of the
// given metrics have an anomalous point, found by DetectWindow over the
// look-back. Metrics count once per bucket however many of their points are
// anomalous. The severity grows with the share of the given metrics that
// are anomalous (CollectiveSeverityFor). Metrics with too few samples count
// as not anomalous. Models are counted by metric name: a model whose name
// an earlier one has is left out, so a metric listed twice counts once in
// the share and toward MinMetrics. Anomalies are returned oldest bucket
// first.
func DetectCollective(models []*Model, opts CollectiveOptions) ([]Anomaly, error) {
	models = uniqueByName(models)
	if err := opts.validate(len(models)); err != nil {
		return nil, err
	}
	var newest int64
	for _, m := range models {
		newest = max(newest, m.st.LastTime)
	}
	buckets := map[int64][]string{}
	for _, m := range models {
		// Each metric's look-back ends at the newest point of all metrics.
		lookback := time.Duration(m.st.LastTime-newest) + opts.Lookback
		if lookback <= 0 {
			continue
		}
		report, err := m.DetectWindow(lookback, nil)
		if errors.Is(err, ErrTooFewSamples) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, a := range report.Anomalies {
			start := bucketStart(a.Timestamp, opts.Bucket)
			if !slices.Contains(buckets[start], m.name) {
				buckets[start] = append(buckets[start], m.name)
			}
		}
	}
	return collectiveAnomalies(buckets, len(models), opts), nil
}

// uniqueByName returns models without those whose name an earlier one has.
func uniqueByName(models []*Model) []*Model {
	seen := make(map[string]bool, len(models))
	out := make([]*Model, 0, len(models))
	for _, m := range models {
		if !seen[m.name] {
			seen[m.name] = true
			out = append(out, m)
		}
	}
	return out
}

func (o CollectiveOptions) validate(metrics int) error {
	switch {
	case metrics < 2:
		return fmt.Errorf("collective detection needs at least 2 distinct metrics, got %d", metrics)
	case o.Lookback <= 0:
		return fmt.Errorf("invalid look-back %s: must be positive", o.Lookback)
	case o.Bucket <= 0:
		return fmt.Errorf("invalid bucket %s: must be positive", o.Bucket)
	case o.MinMetrics < 2 || o.MinMetrics > metrics:
		return fmt.Errorf("invalid min_metrics %d: must be between 2 and the number of metrics (%d)", o.MinMetrics, metrics)
	}
	return nil
}

// bucketStart returns the start of t's bucket in Unix nanoseconds.
func bucketStart(t time.Time, bucket time.Duration) int64 {
	ns := t.UnixNano()
	start := ns - ns%int64(bucket)
	if ns < 0 && ns%int64(bucket) != 0 {
		start -= int64(bucket)
	}
	return start
}

func collectiveAnomalies(buckets map[int64][]string, total int, opts CollectiveOptions) []Anomaly {
	starts := make([]int64, 0, len(buckets))
	for s, names := range buckets {
		if len(names) >= opts.MinMetrics {
			starts = append(starts, s)
		}
	}
	slices.Sort(starts)
	out := make([]Anomaly, 0, len(starts))
	for _, s := range starts {
		names := buckets[s]
		slices.Sort(names)
		share := float64(len(names)) / float64(total)
		start := time.Unix(0, s).UTC()
		a := Anomaly{
			ID:        NewID(),
			Metric:    strings.Join(names, ","),
			Metrics:   names,
			Timestamp: start,
			Start:     start,
			Value:     float64(len(names)),
			Expected:  Range{Lower: 0, Upper: float64(opts.MinMetrics - 1)},
			Deviation: share,
			Score:     share,
			Severity:  CollectiveSeverityFor(share),
			Type:      TypeCollective,
			Context:   copyContext(opts.Context),
		}
		a.Message = fmt.Sprintf("%s severity collective_anomaly: %d of %d metrics anomalous in the %s bucket starting %s (%s)",
			a.Severity, len(names), total, opts.Bucket, start.Format(time.RFC3339), a.Metric)
		out = append(out, a)
	}
	return out
}
