package detect

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// ErrTooFewSamples is returned when a baseline is requested for a metric
// that has fewer points than min_baseline_samples.
var ErrTooFewSamples = errors.New("too few samples for a baseline")

// Baseline is the snapshot of a metric's normal behaviour that detections
// compare against. It is refreshed every baseline_refresh_points points and
// on demand by UpdateBaseline.
type Baseline struct {
	// Samples is the number of points seen when the snapshot was taken.
	Samples int64 `json:"samples"`
	// Center is the mean, or the median when Robust is set.
	Center float64 `json:"center"`
	// Scale is the standard deviation, or 1.4826·MAD when Robust is set.
	Scale float64 `json:"scale"`
	// Robust is true when Center and Scale are the median and the MAD.
	Robust bool `json:"robust"`
	// UpdatedAt is the timestamp of the newest point in the snapshot.
	UpdatedAt time.Time `json:"updated_at"`
	// DetectedPeriod is the seasonal period, in points, that
	// seasonal_period "auto" has found in the retained points; 0 when the
	// period is set in the config, or when no search has found one yet.
	// The first search runs at the retention_points-th point.
	DetectedPeriod int `json:"detected_period,omitempty"`
}

// Ready reports whether the snapshot may be used for detection.
func (b Baseline) Ready() bool {
	return b.Samples > 0
}

// scale returns Scale, floored so that a constant metric still has a
// finite z-score.
func (b Baseline) scale() float64 {
	return math.Max(b.Scale, spreadFloor(b.Center))
}

// ZScore returns (x − Center) / Scale.
func (b Baseline) ZScore(x float64) float64 {
	return stat.StdScore(x, b.Center, b.scale())
}

// ExpectedRange returns Center ± k·Scale, with Scale floored as in ZScore,
// so that a value outside the range has |z| > k.
func (b Baseline) ExpectedRange(k float64) Range {
	return Range{Lower: b.Center - k*b.scale(), Upper: b.Center + k*b.scale()}
}

// baselineTracker keeps the incremental statistics behind the baseline:
// an exponentially weighted mean and variance, and a median and MAD tracked
// by stochastic approximation after a seed from the first points.
type baselineTracker struct {
	Stats  ewStats
	Median quantileTracker
	MAD    quantileTracker
	Seeded bool
}

func newBaselineTracker(window int) baselineTracker {
	rate := math.Min(0.05, 10/float64(window))
	return baselineTracker{
		Stats:  newEWStats(window),
		Median: quantileTracker{Q: 0.5, Rate: rate},
		MAD:    quantileTracker{Q: 0.5, Rate: rate},
	}
}

// Update adds x. robustSeed holds the values to seed the median and MAD
// from; it is read only once, on the first call after it is non-empty.
func (t *baselineTracker) Update(x float64, robustSeed func() []float64) {
	t.Stats.Update(x)
	if !t.Seeded {
		if values := robustSeed(); len(values) > 0 {
			t.seed(values)
		}
		return
	}
	scale := math.Max(t.MAD.Value*madToStdDev, spreadFloor(t.Median.Value))
	t.Median.Update(x, scale)
	t.MAD.Update(math.Abs(x-t.Median.Value), scale)
}

// seed sets the median and MAD from values, which it sorts in place.
func (t *baselineTracker) seed(values []float64) {
	slices.Sort(values)
	median := stat.Quantile(0.5, stat.Empirical, values, nil)
	for i, v := range values {
		values[i] = math.Abs(v - median)
	}
	slices.Sort(values)
	t.Median.Value = median
	t.MAD.Value = stat.Quantile(0.5, stat.Empirical, values, nil)
	t.Seeded = true
}

// snapshot returns the current baseline.
func (t *baselineTracker) snapshot(robust bool, samples int64, newest int64) Baseline {
	b := Baseline{Samples: samples, Robust: robust, UpdatedAt: time.Unix(0, newest).UTC()}
	if robust && t.Seeded {
		b.Center, b.Scale = t.Median.Value, t.MAD.Value*madToStdDev
		return b
	}
	b.Center, b.Scale = t.Stats.Mean, t.Stats.StdDev()
	return b
}

// UpdateBaseline refreshes the model's baseline snapshot now. It returns an
// error wrapping ErrTooFewSamples when the metric has fewer points than
// min_baseline_samples.
func (m *Model) UpdateBaseline() (Baseline, error) {
	if m.st.N < int64(m.cfg.MinBaselineSamples) {
		return Baseline{}, fmt.Errorf("metric %q has %d points, needs at least %d (min_baseline_samples): %w",
			m.name, m.st.N, m.cfg.MinBaselineSamples, ErrTooFewSamples)
	}
	m.refreshBaseline()
	return m.Baseline(), nil
}

func (m *Model) refreshBaseline() {
	m.st.Baseline = m.st.Tracker.snapshot(m.cfg.Robust, m.st.N, m.st.LastTime)
	m.st.SinceRefresh = 0
}

// Baseline returns the current baseline snapshot, with the period that
// seasonal_period "auto" has found so far; it is not Ready before
// min_baseline_samples points.
func (m *Model) Baseline() Baseline {
	b := m.st.Baseline
	if s := m.st.Seasonal; m.cfg.EnableSeasonal && s.Auto {
		b.DetectedPeriod = s.Period
	}
	return b
}
