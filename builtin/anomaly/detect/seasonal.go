package detect

import (
	"math"
)

// seasonalState keeps a baseline per phase of the season: an exponentially
// weighted mean per phase and one residual spread shared by all phases,
// which is steadier than a spread per phase learnt from a few cycles.
type seasonalState struct {
	// Period is the season in points; PeriodNanos the season as a duration.
	// At most one is set; both are zero while an automatic period is unknown.
	Period      int
	PeriodNanos int64
	// Phases is the number of phases; Means and Counts have this length.
	Phases int
	Means  []float64
	Counts []int32
	// Residual is the distribution of value minus its phase mean.
	Residual ewStats
	// Auto is set when the period is detected from the data; NextSearch is
	// the point count at which the next detection runs.
	Auto       bool
	NextSearch int64
	// FirstN is the point count at which the current period took effect;
	// point phases count from it.
	FirstN int64
	// PrevTime is the timestamp of the newest point, in Unix nanoseconds,
	// and Step the mean time between points, in nanoseconds.
	PrevTime int64
	Step     float64
	// RecordZ is the largest |z| of a point against the closest of its
	// phase and the two beside it, over the points scored since the
	// current period took effect (see nearestPhaseZ).
	RecordZ float64
}

// stepHorizon is the horizon, in points, of the mean time between points.
const stepHorizon = 100

// seasonalClip bounds, in spreads of the residual, how far one point can
// pull the mean of its phase.
const seasonalClip = 3

// seasonalCycleHorizon is the horizon, in cycles, of each phase's mean. A
// phase that gets several points per cycle (a duration period) weighs each
// by the share of its cycle.
const seasonalCycleHorizon = 6

// minPhaseSamples is the number of cycles a phase needs before it is used.
const minPhaseSamples = 2

func newSeasonalState(cfg Config) seasonalState {
	s := seasonalState{Residual: newEWStats(cfg.BaselineWindow)}
	p := cfg.SeasonalPeriod
	switch {
	case p.Auto:
		s.Auto = true
		s.NextSearch = int64(cfg.RetentionPoints)
	case p.Duration > 0:
		s.PeriodNanos = int64(p.Duration)
		s.setPhases(cfg.SeasonalPhases)
	case p.Points > 0:
		s.Period = p.Points
		s.setPhases(p.Points)
	}
	return s
}

func (s *seasonalState) setPhases(n int) {
	s.Phases = n
	s.Means = make([]float64, n)
	s.Counts = make([]int32, n)
}

// known reports whether a period is set.
func (s *seasonalState) known() bool {
	return s.Phases > 0
}

// phase returns the phase of the point at ts that is the n-th of the metric.
func (s *seasonalState) phase(ts, n int64) int {
	if s.PeriodNanos > 0 {
		off := ts % s.PeriodNanos
		if off < 0 {
			off += s.PeriodNanos
		}
		return int(off * int64(s.Phases) / s.PeriodNanos)
	}
	// Points retained from before the period took effect have n < FirstN.
	ph := (n - s.FirstN) % int64(s.Period)
	if ph < 0 {
		ph += int64(s.Period)
	}
	return int(ph)
}

// Expected returns the mean and spread of the phase of a point at ts that
// would be the (n+1)-th, and whether the phase has enough history.
func (s *seasonalState) Expected(ts, n int64) (mean, sd float64, ok bool) {
	if !s.known() || s.Residual.N < int64(s.Phases) {
		return 0, 0, false
	}
	ph := s.phase(ts, n)
	if s.Counts[ph] < minPhaseSamples {
		return 0, 0, false
	}
	mean = s.Means[ph]
	sd = math.Max(s.Residual.StdDev(), spreadFloor(mean))
	return mean, sd, true
}

// Update adds x, the n-th point at ts, and runs the automatic period
// detection when it is due.
func (s *seasonalState) Update(ts int64, x float64, n int64, points *ring, cfg Config) {
	if s.Auto && n >= s.NextSearch && s.search(points, n, cfg) {
		return // the search seeded the phases from points, x included
	}
	if !s.known() {
		return
	}
	s.trackStep(ts)
	ph := s.phase(ts, n-1)
	resid := x - s.Means[ph]
	// An outlier moves its phase's mean as if it were seasonalClip spreads
	// from it, so that one spike cannot shift the range of its phase for
	// the next cycles. The residual spread takes the full residual, as
	// clipping it would shrink the spread of every phase.
	step := resid
	if _, sd, ok := s.Expected(ts, n-1); ok {
		step = max(-seasonalClip*sd, min(seasonalClip*sd, resid))
	}
	if s.Counts[ph] > 0 {
		s.Residual.Update(resid)
	}
	s.Counts[ph]++
	alpha := math.Max(1/float64(s.Counts[ph]), 1/(seasonalCycleHorizon*s.pointsPerCycle()))
	s.Means[ph] += alpha * step
}

// trackStep follows the mean time between points, from which a duration
// period's points per phase and cycle are estimated.
func (s *seasonalState) trackStep(ts int64) {
	if s.PrevTime != 0 && ts > s.PrevTime {
		gap := float64(ts - s.PrevTime)
		if s.Step == 0 {
			s.Step = gap
		} else {
			s.Step += (gap - s.Step) / stepHorizon
		}
	}
	s.PrevTime = ts
}

// pointsPerCycle returns the number of points that a phase gets in one
// cycle: 1 for a period in points, and for a duration period the phase's
// length over the mean time between points.
func (s *seasonalState) pointsPerCycle() float64 {
	if s.PeriodNanos == 0 || s.Step <= 0 {
		return 1
	}
	return max(1, float64(s.PeriodNanos)/(float64(s.Phases)*s.Step))
}

// search detects the period from the retained points and, when it finds
// one different from the current period, starts the phases afresh from the
// retained points and returns true.
func (s *seasonalState) search(points *ring, n int64, cfg Config) bool {
	s.NextSearch = n + 4*int64(cfg.RetentionPoints)
	values := points.CopyValues(make([]float64, 0, points.Len))
	period := DetectPeriod(values)
	if period == 0 || period == s.Period {
		return false
	}
	s.Period = period
	s.FirstN = n
	s.setPhases(period)
	s.Residual = newEWStats(cfg.BaselineWindow)
	s.RecordZ = 0
	// Seed the phase means from the retained cycles so that detection need
	// not wait for minPhaseSamples new cycles.
	for i, v := range values {
		ph := ((i-len(values))%period + period) % period
		s.Counts[ph]++
		s.Means[ph] += (v - s.Means[ph]) / float64(s.Counts[ph])
	}
	return true
}

// nearestPhaseZ returns the z-score of x against whichever of the phase of
// a point at ts that would be the (n+1)-th and the two phases beside it
// has the mean closest to x, with the spread of Expected. Phases without
// enough history are skipped. A value that matches a neighbouring phase is
// what a cycle that runs one phase early or late gives, which a sharp
// pattern, such as a burst at the same minute of every hour, does often.
func (s *seasonalState) nearestPhaseZ(ts, n int64, x float64) float64 {
	_, sd, ok := s.Expected(ts, n)
	if !ok {
		return 0
	}
	ph := s.phase(ts, n)
	best := math.Inf(1)
	for _, d := range [...]int{-1, 0, 1} {
		p := (ph + d + s.Phases) % s.Phases
		if s.Counts[p] < minPhaseSamples {
			continue
		}
		if z := (x - s.Means[p]) / sd; math.Abs(z) < math.Abs(best) {
			best = z
		}
	}
	return best
}
