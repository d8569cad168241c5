package detect

import (
	"math"
)

// The calibrated score turns each point's surprisal (−ln of the smallest
// detector tail probability, corrected for the number of detectors) into a
// number that means the same for every metric. The mean surprisal of the
// last scoreRecent points is compared with the metric's own history of that
// mean: its tail probability p is estimated by peaks over threshold, that
// is the empirical tail down to the 98th percentile and an exponential tail
// fitted to the excesses beyond it. The score is −log10(p)/scoreDecades,
// capped at 1: 0.2 means that recent behaviour is as unusual as the top
// 1 in 10 of this metric's history, 0.4 the top 1 in 100, and 1 means 1 in
// 100,000 or rarer.
const (
	// scoreDecades is the tail probability, in powers of ten, of score 1.
	scoreDecades = 5
	// scoreRecent is the number of points in the recent mean surprisal.
	scoreRecent = 8
	// scoreHistory is the horizon, in points, of the history of the recent
	// mean surprisal; older points weigh e^(−age/scoreHistory).
	scoreHistory = 5000
	// tailFraction is the share of the history above the threshold of the
	// peaks-over-threshold tail.
	tailFraction = 0.02
	// minTailExcess floors the mean excess of the exponential tail, in
	// surprisal units, so that a history with identical peaks still grades
	// higher values as rarer.
	minTailExcess = 0.25
	// priorWeight is the number of pseudo-points of the null distribution
	// that the history starts with, so that the first real points are not
	// graded against an almost empty history.
	priorWeight = 200
	// maxSurprisal caps one point's surprisal (a tail probability of about
	// 4e-18), which bounds the histogram.
	maxSurprisal = 40
)

// defaultScoreThreshold is the score threshold at the default sensitivity:
// a recent mean surprisal in the top 2% of the metric's history (p = 0.02).
// It was chosen once, for all series, by sweeping it on the NAB corpus (see
// docs/benchmarks.md).
const defaultScoreThreshold = 0.34

// scoreState calibrates surprisal into the anomaly score.
type scoreState struct {
	Recent [scoreRecent]float64
	// Lead holds, for each point of Recent, 1 plus the detector whose
	// surprisal was the point's (see evaluation.lead), and 0 when no
	// detector ran or the model was decoded from an encoding without it.
	Lead   [scoreRecent]int8
	Pos    int
	Filled int
	Sum    float64
	Hist   tailHistogram
}

func newScoreState() scoreState {
	s := scoreState{Hist: newTailHistogram(scoreHistory, maxSurprisal)}
	s.Hist.addPrior(priorWeight)
	return s
}

// surprisal returns −ln p, capped at maxSurprisal.
func surprisal(p float64) float64 {
	if p <= 0 {
		return maxSurprisal
	}
	return math.Min(-math.Log(p), maxSurprisal)
}

// Calibrate adds a point's surprisal, led by detector lead (-1 for none),
// and returns the point's score. ok is
// false, and the score 0, until scoreRecent points have been added: the
// mean of fewer points spreads wider than the full means of the history,
// so an ordinary point would look rare. Those partial means stay out of
// the history.
func (s *scoreState) Calibrate(surprise float64, lead int) (score float64, ok bool) {
	if s.Filled == len(s.Recent) {
		s.Sum -= s.Recent[s.Pos]
	} else {
		s.Filled++
	}
	s.Recent[s.Pos] = surprise
	s.Lead[s.Pos] = int8(lead + 1)
	s.Sum += surprise
	s.Pos = (s.Pos + 1) % len(s.Recent)

	if s.Filled < len(s.Recent) {
		return 0, false
	}
	recent := s.Sum / float64(s.Filled)
	if s.Hist.Total > 0 {
		score = scoreFromTail(s.Hist.Tail(recent))
	}
	s.Hist.Add(recent)
	return score, true
}

// dominant returns the detector that contributes the most surprisal to
// the recent window, summing each point's surprisal under the detector that
// led it, and false when no point of the window has a known detector.
func (s *scoreState) dominant() (int, bool) {
	var sums [numComponents]float64
	best, found := 0, false
	for i, lead := range s.Lead {
		c := int(lead) - 1
		if c < 0 || c >= numComponents {
			continue
		}
		sums[c] += s.Recent[i]
		if !found || sums[c] > sums[best] {
			best, found = c, true
		}
	}
	return best, found
}

// scoreFromTail maps a tail probability to [0, 1] on a log scale.
func scoreFromTail(p float64) float64 {
	if p <= 0 {
		return 1
	}
	return math.Min(1, math.Max(0, -math.Log10(p)/scoreDecades))
}

// scoreThresholdFor returns the score threshold for a sensitivity:
// defaultScoreThreshold at the default sensitivity 0.7, lower by 0.5 per
// unit of sensitivity above it and higher below it, kept within [0.05, 1].
func scoreThresholdFor(sensitivity float64) float64 {
	return math.Min(1, math.Max(0.05, defaultScoreThreshold+0.5*(DefaultSensitivity-sensitivity)))
}
