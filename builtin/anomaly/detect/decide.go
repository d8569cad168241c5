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
	// recent is set when the anomaly is raised by the score of the recent
	// window alone. lead is then the detector that contributed the most
	// surprisal to that window, and the candidate is that detector's view
	// of the point.
	recent bool
	lead   int
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
// spike far outside its phase's range can stay below the score threshold.
// Lower multiples (3 to 7) without seasonalRecord's record test add false
// positives on the NAB corpus (see docs/benchmarks.md).
const seasonalAlone = 8

// seasonalRecord is the multiple of k at which a seasonal z-score makes an
// anomaly whatever the score, when it is also a record. A record is farther
// from the closest of the point's phase and the two beside it than any
// point since the period took effect. A 20σ spike at night in a day/night cycle scores
// only about 0.3, because the score's mean over 8 points dilutes one
// point, and its seasonal z-score of 14 to 16 (the phase means lag the
// cycle a little, which widens the shared spread) is below seasonalAlone·k
// = 24. Without the record test, 4k added 9 false positives on the NAB
// corpus, most of them bursts that a CPU series repeats every few days.
const seasonalRecord = 4

// trendConfirmWindows is the number of whole moving-average windows after
// an alert for which the moving average must stay shifted before the shift
// that the alert started is reported as a trend. With 1 to 3 windows, the
// trend reports of bursts that last a few dozen points added 1 to 3 false
// positives on the NAB corpus, and 6 windows or more missed a window there
// (see docs/benchmarks.md).
const trendConfirmWindows = 4

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

// decide applies the decision rule to an evaluated point with a score.
// Unless an alert of this metric is cooling down, the point is an anomaly
// when:
//
//   - it is a novelty, a value beyond every value seen before (see
//     valueRange), with enable_novelty on;
//   - or its seasonal z-score passes seasonalAlone (see Model.seasonalAlone);
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
//
// Before all of these, the point is an anomaly when it is a spike (see
// Model.spike). During a cooldown, a spike counts only when it is farther
// from its expectation than the anomaly that started the cooldown. The
// only other anomaly during a cooldown is the trend of a shift that
// started at or before that alert, once trendConfirmWindows whole
// moving-average windows of points after the alert confirm it.
func (m *Model) decide(ts time.Time, x float64, ev *evaluation, score float64, ctx map[string]string) (bool, *Anomaly) {
	st := &m.st
	trendPending := false
	if ev.trend {
		st.Trend.trackStart(ts.UnixNano(), ev.statZ)
		sustained := m.trendSustained(x, ev.trendMA)
		z := ev.trendZ
		if !st.Trend.Active && !sustained {
			z = 0 // not a shift yet: wait for the moving average to confirm it
		}
		st.Trend.step(z, m.k)
		trendPending = sustained && math.Abs(ev.trendZ) >= m.k && st.Trend.pending(ts.UnixNano(), ev.trendZ > 0) &&
			!m.sameLevelShift(ev, ev.trendZ > 0)
	}
	if spike, ok := m.spike(ev, x); ok && (st.Cooldown == 0 || math.Abs(spike.z) > st.LastDeviation) {
		a := m.newAnomaly(ts, spike, score, ctx)
		a.Message += fmt.Sprintf(": a spike of at least spike_threshold (%g) standard deviations", m.cfg.SpikeThreshold)
		if st.Cooldown > 0 {
			st.Cooldown--
			a.Message += fmt.Sprintf(", which breaks the cooldown of a nearer anomaly (%.1f standard deviations)", st.LastDeviation)
		}
		return m.raise(a)
	}
	if st.Cooldown > 0 {
		st.Cooldown--
		// A shift whose first points raised the alert that is cooling down
		// is reported as a trend once the moving average has confirmed it
		// for trendConfirmWindows whole windows after the alert. That alert
		// already explains the points up to its own, and a burst that the
		// alert caught at its peak, and that ends a few windows later, is
		// no shift. Until then the moving average's usual range must not
		// learn the shift it is testing (see holdTrend).
		// NOTE: sinceAlert is right only while cooldown_points is the value
		// it had at the alert. A Reconfigure during the cooldown may change it.
		sinceAlert := m.cfg.CooldownPoints - st.Cooldown
		if trendPending && st.LastAlert >= m.trendStart(ts.UnixNano(), ev) {
			if sinceAlert >= trendConfirmWindows*m.cfg.MovingAverageWindow {
				return m.raise(m.newAnomaly(ts, m.trendCandidate(ev), score, ctx))
			}
			m.holdTrend = true
		}
		return false, nil
	}
	if m.noveltyOn() && st.Range.Novel(x) {
		return m.raise(m.noveltyAnomaly(ts, x, ev.statZ, score, ctx))
	}
	if m.seasonalAlone(ev) {
		return m.raise(m.newAnomaly(ts, rangeCandidate(TypeSeasonal, x, ev.seasonMu, ev.seasonSd, m.k), score, ctx))
	}
	if ev.shift && score >= shiftMinScore && st.Shift.isRecord(ev.shiftUp, ev.shiftDown, st.N, m.cfg.BaselineWindow) &&
		!m.sameLevelShift(ev, ev.shiftUp > ev.shiftDown) {
		return m.raise(m.shiftAnomaly(ts, x, ev, score, ctx))
	}
	if ev.volShift && score >= volatilityShiftMinScore &&
		st.VolatilityShift.isRecord(ev.volShiftUp, ev.volShiftDown, st.N, m.cfg.BaselineWindow) {
		return m.raise(m.volatilityShiftAnomaly(ts, x, ev, score, ctx))
	}
	if score < m.scoreThreshold+alertRateStep*st.ScoreAlerts {
		return false, nil
	}
	best, ok := m.bestCandidate(ev, x, trendPending, m.k)
	if !ok && score >= max(strongScore, m.scoreThreshold) {
		best, ok = m.recentCandidate(ev, x), true
	}
	if !ok {
		return false, nil
	}
	st.ScoreAlerts++
	return m.raise(m.newAnomaly(ts, best, score, ctx))
}

// spike returns the candidate of x when x is a spike: at least
// spike_threshold spreads from its seasonal phase's mean, or from the
// baseline's center when the phase has no baseline, while the point
// before it was closer than that. The score cannot be relied on for a
// spike, because it learns that the spikes of a metric recur and grades
// them lower each time. The seasonal distance is taken from the closest of
// the point's phase and the two beside it, so a burst of a sharp season
// that comes one phase early is no spike. Only the first point of a level
// shift is a spike; the trend detector reports the shift.
func (m *Model) spike(ev *evaluation, x float64) (candidate, bool) {
	limit := m.cfg.SpikeThreshold
	z := ev.statZ
	if ev.seasonal {
		z = ev.seasonNearZ
	}
	if limit <= 0 || math.Abs(z) < limit {
		return candidate{}, false
	}
	typ, center, spread := TypeStatistical, m.st.Baseline.Center, m.st.Baseline.scale()
	if ev.seasonal {
		typ, center, spread = TypeSeasonal, ev.seasonMu, ev.seasonSd
	}
	if math.Abs(m.st.Points.Back(0)-center) >= limit*spread {
		return candidate{}, false
	}
	return rangeCandidate(typ, x, center, spread, m.k), true
}

// seasonalAlone reports whether the point of ev is an anomaly on its
// seasonal z-score alone: at least seasonalRecord·k and a record (see
// seasonalState.RecordZ), or at least seasonalAlone·k. In both cases the
// point must be as far from the two phases beside its own, so that a cycle
// running one phase early or late is not an anomaly.
func (m *Model) seasonalAlone(ev *evaluation) bool {
	if !ev.seasonal || math.Abs(ev.seasonalZ) < seasonalRecord*m.k {
		return false
	}
	near := math.Abs(ev.seasonNearZ)
	return near >= seasonalAlone*m.k || (near >= seasonalRecord*m.k && near > m.st.Seasonal.RecordZ)
}

// unscoredRange is the multiple of k, the medium severity boundary, at
// which the range test alone decides on a point whose score's recent
// window is still filling. The baseline then comes from about
// min_baseline_samples points, and at 1k the range test alone alerted in
// 17 of 400 new metrics of Gaussian noise during those 8 points
// (TestModelYoungMetricNoise), four times a mature model's rate.
const unscoredRange = 1.5

// decideUnscored decides on a point whose score's recent window is still
// filling: the first scoreRecent points after the baseline is ready. The
// mean surprisal of fewer points would make an ordinary point look rare,
// so the score cannot decide, but the range test can. As in DetectValue,
// the point is tested against the baseline, or against its seasonal
// phase's baseline when that is known, and it is an anomaly at
// unscoredRange·k standard deviations or more. The returned score is the
// anomaly's score, graded as DetectValue grades it, and 0 for a point that
// is not an anomaly.
func (m *Model) decideUnscored(ts time.Time, x float64, ctx map[string]string) (float64, bool, *Anomaly) {
	if m.st.Cooldown > 0 {
		m.st.Cooldown--
		return 0, false, nil
	}
	c := m.pointCandidate(ts.UnixNano(), m.st.N, x)
	if math.Abs(c.z) < unscoredRange*m.k {
		return 0, false, nil
	}
	score := m.valueScore(c.z)
	isAnomaly, a := m.raise(m.newAnomaly(ts, c, score, ctx))
	return score, isAnomaly, a
}

// raise starts the cooldown and returns the decision for anomaly a.
func (m *Model) raise(a *Anomaly) (bool, *Anomaly) {
	m.st.LastAlert = a.Timestamp.UnixNano()
	m.st.LastDeviation = a.Deviation
	if a.levelSide != 0 {
		m.markLevelReported(a.levelSide > 0)
	}
	if m.cfg.CooldownPoints > 0 {
		m.st.Cooldown = m.cfg.CooldownPoints
	}
	return true, a
}

// levelSide returns the side (+1 above, -1 below) of the level shift that
// candidate c reports as a trend, or 0 when it reports none: it is no
// trend, or a change of volatility. A level shift record's sum is signed
// by its side. A trend of the moving average is on the side of its
// statistic, or of the value when it has none.
func (m *Model) levelSide(c candidate) int {
	if c.typ != TypeTrend || c.statistic == StatisticMeanAbsoluteChange || c.statistic == StatisticVolatilityCUSUM {
		return 0
	}
	level, center := c.value, m.st.Baseline.Center
	switch c.statistic {
	case StatisticLevelCUSUM:
		level, center = c.statisticValue, 0
	case StatisticMovingAverage:
		level = c.statisticValue
	}
	if level >= center {
		return 1
	}
	return -1
}

// markLevelReported records that the level's shift upward (or downward)
// has been reported as a trend.
func (m *Model) markLevelReported(upward bool) {
	t := &m.st.Trend
	t.markReported(m.st.LastAlert, upward)
	t.LevelSide = 1
	if !upward {
		t.LevelSide = -1
	}
	t.LevelReported = t.Sum / float64(t.Window)
}

// sameLevelShift reports whether a level shift upward (or downward) at the
// point of ev continues the one reported last. That is so while the level
// has stayed on that side of the baseline's center and the moving average
// is less than k spreads further out than at that report. The spread is
// the local level's when that is smaller than the baseline's, which the
// reported shift has widened. A drift moves the start that the detectors
// date, and the baseline follows it, so without this a long drift was
// reported again and again. A drift that goes on is reported again each
// time its moving average has moved k more spreads.
func (m *Model) sameLevelShift(ev *evaluation, upward bool) bool {
	t := &m.st.Trend
	dir := 1
	if !upward {
		dir = -1
	}
	if t.LevelSide != dir {
		return false
	}
	if !ev.trend {
		return true
	}
	further := (ev.trendMA - t.LevelReported) * float64(dir)
	spread := m.st.Baseline.scale()
	if ev.local {
		spread = min(spread, ev.localSd)
	}
	return further < m.k*spread
}

// bestCandidate returns the detector with the largest |z| among those with
// |z| >= minZ. A trend whose shift is confirmed and not yet reported
// (trendPending) wins over the others, because its report gives the whole
// shift with its start. Expected ranges are always the ranges at k.
func (m *Model) bestCandidate(ev *evaluation, x float64, trendPending bool, minZ float64) (candidate, bool) {
	if trendPending {
		return m.trendCandidate(ev), true
	}
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
	// A value that matches a phase beside its own is a cycle running one
	// phase early or late (see seasonalState.nearestPhaseZ), not a
	// seasonal anomaly.
	if ev.seasonal && math.Abs(ev.seasonNearZ) >= minZ {
		consider(rangeCandidate(TypeSeasonal, x, ev.seasonMu, ev.seasonSd, k))
	}
	return best, found
}

// recentCandidate returns the candidate of a point whose recent window
// scores high enough to be an anomaly although no detector puts the point
// outside its expected range. The window is unusual as a whole, so the
// anomaly is named after the detector that contributed the most surprisal
// to it (see scoreState.dominant). The volatility or the moving average
// make a trend anomaly and the seasonal z-score a seasonal one. The
// baseline, the recent level and the pattern of the last points make a
// statistical outlier. The candidate gives that detector's view of the
// point, or the baseline's when that detector has none for this point.
func (m *Model) recentCandidate(ev *evaluation, x float64) candidate {
	lead, ok := m.st.Score.dominant()
	if !ok {
		lead = compStatistical
	}
	b := m.st.Baseline
	c := rangeCandidate(TypeStatistical, x, b.Center, b.scale(), m.k)
	switch {
	case lead == compLocal && ev.local:
		c = rangeCandidate(TypeStatistical, x, ev.localMu, ev.localSd, m.k)
	case lead == compSeasonal && ev.seasonal:
		c = rangeCandidate(TypeSeasonal, x, ev.seasonMu, ev.seasonSd, m.k)
	case lead == compTrend && ev.trend:
		c = m.trendCandidate(ev)
		c.start = time.Time{}
	case lead == compVolatility && ev.has[compVolatility]:
		c = m.volatilityCandidate(x, ev.volatilityZ)
	case lead == compVolatility || lead == compTrend:
		// The detector has no view of this point; the window is still
		// unusual for it, which is a trend anomaly.
		c.typ = TypeTrend
	case lead == compSeasonal:
		c.typ = TypeSeasonal
	}
	c.recent, c.lead = true, lead
	return c
}

// volatilityCandidate returns the candidate of the volatility detector for
// x, whose volatility z-score is z: the mean absolute change that x makes,
// tested against its usual range.
func (m *Model) volatilityCandidate(x, z float64) candidate {
	v := &m.st.Volatility
	sd := v.spread()
	return candidate{typ: TypeTrend, z: z, value: x,
		expected:  Range{Lower: v.Long.Mean - m.k*sd, Upper: v.Long.Mean + m.k*sd},
		statistic: StatisticMeanAbsoluteChange, statisticValue: v.next(x)}
}

// recentReason is, for each detector, the reason that a window it leads is
// unusual, as the anomaly's message words it.
var recentReason = [numComponents]string{
	compStatistical: "their distance from the baseline",
	compLocal:       "their jumps away from the recent level",
	compVolatility:  "how much they change from point to point",
	compSeasonal:    "their distance from their seasonal phases",
	compTrend:       "their moving average",
	compPattern:     "the rare shape they make",
}

// trendCandidate returns the trend candidate of the point of ev: its
// moving average tested against the moving average's usual range, starting
// at trendStart.
func (m *Model) trendCandidate(ev *evaluation) candidate {
	t := &m.st.Trend
	k := m.k
	sd := max(t.Stats.StdDev(), spreadFloor(t.Stats.Mean))
	return candidate{typ: TypeTrend, z: ev.trendZ, value: ev.value, statistic: StatisticMovingAverage, statisticValue: ev.trendMA,
		expected: Range{Lower: t.Stats.Mean - k*sd, Upper: t.Stats.Mean + k*sd},
		start:    time.Unix(0, m.trendStart(ev.ts, ev)).UTC()}
}

// trendStart returns the timestamp, in Unix nanoseconds, at which the shift
// of the point of ev at ts started (see trendState.trackStart).
func (m *Model) trendStart(ts int64, ev *evaluation) int64 {
	return m.st.Trend.start(ts, ev.trendZ > 0)
}

// trendSustained reports whether the moving average ma, which x makes, is
// a sustained shift. Both ma and the mean of the same window without its
// point farthest from the baseline's center must lie at least k standard
// errors (Scale/√window) from that center. The moving average's own spread,
// learnt from overlapping windows, is noisy in a young model, and one spike
// moves the moving average of its window as far as a shift does. These
// tests keep both from passing as a shift.
func (m *Model) trendSustained(x, ma float64) bool {
	b := m.st.Baseline
	w := m.cfg.MovingAverageWindow
	stdErr := b.scale() / math.Sqrt(float64(w))
	if math.Abs(ma-b.Center) < m.k*stdErr {
		return false
	}
	sum, farthest := x, x
	for i := range w - 1 {
		v := m.st.Points.Back(i)
		sum += v
		if math.Abs(v-b.Center) > math.Abs(farthest-b.Center) {
			farthest = v
		}
	}
	trimmed := (sum - farthest) / float64(w-1)
	return math.Abs(trimmed-b.Center) >= m.k*b.scale()/math.Sqrt(float64(w-1)) &&
		(trimmed-b.Center)*(ma-b.Center) > 0
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
		levelSide: m.levelSide(c),
	}
	if c.statistic != "" {
		a.Statistic = c.statistic
		a.StatisticValue = &c.statisticValue
	}
	a.Message = describe(a, c)
	if c.recent {
		a.Message = fmt.Sprintf("%s severity %s on %s: the last %d points are unusual together, mostly for %s, and score %.2f (at least %.2f is anomalous without an out-of-range value); ",
			a.Severity, a.Type, a.Metric, scoreRecent, recentReason[c.lead], score, max(strongScore, m.scoreThreshold))
		if dev < m.k {
			a.Message += "this point is within its expected range: "
		}
		a.Message += describeDeviation(a, c)
		// The score decided, so the anomaly reports it against the range
		// that it left; the message keeps the leading detector's view.
		limit := max(strongScore, m.scoreThreshold)
		a.Statistic, a.StatisticValue = StatisticRecentScore, &a.Score
		a.Expected = Range{Lower: 0, Upper: limit}
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
	return fmt.Sprintf("%s severity %s on %s: ", a.Severity, a.Type, a.Metric) + describeDeviation(a, c)
}

// describeDeviation returns how far the value, or the statistic, of the
// anomaly a of candidate c is from its expected range, in words.
func describeDeviation(a *Anomaly, c candidate) string {
	against := map[Type]string{
		TypeStatistical: "its baseline",
		TypeSeasonal:    "the baseline of its seasonal phase",
		TypeTrend:       "its usual level",
	}[a.Type]
	center := (a.Expected.Lower + a.Expected.Upper) / 2
	if c.constant {
		return fmt.Sprintf("value %s differs from %s, where %s had been constant",
			formatValue(a.Value), formatValue(center), against)
	}
	side := "above"
	if c.z < 0 {
		side = "below"
	}
	subject := "value " + formatValue(a.Value)
	switch c.statistic {
	case StatisticMovingAverage:
		subject = fmt.Sprintf("at value %s, the moving average %s", formatValue(a.Value), formatValue(c.statisticValue))
	case StatisticMeanAbsoluteChange:
		subject = fmt.Sprintf("at value %s, the mean absolute change %s", formatValue(a.Value), formatValue(c.statisticValue))
		against = "its usual level"
	}
	deviation := fmt.Sprintf("%.1f standard deviations", a.Deviation)
	if a.Deviation >= MaxDeviation {
		deviation = fmt.Sprintf("more than %d standard deviations", MaxDeviation)
	}
	return fmt.Sprintf("%s is %s %s %s (expected %s to %s)",
		subject, deviation, side, against, formatValue(a.Expected.Lower), formatValue(a.Expected.Upper))
}

func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// copyContext returns a copy of ctx, empty rather than nil, so that every
// anomaly carries a context object.
func copyContext(ctx map[string]string) map[string]string {
	out := make(map[string]string, len(ctx))
	for k, v := range ctx {
		out[k] = v
	}
	return out
}
