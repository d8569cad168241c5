package detect

import (
	"testing"
)

// TestModelYoungMetricNoise checks the first scored points of new metrics:
// the mean surprisal of fewer than scoreRecent points must not be graded
// against a history of full means, where a single ordinary point looks rare.
// Each metric gets 30 points of baseline, 8 to fill the recent window and
// 22 decided points.
func TestModelYoungMetricNoise(t *testing.T) {
	const metrics = 400
	alerted, scoredHigh := 0, 0
	for seed := range uint64(metrics) {
		m := newTestModel(t, Config{})
		results := feed(t, m, noisy(1000+seed, 60, 50, 4))
		if len(anomalyIndices(results)) > 0 {
			alerted++
		}
		for _, r := range results {
			if r.Score >= strongScore {
				scoredHigh++
				break
			}
		}
	}
	// NOTE: a mature model of the same noise alerts in about 1% of such
	// stretches of 22 points (4 of 400 after 3,000 points). A young one
	// alerts more often, as its baseline, trend and volatility spreads
	// come from a few dozen points; this bound is about five times the
	// mature rate. Grading the baseline, local, seasonal and trend z-scores
	// with Student's t tails for spreads estimated from n points lowers it
	// to 6 of 400, but the lower surprisals also lighten the score's
	// history, so later points score higher: TestModelSpike then alerts on
	// a 3.2 standard deviation point at index 307.
	if alerted > metrics*6/100 {
		t.Errorf("%d of %d new metrics of Gaussian noise raised an anomaly in their first 60 points, want at most %d", alerted, metrics, metrics*6/100)
	}
	if scoredHigh > metrics/100 {
		t.Errorf("%d of %d new metrics of Gaussian noise scored at least %.2f, want at most %d", scoredHigh, metrics, strongScore, metrics/100)
	}
}

func TestScoreStateFirstPoints(t *testing.T) {
	s := newScoreState()
	prior := s.Hist.Total
	for i := range scoreRecent - 1 {
		if score, ok := s.Calibrate(maxSurprisal, compStatistical); ok || score != 0 {
			t.Errorf("point %d of %d: score %.2f, ok %v, want 0 and false before the recent window is full", i+1, scoreRecent, score, ok)
		}
	}
	if s.Hist.Total != prior {
		t.Errorf("history weight %v after partial windows, want the prior's %v: partial means must stay out of the history", s.Hist.Total, prior)
	}
	// The window is now full of extreme surprisals, which the null prior
	// history ranks at the top.
	if score, ok := s.Calibrate(maxSurprisal, compStatistical); !ok || score < 0.75 {
		t.Errorf("point %d: score %.2f, ok %v, want at least 0.75 and true once the window is full", scoreRecent, score, ok)
	}
}
