package detect

import (
	"fmt"
	"math"
	"time"
)

// Point is one observation of a metric.
type Point struct {
	Timestamp time.Time
	Value     float64
}

// Result is the outcome of observing one point.
type Result struct {
	// Score is the calibrated anomaly score in [0, 1]; 0 until the baseline
	// is ready. The first scoreRecent (8) points after that, whose recent
	// window is still filling, are decided by the range test alone (see
	// decideUnscored) and score 0 unless they are anomalies.
	Score float64
	// IsAnomaly is the decision; Anomaly describes it when it is true.
	IsAnomaly bool
	Anomaly   *Anomaly
}

// Model is the streaming model of one metric. Observe updates it in O(1)
// time per point, apart from the period detection of seasonal_period
// "auto". That computes the autocorrelation of the retained points (by FFT,
// in O(r log r) for r retained points) at the retention_points-th point and
// then every 4·retention_points points, for as long as the model runs. When
// the period changes, it re-seeds the phases from the retained points. Its memory is bounded by the retention and, with seasonality,
// the number of phases. A Model is not safe for concurrent use.
type Model struct {
	name           string
	cfg            Config
	k              float64
	scoreThreshold float64
	st             state
	scratch        []float64
	// holdTrend is set by decide when the point belongs to a shift that
	// waits for its trend report. The moving average's usual range then
	// takes the point's moving average clipped to k spreads, so that it
	// does not learn the shift before the shift is reported. It holds for
	// one point and is not persisted.
	holdTrend bool
}

// state is everything a Model persists. Its fields are exported for gob.
type state struct {
	Version      int
	N            int64
	LastTime     int64
	Points       ring
	Tracker      baselineTracker
	Baseline     Baseline
	SinceRefresh int
	Trend        trendState
	Seasonal     seasonalState
	Local        localState
	Volatility   volatilityState
	Pattern      patternState
	Range        valueRange
	// Shift and VolatilityShift are the shift detectors of the baseline
	// z-score and of the volatility's z-score.
	Shift           shiftState
	VolatilityShift shiftState
	// ScoreAlerts is the decayed count of anomalies raised by the score,
	// for alert-rate control.
	ScoreAlerts float64
	Score       scoreState
	Cooldown    int
	// LastAlert is the timestamp of the newest anomaly, in Unix
	// nanoseconds; 0 before the first. LastDeviation is that anomaly's
	// deviation score, which a spike must exceed to break through its
	// cooldown.
	LastAlert     int64
	LastDeviation float64
}

// stateVersion is the encoding version of state; Unmarshal rejects others.
const stateVersion = 1

// NewModel returns an empty model for the named metric. cfg is completed
// with WithDefaults and validated.
func NewModel(name string, cfg Config) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("metric %q: %w", name, err)
	}
	m := &Model{name: name}
	m.applyConfig(cfg)
	m.st = state{
		Version:    stateVersion,
		Points:     newRing(cfg.RetentionPoints),
		Tracker:    newBaselineTracker(cfg.BaselineWindow),
		Trend:      newTrendState(cfg),
		Seasonal:   newSeasonalState(cfg),
		Local:      newLocalState(cfg.BaselineWindow),
		Volatility: newVolatilityState(cfg.BaselineWindow),
		Score:      newScoreState(),
	}
	return m, nil
}

func (m *Model) applyConfig(cfg Config) {
	m.cfg = cfg
	m.k = cfg.EffectiveThreshold()
	m.scoreThreshold = cfg.EffectiveScoreThreshold()
}

// Name returns the metric's name.
func (m *Model) Name() string { return m.name }

// Config returns the model's config with defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// Samples returns the number of points observed.
func (m *Model) Samples() int64 { return m.st.N }

// Newest returns the timestamp of the newest point; zero before the first.
func (m *Model) Newest() time.Time {
	if m.st.N == 0 {
		return time.Time{}
	}
	return time.Unix(0, m.st.LastTime).UTC()
}

// ready reports whether the model has enough points to score.
func (m *Model) ready() bool {
	return m.st.N >= int64(m.cfg.MinBaselineSamples) && m.st.Baseline.Ready()
}

// Observe scores the point against the model and then adds it. Points must
// come in time order; the caller checks that (see CheckOrder). ctx is
// copied into an anomaly that the point raises.
func (m *Model) Observe(ts time.Time, x float64, ctx map[string]string) Result {
	tsNano := ts.UnixNano()
	var res Result
	if m.ready() {
		ev := m.evaluate(tsNano, x)
		score, scored := m.st.Score.Calibrate(ev.surprise, ev.lead)
		if scored {
			res.Score = score
			res.IsAnomaly, res.Anomaly = m.decide(ts, x, &ev, score, ctx)
		} else {
			res.Score, res.IsAnomaly, res.Anomaly = m.decideUnscored(ts, x, ctx)
		}
		m.st.ScoreAlerts *= alertRateDecay
		if ev.seasonal {
			m.st.Seasonal.RecordZ = max(m.st.Seasonal.RecordZ, math.Abs(ev.seasonNearZ))
		}
		if ev.shift {
			m.st.Shift.commit(tsNano, m.st.N, ev.shiftUp, ev.shiftDown, res.IsAnomaly)
			level := m.levelZ(&ev)
			m.st.Shift.settle(level)
			if side := m.st.Trend.LevelSide; side != 0 && level*float64(side) <= 0 && m.recentMeanReturned(x, side) {
				m.st.Trend.LevelSide = 0
			}
		}
		if ev.volShift {
			m.st.VolatilityShift.commit(tsNano, m.st.N, ev.volShiftUp, ev.volShiftDown, res.IsAnomaly)
		}
	}
	m.update(tsNano, x, res.IsAnomaly)
	return res
}

// recentMeanReturned reports whether the mean of x and the points before
// it, over three moving-average windows, is back at the baseline's center
// or beyond it, away from side.
func (m *Model) recentMeanReturned(x float64, side int) bool {
	n := min(3*m.cfg.MovingAverageWindow, m.st.Points.Len+1)
	sum := x
	for i := range n - 1 {
		sum += m.st.Points.Back(i)
	}
	return (sum/float64(n)-m.st.Baseline.Center)*float64(side) <= 0
}

// CheckOrder returns an error when ts is earlier than the newest point.
func (m *Model) CheckOrder(ts time.Time) error {
	if m.st.N > 0 && ts.UnixNano() < m.st.LastTime {
		return fmt.Errorf("metric %q: point at %s is earlier than the newest point (%s): send points in time order",
			m.name, ts.UTC().Format(time.RFC3339Nano), m.Newest().Format(time.RFC3339Nano))
	}
	return nil
}

// update adds x to every part of the model. The baseline's statistics
// take an anomalous x clipped to the baseline's expected range, so that an
// outlier cannot widen the range that the next points are tested against.
func (m *Model) update(ts int64, x float64, anomalous bool) {
	st := &m.st
	st.N++
	st.LastTime = ts
	st.Points.Push(ts, x)
	st.Range.Update(x)
	baselineX := x
	if anomalous && st.Baseline.Ready() {
		r := st.Baseline.ExpectedRange(m.k)
		baselineX = max(r.Lower, min(r.Upper, x))
	}
	st.Tracker.Update(baselineX, m.robustSeed)
	trendClip := 0.0
	if m.holdTrend {
		trendClip = m.k
		m.holdTrend = false
	}
	st.Trend.Update(&st.Points, x, trendClip)
	st.Local.Update(x)
	st.Volatility.Update(x)
	if *m.cfg.EnablePattern {
		if st.Pattern.Counts == nil {
			st.Pattern = newPatternState()
		}
		st.Pattern.Update(x, st.Baseline)
	}
	if m.cfg.EnableSeasonal {
		st.Seasonal.Update(ts, x, st.N, &st.Points, m.cfg)
	}
	st.SinceRefresh++
	if st.N >= int64(m.cfg.MinBaselineSamples) && (!st.Baseline.Ready() || st.SinceRefresh >= m.cfg.BaselineRefresh) {
		m.refreshBaseline()
	}
}

// robustSeed returns the retained values once the robust baseline needs
// seeding, and nil before that.
func (m *Model) robustSeed() []float64 {
	if !m.cfg.Robust || m.st.N < int64(m.cfg.MinBaselineSamples) {
		return nil
	}
	m.scratch = m.st.Points.CopyValues(m.scratch[:0])
	return m.scratch
}
