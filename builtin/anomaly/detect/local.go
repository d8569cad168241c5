package detect

import "math"

// localHorizon is the horizon, in points, of the local level.
const localHorizon = 30

// localState follows the recent level of a metric with a short
// exponentially weighted mean, and the distribution of each value's
// difference from that level. It catches jumps that are small against the
// long-run spread of a slowly moving metric.
type localState struct {
	Level ewStats
	Resid ewStats
}

func newLocalState(baselineWindow int) localState {
	return localState{Level: newEWStats(localHorizon), Resid: newEWStats(baselineWindow)}
}

// Expected returns the local level and the spread around it, and whether
// there is enough history.
func (l *localState) Expected(minSamples int) (mean, sd float64, ok bool) {
	if l.Resid.N < int64(minSamples) {
		return 0, 0, false
	}
	mean = l.Level.Mean + l.Resid.Mean
	return mean, math.Max(l.Resid.StdDev(), spreadFloor(l.Level.Mean)), true
}

// Update adds x.
func (l *localState) Update(x float64) {
	if l.Level.N > 0 {
		l.Resid.Update(x - l.Level.Mean)
	}
	l.Level.Update(x)
}
