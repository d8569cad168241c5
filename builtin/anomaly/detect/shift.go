package detect

import (
	"fmt"
	"math"
	"time"
)

// Shift detector parameters. They were chosen on the NAB corpus (see
// docs/benchmarks.md).
const (
	// shiftDrift is the CUSUM's reference value, in standard deviations:
	// a sum grows only while the values stay more than 0.75 standard
	// deviations from the baseline on its side, which suits shifts of
	// about 1.5 standard deviations.
	shiftDrift = 0.75
	// shiftClip bounds the z-score that one point adds, so that a single
	// spike cannot make a record; spikes are the other detectors' job.
	shiftClip = 3
	// shiftMinScore is the score a record needs: recent behaviour at least
	// as unusual as the top third of the metric's history (p = 10^-0.5).
	shiftMinScore = 0.1
	// volatilityShiftMinScore is the score a record of the volatility's
	// shift detector needs: the top 10% of the metric's history. A lower
	// floor adds more false positives than windows on the NAB corpus.
	volatilityShiftMinScore = 0.2
)

// shiftState is a two-sided CUSUM (Page's cumulative sum) of a z-score: the
// point's z-score against the baseline, or the volatility's z-score. It
// catches level shifts and drifts, or lasting changes of volatility, that
// are too small or too slow for the other detectors, because their
// baselines follow them. A record, a sum higher than any the metric has
// had, means that the values have stayed away from the baseline longer or
// further than ever before.
//
// An alert, whichever detector raised it, reports the excursion that each
// positive sum is making: that sum keeps running, and counts toward the
// record, but it makes no alert of its own until the excursion ends. So
// one shift is reported once even when its sum keeps growing through the
// cooldown and beyond.
type shiftState struct {
	// Up and Down are the upper and lower sums.
	Up, Down float64
	// UpStart and DownStart are the timestamps, in Unix nanoseconds, at
	// which each sum last rose from zero.
	UpStart, DownStart int64
	// UpReported and DownReported are set while the excursion of each sum
	// has been reported by an alert.
	UpReported, DownReported bool
	// Record is the highest sum so far.
	Record float64
	// From is the point count at the first sum; 0 before it, and in a model
	// decoded from an encoding without this detector.
	From int64
}

// next returns the sums after a point with z-score z.
func (s *shiftState) next(z float64) (up, down float64) {
	z = max(-shiftClip, min(shiftClip, z))
	return max(0, s.Up+z-shiftDrift), max(0, s.Down-z-shiftDrift)
}

// commit stores the sums of the n-th point, at ts, and updates the record.
// An alert on the point, whichever detector raised it, marks the
// excursion of each positive sum reported. A reported excursion ends when
// its sum returns to zero (or, for the level, see settle).
func (s *shiftState) commit(ts, n int64, up, down float64, alerted bool) {
	if s.From == 0 {
		s.From = n
	}
	s.Record = max(s.Record, up, down)
	if s.Up == 0 && up > 0 {
		s.UpStart = ts
	}
	if s.Down == 0 && down > 0 {
		s.DownStart = ts
	}
	s.Up, s.Down = up, down
	s.UpReported = up > 0 && (s.UpReported || alerted)
	s.DownReported = down > 0 && (s.DownReported || alerted)
}

// settle ends a reported excursion once the recent level, a z-score
// against the baseline, is back within shiftDrift of zero on its side: the
// shift is over, or the baseline has absorbed it. Its sum restarts from
// zero. Without this a shift's sum, built up over hundreds of points,
// would take as long again to return to zero, and would mask the next
// shift on its side.
func (s *shiftState) settle(level float64) {
	if s.UpReported && level < shiftDrift {
		s.Up, s.UpReported = 0, false
	}
	if s.DownReported && level > -shiftDrift {
		s.Down, s.DownReported = 0, false
	}
}

// isRecord reports whether sums up and down of the n-th point beat the
// record, leaving out a sum whose excursion has been reported. Records
// count only once the sums have run for warmup points, as a young record
// is easy to beat.
func (s *shiftState) isRecord(up, down float64, n int64, warmup int) bool {
	if s.From == 0 || n-s.From < int64(warmup) {
		return false
	}
	return (!s.UpReported && up > s.Record) || (!s.DownReported && down > s.Record)
}

// shiftAnomaly builds the trend anomaly of a shift record at x. It
// reports the statistic that the record tested, the signed CUSUM, against
// the range of the previous record on either side. Its deviation is the
// level's distance from the baseline (see levelZ), so its severity grows
// with the size of the shift.
func (m *Model) shiftAnomaly(ts time.Time, x float64, ev *evaluation, score float64, ctx map[string]string) *Anomaly {
	st := &m.st
	sum, start, upward := st.Shift.excursion(ts.UnixNano(), ev.shiftUp, ev.shiftDown)
	side := "above"
	if !upward {
		side = "below"
	}
	b := st.Baseline
	level := "value " + formatValue(x)
	if ev.trend {
		level = fmt.Sprintf("value %s, moving average %s", formatValue(x), formatValue(ev.trendMA))
	}
	a := m.newShiftAnomaly(ts, start, cusumCandidate(x, m.levelZ(ev), sum, upward, st.Shift.Record, StatisticLevelCUSUM), score, ctx)
	r := b.ExpectedRange(m.k)
	a.Message = fmt.Sprintf("%s severity %s on %s: values have stayed %s the baseline since %s longer or further than ever before (cumulative deviation %.1f, previous maximum %.1f standard deviations); %s, %.1f standard deviations from the baseline's center %s (baseline range %s to %s)",
		a.Severity, a.Type, a.Metric, side, a.Start.Format(time.RFC3339), sum, st.Shift.Record,
		level, a.Deviation, formatValue(b.Center), formatValue(r.Lower), formatValue(r.Upper))
	return a
}

// cusumCandidate returns the candidate of a shift record at x: the sum,
// signed by its side, tested against the previous record on either side.
// z is the distance that grades the record's severity.
func cusumCandidate(x, z, sum float64, upward bool, record float64, statistic string) candidate {
	if !upward {
		sum = -sum
	}
	return candidate{typ: TypeTrend, z: z, value: x, expected: Range{Lower: -record, Upper: record},
		statistic: statistic, statisticValue: sum}
}

// excursion returns the larger of the sums up and down of a point at ts,
// the timestamp at which that sum rose from zero, and whether it is the
// upper sum.
func (s *shiftState) excursion(ts int64, up, down float64) (sum float64, start int64, upward bool) {
	if down > up {
		start = s.DownStart
		if s.Down == 0 {
			start = ts // the sum rises from zero at this point
		}
		return down, start, false
	}
	start = s.UpStart
	if s.Up == 0 {
		start = ts
	}
	return up, start, true
}

// newShiftAnomaly builds the trend anomaly of candidate c for a shift that
// started at start, without its message.
func (m *Model) newShiftAnomaly(ts time.Time, start int64, c candidate, score float64, ctx map[string]string) *Anomaly {
	dev := min(math.Abs(c.z), MaxDeviation)
	a := &Anomaly{
		ID:        NewID(),
		Metric:    m.name,
		Timestamp: ts.UTC(),
		Start:     time.Unix(0, start).UTC(),
		Value:     c.value,
		Expected:  c.expected,
		Deviation: dev,
		Score:     score,
		Severity:  SeverityFor(dev, m.k),
		Type:      TypeTrend,
		Context:   copyContext(ctx),
		levelSide: m.levelSide(c),
	}
	if c.statistic != "" {
		a.Statistic = c.statistic
		a.StatisticValue = &c.statisticValue
	}
	return a
}

// volatilityShiftAnomaly builds the trend anomaly of a record of the
// volatility's shift detector at x. It reports the short-run mean absolute
// change that x makes against its usual range.
func (m *Model) volatilityShiftAnomaly(ts time.Time, x float64, ev *evaluation, score float64, ctx map[string]string) *Anomaly {
	st := &m.st
	sum, start, upward := st.VolatilityShift.excursion(ts.UnixNano(), ev.volShiftUp, ev.volShiftDown)
	side := "more"
	if !upward {
		side = "less"
	}
	v := m.volatilityCandidate(x, ev.volatilityZ)
	a := m.newShiftAnomaly(ts, start, cusumCandidate(x, v.z, sum, upward, st.VolatilityShift.Record, StatisticVolatilityCUSUM), score, ctx)
	a.Message = fmt.Sprintf("%s severity %s on %s: values have changed from point to point %s than usual since %s longer or further than ever before (cumulative deviation %.1f, previous maximum %.1f standard deviations); at value %s, the mean absolute change %s is %.1f standard deviations from its usual level (usual range %s to %s)",
		a.Severity, a.Type, a.Metric, side, a.Start.Format(time.RFC3339), sum, st.VolatilityShift.Record,
		formatValue(x), formatValue(v.statisticValue), a.Deviation, formatValue(v.expected.Lower), formatValue(v.expected.Upper))
	return a
}

// levelZ returns the recent level of the baseline z-score: the moving
// average's z-score against the baseline, or the point's before the trend
// detector has a moving average.
func (m *Model) levelZ(ev *evaluation) float64 {
	if !ev.trend {
		return ev.statZ
	}
	return m.st.Baseline.ZScore(ev.trendMA)
}
