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
}

// strongScore is the score at which a point is an anomaly even though no
// detector puts it outside its expected range: a recent mean surprisal
// beyond about 1 in 5600 of the metric's history (p = 10^-3.75). Such a
// point is unusual for its shape or volatility rather than its value, which
// the range test alone misses. It was chosen on the NAB corpus together
// with defaultScoreThreshold (see docs/benchmarks.md).
const strongScore = 0.75

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

// decide applies the decision rule to an evaluated point. Unless an alert
// of this metric is cooling down, the point is an anomaly when:
//
//   - it is a novelty, a value beyond every value seen before (see
//     valueRange), with enable_novelty on;
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
func (m *Model) decide(ts time.Time, x float64, ev *evaluation, score float64, ctx map[string]string) (bool, *Anomaly) {
	st := &m.st
	trendStarts := false
	if ev.trend {
		st.Trend.trackRun(ts.UnixNano(), x, st.Trend.Stats.Mean)
		trendStarts = st.Trend.step(ev.trendZ, m.k)
	}
	if st.Cooldown > 0 {
		st.Cooldown--
		return false, nil
	}
	if m.noveltyOn() && st.Range.Novel(x) {
		return m.raise(m.noveltyAnomaly(ts, x, ev.statZ, score, ctx))
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
	consider(candidate{typ: TypeStatistical, z: ev.statZ, value: x, expected: m.st.Baseline.ExpectedRange(k)})
	// A jump away from the recent level is a statistical outlier too, tested
	// against the local level and spread.
	if ev.local {
		consider(candidate{typ: TypeStatistical, z: ev.localZ, value: x,
			expected: Range{Lower: ev.localMu - k*ev.localSd, Upper: ev.localMu + k*ev.localSd}})
	}
	if ev.seasonal {
		consider(candidate{typ: TypeSeasonal, z: ev.seasonalZ, value: x,
			expected: Range{Lower: ev.seasonMu - k*ev.seasonSd, Upper: ev.seasonMu + k*ev.seasonSd}})
	}
	if trendStarts && m.trendSignificant(ev.trendMA) {
		t := &m.st.Trend
		sd := t.Stats.StdDev()
		consider(candidate{typ: TypeTrend, z: ev.trendZ, value: ev.trendMA,
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
	dev := math.Abs(c.z)
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
	a.Message = describe(a, c.z)
	if dev < m.k {
		a.Message += fmt.Sprintf(", but its recent behaviour scores %.2f (at least %.2f is anomalous without an out-of-range value)",
			score, max(strongScore, m.scoreThreshold))
	}
	return a
}

// describe returns the one-line message of a point anomaly.
func describe(a *Anomaly, z float64) string {
	side := "above"
	if z < 0 {
		side = "below"
	}
	subject := map[Type]string{
		TypeStatistical: "value",
		TypeSeasonal:    "value",
		TypeTrend:       "moving average",
	}[a.Type]
	against := map[Type]string{
		TypeStatistical: "its baseline",
		TypeSeasonal:    "the baseline of its seasonal phase",
		TypeTrend:       "its usual level",
	}[a.Type]
	return fmt.Sprintf("%s severity %s on %s: %s %s is %.1f standard deviations %s %s (expected %s to %s)",
		a.Severity, a.Type, a.Metric, subject, formatValue(a.Value), a.Deviation, side, against,
		formatValue(a.Expected.Lower), formatValue(a.Expected.Upper))
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
