package detect

import "math"

// Pattern detector parameters.
const (
	// patternLength is the number of consecutive points in a pattern.
	patternLength = 4
	// patternSlots is the size of the pattern count table. Patterns share a
	// slot when their hashes collide, which only makes them look more common.
	patternSlots = 4096
	// patternHorizon is the horizon, in points, of the pattern counts.
	patternHorizon = 5000
	// patternMinWeight is the decayed count of patterns, in units of the
	// newest pattern's weight, needed before the detector reports.
	patternMinWeight = 50
	// patternLevelLimit bounds the quantised level of a value, in standard
	// deviations from the baseline.
	patternLevelLimit = 60
)

// patternState counts how often each short pattern of values has occurred,
// with values quantised to whole standard deviations from the baseline. A
// pattern never or rarely seen before is surprising even when each of its
// values is in range, which catches changes of shape. The counts decay like
// tailHistogram's, and the table has a fixed size.
type patternState struct {
	Counts []float32
	Total  float64
	Weight float64
	Decay  float64
	// Levels holds the quantised levels of the last patternLength-1 points,
	// as a ring starting at Pos.
	Levels [patternLength - 1]int8
	Pos    int
	Filled int
	// Surprisal is the distribution of the patterns' surprisals, against
	// which a new pattern's surprisal is graded.
	Surprisal ewStats
}

func newPatternState() patternState {
	return patternState{
		Counts:    make([]float32, patternSlots),
		Weight:    1,
		Decay:     1 + 1.0/patternHorizon,
		Surprisal: newEWStats(patternHorizon),
	}
}

func patternLevel(x float64, b Baseline) int8 {
	z := math.Floor((x - b.Center) / b.scale())
	return int8(math.Max(-patternLevelLimit, math.Min(patternLevelLimit, z)))
}

// slot returns the table slot of the pattern that the held levels and
// newest make, with an FNV-1a hash.
func (p *patternState) slot(newest int8) int {
	h := uint64(14695981039346656037)
	for i := range p.Levels {
		h = (h ^ uint64(uint8(p.Levels[(p.Pos+i)%len(p.Levels)]))) * 1099511628211
	}
	h = (h ^ uint64(uint8(newest))) * 1099511628211
	return int(h % patternSlots)
}

// surprisal returns −ln of the smoothed relative frequency of the pattern
// that the held levels and level make.
func (p *patternState) surprisal(level int8) float64 {
	count := float64(p.Counts[p.slot(level)])
	return -math.Log((count + 0.5*p.Weight) / (p.Total + p.Weight))
}

// Peek returns the z-score of the surprisal of the pattern that x would
// complete against the usual surprisal of patterns: high when the pattern
// is much rarer than patterns of this metric usually are.
func (p *patternState) Peek(x float64, b Baseline) (float64, bool) {
	if p.Filled < len(p.Levels) || p.Total < patternMinWeight {
		return 0, false
	}
	s := p.surprisal(patternLevel(x, b))
	sd := math.Max(p.Surprisal.StdDev(), 0.1)
	return (s - p.Surprisal.Mean) / sd, true
}

// Update adds x once the baseline is ready.
func (p *patternState) Update(x float64, b Baseline) {
	if !b.Ready() {
		return
	}
	level := patternLevel(x, b)
	if p.Filled >= len(p.Levels) {
		if p.Total > 0 {
			p.Surprisal.Update(p.surprisal(level))
		}
		p.Counts[p.slot(level)] += float32(p.Weight)
		p.Total += p.Weight
		p.Weight *= p.Decay
		if p.Weight > 1e30 {
			p.renormalise()
		}
	} else {
		p.Filled++
	}
	p.Levels[p.Pos] = level
	p.Pos = (p.Pos + 1) % len(p.Levels)
}

func (p *patternState) renormalise() {
	for j := range p.Counts {
		p.Counts[j] = float32(float64(p.Counts[j]) / p.Weight)
	}
	p.Total /= p.Weight
	p.Weight = 1
}
