package detect

import (
	"strings"
	"testing"
	"time"
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
	// With the trend detector on, the volatility's shift detector reports
	// this calm first (see TestModelVolatilityShiftRecord).
	m := newTestModel(t, Config{EnableTrend: new(false)})
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

func TestAlertRateRaisesScoreThreshold(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(8, 200, 100, 5))
	ts, x := t0.Add(200*time.Minute), 200.0 // 20 standard deviations
	ev := m.evaluate(ts.UnixNano(), x)

	tests := []struct {
		name   string
		alerts float64
		score  float64
		want   bool
	}{
		{"no earlier alert", 0, 0.40, true},
		{"three earlier alerts", 3, 0.40, false},
		{"three earlier alerts, higher score", 3, 0.45, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.st.Cooldown = 0
			m.st.ScoreAlerts = tt.alerts
			got, _ := m.decide(ts, x, &ev, tt.score, nil)
			if got != tt.want {
				t.Fatalf("score %.2f after %v score alerts (threshold %.2f): anomaly %v, want %v",
					tt.score, tt.alerts, m.scoreThreshold+alertRateStep*tt.alerts, got, tt.want)
			}
			if got && m.st.ScoreAlerts != tt.alerts+1 {
				t.Errorf("score alerts %v after the alert, want %v", m.st.ScoreAlerts, tt.alerts+1)
			}
		})
	}
}
