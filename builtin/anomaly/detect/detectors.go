package detect

import "math"

// Detectors whose tail probabilities feed the score, as indices of
// evaluation.surprisals.
const (
	compStatistical = iota
	compLocal
	compVolatility
	compSeasonal
	compTrend
	compPattern
	numComponents
)

// evaluation holds the detectors' view of one point before it is added.
type evaluation struct {
	// ts and value are the evaluated point's timestamp, in Unix
	// nanoseconds, and value.
	ts    int64
	value float64
	statZ float64

	local   bool
	localZ  float64
	localMu float64
	localSd float64

	seasonal  bool
	seasonalZ float64
	seasonMu  float64
	seasonSd  float64
	// seasonNearZ is the z-score against the closest of the point's phase
	// and the two beside it (see seasonalState.nearestPhaseZ).
	seasonNearZ float64

	trend   bool
	trendZ  float64
	trendMA float64

	volatilityZ float64

	// shift is set when the shift detector ran; shiftUp and shiftDown are
	// its sums after this point. volShift and its sums are the same for
	// the volatility's z-score.
	shift                    bool
	shiftUp, shiftDown       float64
	volShift                 bool
	volShiftUp, volShiftDown float64

	// surprisals holds −ln of each available detector's tail probability.
	surprisals [numComponents]float64
	has        [numComponents]bool
	// surprise is −ln of the smallest tail probability of the detectors
	// that combine counts, times their number (a Bonferroni correction),
	// capped at maxSurprisal.
	surprise float64
	// lead is the detector with the largest surprisal among those counted
	// in surprise, or -1 when none ran.
	lead int
}

// evaluate runs the detectors on x without changing the model.
func (m *Model) evaluate(ts int64, x float64) evaluation {
	st := &m.st
	ev := evaluation{ts: ts, value: x, statZ: st.Baseline.ZScore(x)}
	ev.setZ(compStatistical, ev.statZ)
	if mu, sd, ok := st.Local.Expected(m.cfg.MinBaselineSamples); ok {
		ev.local, ev.localMu, ev.localSd = true, mu, sd
		ev.localZ = (x - mu) / sd
		ev.setZ(compLocal, ev.localZ)
	}
	if z, ok := st.Volatility.Peek(x, m.cfg.MinBaselineSamples); ok {
		ev.setZ(compVolatility, z)
		ev.volatilityZ = z
	}
	if m.cfg.EnableSeasonal {
		if mu, sd, ok := st.Seasonal.Expected(ts, st.N); ok {
			ev.seasonal, ev.seasonMu, ev.seasonSd = true, mu, sd
			ev.seasonalZ = (x - mu) / sd
			ev.seasonNearZ = st.Seasonal.nearestPhaseZ(ts, st.N, x)
			ev.setZ(compSeasonal, ev.seasonalZ)
		}
	}
	if *m.cfg.EnableTrend {
		if ma, z, ok := st.Trend.Peek(&st.Points, x); ok {
			ev.trend, ev.trendMA, ev.trendZ = true, ma, z
			ev.setZ(compTrend, z)
		}
		ev.shift = true
		ev.shiftUp, ev.shiftDown = st.Shift.next(ev.statZ)
		if ev.has[compVolatility] {
			ev.volShift = true
			ev.volShiftUp, ev.volShiftDown = st.VolatilityShift.next(ev.volatilityZ)
		}
	}
	if *m.cfg.EnablePattern && st.Pattern.Counts != nil {
		if z, ok := st.Pattern.Peek(x, st.Baseline); ok {
			ev.has[compPattern] = true
			ev.surprisals[compPattern] = surprisal(upperTail(z))
		}
	}
	ev.combine()
	return ev
}

// setZ records the two-sided tail probability of a z-score for detector c.
func (ev *evaluation) setZ(c int, z float64) {
	ev.has[c] = true
	ev.surprisals[c] = surprisal(twoSidedTail(z))
}

// combine sets surprise from the detectors' surprisals. When the point's
// seasonal phase has a baseline, it leaves out the baseline z-score and the
// pattern detector, which measure the value against the season-blind
// baseline and so count the season's own swing as deviation. The seasonal
// z-score measures the same level against the expectation of the point's
// phase.
func (ev *evaluation) combine() {
	maxS, tests := 0.0, 0
	ev.lead = -1
	for c := range numComponents {
		if ev.seasonal && (c == compStatistical || c == compPattern) {
			continue
		}
		if ev.has[c] {
			if ev.lead < 0 || ev.surprisals[c] > maxS {
				maxS, ev.lead = ev.surprisals[c], c
			}
			tests++
		}
	}
	ev.surprise = surprisal(math.Min(1, math.Exp(-maxS)*float64(tests)))
}
