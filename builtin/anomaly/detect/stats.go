package detect

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ewStats is an exponentially weighted mean and variance with horizon h:
// each update weighs the new value by max(1/n, 1/h), so the first h values
// form a plain running mean and variance and later ones decay. Update is
// O(1).
type ewStats struct {
	N    int64
	Mean float64
	Var  float64
	// Horizon is h, in points.
	Horizon float64
}

func newEWStats(horizon int) ewStats {
	return ewStats{Horizon: float64(horizon)}
}

// Update adds x (West's weighted incremental algorithm).
func (s *ewStats) Update(x float64) {
	s.N++
	alpha := 1 / float64(s.N)
	if s.Horizon > 0 && alpha < 1/s.Horizon {
		alpha = 1 / s.Horizon
	}
	d := x - s.Mean
	s.Mean += alpha * d
	s.Var = (1 - alpha) * (s.Var + alpha*d*d)
}

// StdDev returns the standard deviation.
func (s *ewStats) StdDev() float64 {
	return math.Sqrt(s.Var)
}

// quantileTracker follows a quantile of a stream by stochastic
// approximation (the "frugal" estimator): each value moves the estimate a
// step towards it, with the step sized from the current spread. Update is
// O(1) and keeps no values.
type quantileTracker struct {
	// Q is the tracked quantile in (0, 1).
	Q float64
	// Value is the estimate.
	Value float64
	// Rate is the step as a fraction of Scale.
	Rate float64
}

// Update moves the estimate towards x by Rate·scale, asymmetrically for
// quantiles other than the median.
func (t *quantileTracker) Update(x, scale float64) {
	step := t.Rate * scale
	if x > t.Value {
		t.Value += step * t.Q * 2
		if t.Value > x {
			t.Value = x
		}
	} else if x < t.Value {
		t.Value -= step * (1 - t.Q) * 2
		if t.Value < x {
			t.Value = x
		}
	}
}

// madToStdDev converts a median absolute deviation to the standard
// deviation of a normal distribution with that MAD.
const madToStdDev = 1.4826

// twoSidedTail returns P(|Z| >= |z|) for a standard normal Z.
func twoSidedTail(z float64) float64 {
	return 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// upperTail returns P(Z >= z) for a standard normal Z.
func upperTail(z float64) float64 {
	return distuv.UnitNormal.Survival(z)
}

// spreadFloor returns the smallest standard deviation used to divide by, so
// that a constant series still has a finite z-score for a different value:
// 1e-9 of the mean's magnitude, or 1e-12.
func spreadFloor(mean float64) float64 {
	return math.Max(1e-9*math.Abs(mean), 1e-12)
}
