package detect

import (
	"fmt"
	"math"
	"time"
)

// noveltyMargin is the distance, as a share of the range of values seen so
// far, by which a value must lie beyond that range to be a novelty. It was
// chosen on the NAB corpus, where 0.05 adds false positives and 0.2 misses a
// window (see docs/benchmarks.md).
const noveltyMargin = 0.1

// valueRange is the lowest and highest value of a metric over its whole
// life, not only the retained points. A value well beyond it has never been
// seen before, which is an anomaly whatever its score. The baselines and the
// score adapt to a slow drift or to a noisy past, but the range only widens.
type valueRange struct {
	Min, Max float64
	// Set is false until the first value.
	Set bool
}

// Update widens the range to x.
func (r *valueRange) Update(x float64) {
	if !r.Set {
		r.Min, r.Max, r.Set = x, x, true
		return
	}
	r.Min, r.Max = min(r.Min, x), max(r.Max, x)
}

// Bounds returns the range widened by noveltyMargin of its width on each
// side: the values that are not novelties.
func (r *valueRange) Bounds() Range {
	margin := noveltyMargin * (r.Max - r.Min)
	return Range{Lower: r.Min - margin, Upper: r.Max + margin}
}

// Novel reports whether x lies outside Bounds. It is false before the
// first value.
func (r *valueRange) Novel(x float64) bool {
	if !r.Set {
		return false
	}
	b := r.Bounds()
	return x < b.Lower || x > b.Upper
}

// seed sets the range from values when it is not set yet, for a model
// decoded from an encoding that had no range.
func (r *valueRange) seed(values []float64) {
	for _, v := range values {
		r.Update(v)
	}
}

// noveltyAnomaly builds the anomaly of a novelty x at ts. Its deviation and
// severity come from statZ, the value's z-score against the baseline, and
// its expected range is the range of values seen before, with the margin.
func (m *Model) noveltyAnomaly(ts time.Time, x, statZ, score float64, ctx map[string]string) *Anomaly {
	dev := math.Abs(statZ)
	seen := m.st.Range
	a := &Anomaly{
		ID:        NewID(),
		Metric:    m.name,
		Timestamp: ts.UTC(),
		Value:     x,
		Expected:  seen.Bounds(),
		Deviation: dev,
		Score:     score,
		Severity:  SeverityFor(dev, m.k),
		Type:      TypeStatistical,
		Context:   copyContext(ctx),
	}
	side := "above the highest"
	if x < seen.Min {
		side = "below the lowest"
	}
	a.Message = fmt.Sprintf("%s severity %s on %s: value %s is %s value seen before (%s to %s) by more than %.0f%% of that range, %.1f standard deviations from its baseline",
		a.Severity, a.Type, a.Metric, formatValue(x), side, formatValue(seen.Min), formatValue(seen.Max),
		100*noveltyMargin, dev)
	return a
}

// noveltyOn reports whether novelties count: enable_novelty is on and the
// metric has at least baseline_window points. In a young metric a new
// extreme is common (the n-th point of a stationary series is the highest
// so far with probability 1/n), so the range is trusted only once it spans
// as many points as the baseline.
func (m *Model) noveltyOn() bool {
	return *m.cfg.EnableNovelty && m.st.N >= int64(m.cfg.BaselineWindow)
}
