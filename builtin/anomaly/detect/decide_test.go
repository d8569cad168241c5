package detect

import (
	"strings"
	"testing"
)

// flatAfterNoise returns n noisy points of mean 100 and standard deviation
// 5 followed by flat points at 100: every value stays near the baseline's
// centre, but the metric stops moving.
func flatAfterNoise(n, flat int) []float64 {
	values := noisy(7, n, 100, 5)
	for range flat {
		values = append(values, 100)
	}
	return values
}

func TestModelStrongScoreWithoutRangeBreach(t *testing.T) {
	const noise, flat = 1500, 100
	m := newTestModel(t, Config{})
	results := feed(t, m, flatAfterNoise(noise, flat))

	got := anomalyIndices(results)
	if len(got) == 0 {
		t.Fatalf("no anomaly: want one soon after the metric goes flat at %d", noise)
	}
	first := got[0]
	if first < noise || first > noise+30 {
		t.Fatalf("first anomaly at %d (all: %v), want within 30 points after %d", first, got, noise)
	}
	r := results[first]
	if r.Score < strongScore {
		t.Errorf("score %.3f below strongScore %.2f for an alert without a range breach", r.Score, strongScore)
	}
	a := r.Anomaly
	if a.Deviation >= m.k {
		t.Errorf("deviation %.2f, want below k = %.2f for a value at the baseline's centre", a.Deviation, m.k)
	}
	if a.Severity != SeverityLow {
		t.Errorf("severity %s, want low", a.Severity)
	}
	if !strings.Contains(a.Message, "recent behaviour scores") {
		t.Errorf("message %q does not say that the score raised the alert", a.Message)
	}
}
