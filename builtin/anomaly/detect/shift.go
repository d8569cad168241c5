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
// baselines follow them. A record, a sum higher than any the metric has had, means
// that the values have stayed away from the baseline longer or further
// than ever before. Both sums restart from zero after every alert, so a
// shift that lasts makes a new record only once it has built up as much
// again.
type shiftState struct {
	// Up and Down are the upper and lower sums.
	Up, Down float64
	// UpStart and DownStart are the timestamps, in Unix nanoseconds, at
	// which each sum last rose from zero.
	UpStart, DownStart int64
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
// An alert on the point restarts both sums from zero.
func (s *shiftState) commit(ts, n int64, up, down float64, alerted bool) {
	if s.From == 0 {
		s.From = n
	}
	s.Record = max(s.Record, up, down)
	if alerted {
		s.Up, s.Down = 0, 0
		return
	}
	if s.Up == 0 && up > 0 {
		s.UpStart = ts
	}
	if s.Down == 0 && down > 0 {
		s.DownStart = ts
	}
	s.Up, s.Down = up, down
}

// isRecord reports whether sums up and down of the n-th point beat the
// record. Records count only once the sums have run for warmup points, as
// a young record is easy to beat.
func (s *shiftState) isRecord(up, down float64, n int64, warmup int) bool {
	return s.From > 0 && n-s.From >= int64(warmup) && max(up, down) > s.Record
}

// shiftAnomaly builds the trend anomaly of a shift record at x. It reports
// the moving average against its usual range, as other trend anomalies do.
// Before the trend detector has a moving average, it reports x against the
// baseline.
func (m *Model) shiftAnomaly(ts time.Time, x float64, ev *evaluation, score float64, ctx map[string]string) *Anomaly {
	st := &m.st
	sum, start, upward := st.Shift.excursion(ts.UnixNano(), ev.shiftUp, ev.shiftDown)
	side := "above"
	if !upward {
		side = "below"
	}
	c := candidate{typ: TypeTrend, z: ev.statZ, value: x, expected: st.Baseline.ExpectedRange(m.k)}
	subject := "value"
	if ev.trend {
		sd := st.Trend.Stats.StdDev()
		c.z, c.value = ev.trendZ, ev.trendMA
		c.expected = Range{Lower: st.Trend.Stats.Mean - m.k*sd, Upper: st.Trend.Stats.Mean + m.k*sd}
		subject = "moving average"
	}
	a := m.newShiftAnomaly(ts, start, c, score, ctx)
	a.Message = fmt.Sprintf("%s severity %s on %s: values have stayed %s the baseline since %s longer or further than ever before (cumulative deviation %.1f, previous maximum %.1f standard deviations); %s %s, expected %s to %s",
		a.Severity, a.Type, a.Metric, side, a.Start.Format(time.RFC3339), sum, st.Shift.Record,
		subject, formatValue(c.value), formatValue(c.expected.Lower), formatValue(c.expected.Upper))
	return a
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
	dev := math.Abs(c.z)
	return &Anomaly{
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
	}
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
	long := &st.Volatility.Long
	sd := math.Max(long.StdDev(), spreadFloor(long.Mean))
	c := candidate{typ: TypeTrend, z: ev.volatilityZ, value: st.Volatility.next(x),
		expected: Range{Lower: long.Mean - m.k*sd, Upper: long.Mean + m.k*sd}}
	a := m.newShiftAnomaly(ts, start, c, score, ctx)
	a.Message = fmt.Sprintf("%s severity %s on %s: values have changed from point to point %s than usual since %s longer or further than ever before (cumulative deviation %.1f, previous maximum %.1f standard deviations); mean absolute change %s, expected %s to %s",
		a.Severity, a.Type, a.Metric, side, a.Start.Format(time.RFC3339), sum, st.VolatilityShift.Record,
		formatValue(c.value), formatValue(c.expected.Lower), formatValue(c.expected.Upper))
	return a
}
