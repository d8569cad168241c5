package detect

import "math"

// volatilityHorizon is the horizon, in points, of the short-run mean
// absolute change.
const volatilityHorizon = 20

// volatilityState follows the short-run mean absolute change between
// consecutive points and the long-run distribution of that mean. It flags
// a metric that starts moving much more, or much less, than usual, such as
// denser spikes or a flat line in a noisy metric.
type volatilityState struct {
	Short ewStats
	Long  ewStats
	Prev  float64
	Has   bool
}

func newVolatilityState(baselineWindow int) volatilityState {
	return volatilityState{Short: newEWStats(volatilityHorizon), Long: newEWStats(baselineWindow)}
}

// volatilityWarmup is the number of horizons of short-run means that the
// long-run distribution needs before it is used, at least
// min_baseline_samples points. The spread of the first few, overlapping
// means is too small, and would make ordinary points of a young metric look
// like a change of volatility.
const volatilityWarmup = 3

// Peek returns the z-score of the short-run mean that x would make, and
// whether there is enough history.
func (v *volatilityState) Peek(x float64, minSamples int) (float64, bool) {
	if !v.Has || v.Long.N < int64(max(minSamples, volatilityWarmup*volatilityHorizon)) {
		return 0, false
	}
	return (v.next(x) - v.Long.Mean) / v.spread(), true
}

// spread returns the spread of the short-run mean absolute change, floored
// as the baseline's is.
func (v *volatilityState) spread() float64 {
	return math.Max(v.Long.StdDev(), spreadFloor(v.Long.Mean))
}

// next returns the short-run mean absolute change that x would make.
func (v *volatilityState) next(x float64) float64 {
	alpha := 1 / v.Short.Horizon
	return v.Short.Mean + alpha*(math.Abs(x-v.Prev)-v.Short.Mean)
}

// Update adds x.
func (v *volatilityState) Update(x float64) {
	if v.Has {
		v.Short.Update(math.Abs(x - v.Prev))
		if v.Short.N >= volatilityHorizon {
			v.Long.Update(v.Short.Mean)
		}
	}
	v.Prev, v.Has = x, true
}
