package detect

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// candidate is one detector's case for flagging a point.
type candidate struct {
	typ      Type
	z        float64
	value    float64
	expected Range
	start    time.Time
	// statistic names what z and expected describe when that is not value
	// (one of the Statistic constants); statisticValue is its value.
	statistic      string
	statisticValue float64
	// constant is set when the spread behind z was floored because the
	// metric had been constant.
	constant bool
}

// strongScore is the score at which a point is an anomaly even though no
// detector puts it outside its expected range: a recent mean surprisal
// beyond about 1 in 5600 of the metric's history (p = 10^-3.75). Such a
// point is unusual for its shape or volatility rather than its value, which
// the range test alone misses. It was chosen on the NAB corpus together
// with defaultScoreThreshold (see docs/benchmarks.md).
const strongScore = 0.75

// seasonalAlone is the multiple of k at which a seasonal z-score makes an
// anomaly whatever the score. The score averages the last scoreRecent
// points, which dilutes a single spike. In a seasonal metric the other
// detectors also raise the score's history at every change of phase. So a
// spike far outside its phase's range can stay below the score threshold. Lower multiples (3 to 7) add false positives on the NAB
// corpus (see docs/benchmarks.md).
const seasonalAlone = 8

// Alert-rate control: every anomaly raised by the score (not a novelty or
// a shift record) raises the metric's score threshold by alertRateStep, and
// the raise decays with a horizon of alertRateHorizon points. A metric that
// keeps crossing the threshold, which happens every few thousand points in
// a long series because the threshold is a quantile of its own history,
// must then be more unusual to alert again. Both were chosen on the NAB
// corpus (see docs/benchmarks.md).
const (
	alertRateStep    = 0.03
	alertRateHorizon = 10000
	// alertRateDecay is the factor applied to the count of score alerts at
	// every point.
	alertRateDecay = 1 - 1.0/alertRateHorizon
)

// decide applies the decision rule to an evaluated point. A point without
// a score (scored false) is never an anomaly. Otherwise, unless an alert
// of this metric is cooling down, the point is an anomaly when:
//
//   - it is a novelty, a value beyond every value seen before (see
//     valueRange), with enable_novelty on;
//   - or its seasonal z-score is at least seasonalAlone·k;
//   - or the shift detector's sum sets a record (see shiftState) and the
//     score is at least shiftMinScore, or the sum of the volatility's shift
//     detector sets a record and the score is at least
//     volatilityShiftMinScore, with enable_trend on;
//   - or its score reaches the score threshold, raised by alert-rate
//     control, and at least one detector puts it outside its expected range
//     (|z| >= k). A score of at least strongScore (or the score threshold,
//     when that is higher) replaces the range test. The detector with the
//     largest |z| names the type and gives the expected range, deviation
//     and severity. A trend counts only on the point where its shift starts.
func (m *Model) decide(ts time.Time, x float64, ev *evaluation, score float64, scored bool, ctx map[string]string) (bool, *Anomaly) {
	st := &m.st
	trendStarts := false
	if ev.trend {
		st.Trend.trackRun(ts.UnixNano(), x, st.Trend.Stats.Mean)
		trendStarts = st.Trend.step(ev.trendZ, m.k)
	}
	if !scored {
		return false, nil
	}
	if st.Cooldown > 0 {
		st.Cooldown--
		return false, nil
	}
	if m.noveltyOn() && st.Range.Novel(x) {
		return m.raise(m.noveltyAnomaly(ts, x, ev.statZ, score, ctx))
	}
	if ev.seasonal && math.Abs(ev.seasonalZ) >= seasonalAlone*m.k {
		return m.raise(m.newAnomaly(ts, rangeCandidate(TypeSeasonal, x, ev.seasonMu, ev.seasonSd, m.k), score, ctx))
	}
	if ev.shift && score >= shiftMinScore && st.Shift.isRecord(ev.shiftUp, ev.shiftDown, st.N, m.cfg.BaselineWindow) {
		return m.raise(m.shiftAnomaly(ts, x, ev, score, ctx))
	}
	if ev.volShift && score >= volatilityShiftMinScore &&
		st.VolatilityShift.isRecord(ev.volShiftUp, ev.volShiftDown, st.N, m.cfg.BaselineWindow) {
		return m.raise(m.volatilityShiftAnomaly(ts, x, ev, score, ctx))
	}
	if score < m.scoreThreshold+alertRateStep*st.ScoreAlerts {
		return false, nil
	}
	best, ok := m.bestCandidate(ev, x, trendStarts, m.k)
	if !ok && score >= max(strongScore, m.scoreThreshold) {
		best, ok = m.bestCandidate(ev, x, false, 0)
	}
	if !ok {
		return false, nil
	}
	st.ScoreAlerts++
	return m.raise(m.newAnomaly(ts, best, score, ctx))
}

// raise starts the cooldown and returns the decision for anomaly a.
func (m *Model) raise(a *Anomaly) (bool, *Anomaly) {
	if m.cfg.CooldownPoints > 0 {
		m.st.Cooldown = m.cfg.CooldownPoints
	}
	return true, a
}

// bestCandidate returns the detector with the largest |z| among those with
// |z| >= minZ. Expected ranges are always the ranges at k.
func (m *Model) bestCandidate(ev *evaluation, x float64, trendStarts bool, minZ float64) (candidate, bool) {
	k := m.k
	var best candidate
	found := false
	consider := func(c candidate) {
		if math.Abs(c.z) >= minZ && (!found || math.Abs(c.z) > math.Abs(best.z)) {
			best, found = c, true
		}
	}
	b := m.st.Baseline
	consider(rangeCandidate(TypeStatistical, x, b.Center, b.scale(), k))
	// A jump away from the recent level is a statistical outlier too, tested
	// against the local level and spread.
	if ev.local {
		consider(rangeCandidate(TypeStatistical, x, ev.localMu, ev.localSd, k))
	}
	if ev.seasonal {
		consider(rangeCandidate(TypeSeasonal, x, ev.seasonMu, ev.seasonSd, k))
	}
	if trendStarts && m.trendSignificant(ev.trendMA) {
		t := &m.st.Trend
		sd := max(t.Stats.StdDev(), spreadFloor(t.Stats.Mean))
		consider(candidate{typ: TypeTrend, z: ev.trendZ, value: x, statistic: StatisticMovingAverage, statisticValue: ev.trendMA,
			expected: Range{Lower: t.Stats.Mean - k*sd, Upper: t.Stats.Mean + k*sd},
			start:    time.Unix(0, t.RunStart).UTC()})
	}
	return best, found
}

// trendSignificant reports whether a moving average is at least k
// standard errors (Scale/√window) from the baseline's center. The moving
// average's own spread, learnt from overlapping windows, is noisy in a
// young model; this guard keeps noise from passing as a shift.
func (m *Model) trendSignificant(ma float64) bool {
	b := m.st.Baseline
	stdErr := b.scale() / math.Sqrt(float64(m.cfg.MovingAverageWindow))
	return math.Abs(ma-b.Center) >= m.k*stdErr
}

// newAnomaly builds the anomaly of candidate c for the point at ts.
func (m *Model) newAnomaly(ts time.Time, c candidate, score float64, ctx map[string]string) *Anomaly {
	dev := min(math.Abs(c.z), MaxDeviation)
	a := &Anomaly{
		ID:        NewID(),
		Metric:    m.name,
		Timestamp: ts.UTC(),
		Start:     c.start,
		Value:     c.value,
		Expected:  c.expected,
		Deviation: dev,
		Score:     score,
		Severity:  SeverityFor(dev, m.k),
		Type:      c.typ,
		Context:   copyContext(ctx),
	}
	if c.statistic != "" {
		a.Statistic = c.statistic
		a.StatisticValue = &c.statisticValue
	}
	a.Message = describe(a, c)
	if dev < m.k {
		a.Message += fmt.Sprintf(", but its recent behaviour scores %.2f (at least %.2f is anomalous without an out-of-range value)",
			score, max(strongScore, m.scoreThreshold))
	}
	return a
}

// MaxDeviation caps an anomaly's deviation_score. A metric that has been
// constant has a spread of almost zero, and any change of it would be
// trillions of standard deviations away.
const MaxDeviation = 1000

// rangeCandidate returns the candidate of x tested against the range
// mu ± k·sd.
func rangeCandidate(typ Type, x, mu, sd, k float64) candidate {
	return candidate{typ: typ, z: (x - mu) / sd, value: x,
		expected: Range{Lower: mu - k*sd, Upper: mu + k*sd},
		constant: sd <= spreadFloor(mu)*(1+1e-9)}
}

// describe returns the one-line message of the anomaly a of candidate c.
func describe(a *Anomaly, c candidate) string {
	prefix := fmt.Sprintf("%s severity %s on %s: ", a.Severity, a.Type, a.Metric)
	against := map[Type]string{
		TypeStatistical: "its baseline",
		TypeSeasonal:    "the baseline of its seasonal phase",
		TypeTrend:       "its usual level",
	}[a.Type]
	center := (a.Expected.Lower + a.Expected.Upper) / 2
	if c.constant {
		return prefix + fmt.Sprintf("value %s differs from %s, where %s had been constant",
			formatValue(a.Value), formatValue(center), against)
	}
	side := "above"
	if c.z < 0 {
		side = "below"
	}
	subject := "value " + formatValue(a.Value)
	if c.statistic == StatisticMovingAverage {
		subject = fmt.Sprintf("at value %s, the moving average %s", formatValue(a.Value), formatValue(c.statisticValue))
	}
	deviation := fmt.Sprintf("%.1f standard deviations", a.Deviation)
	if a.Deviation >= MaxDeviation {
		deviation = fmt.Sprintf("more than %d standard deviations", MaxDeviation)
	}
	return prefix + fmt.Sprintf("%s is %s %s %s (expected %s to %s)",
		subject, deviation, side, against, formatValue(a.Expected.Lower), formatValue(a.Expected.Upper))
}

func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func copyContext(ctx map[string]string) map[string]string {
	if len(ctx) == 0 {
		return nil
	}
	out := make(map[string]string, len(ctx))
	for k, v := range ctx {
		out[k] = v
	}
	return out
}
