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
	// The value is at the baseline's centre; what is unusual is that the
	// metric stopped moving, which the volatility detector measures. The
	// anomaly must say so, not call the value an outlier.
	if z := m.st.Baseline.ZScore(a.Value); z <= -m.k || z >= m.k {
		t.Errorf("value %v is %.2f standard deviations from the baseline, want within k = %.2f", a.Value, z, m.k)
	}
	if a.Type != TypeTrend {
		t.Errorf("type %s, want %s: the calm is a change of volatility", a.Type, TypeTrend)
	}
	// The score decided, so the anomaly reports it against its range.
	if a.Statistic != StatisticRecentScore || a.StatisticValue == nil || *a.StatisticValue != r.Score {
		t.Errorf("statistic %q = %v, want %s = %v", a.Statistic, a.StatisticValue, StatisticRecentScore, r.Score)
	}
	if a.Expected.Lower != 0 || a.Expected.Upper != max(strongScore, m.scoreThreshold) {
		t.Errorf("expected range %v, want 0 to the strong score level", a.Expected)
	}
	if a.Severity != SeverityLow {
		t.Errorf("severity %s, want low", a.Severity)
	}
	for _, want := range []string{"the last 8 points are unusual together", "how much they change from point to point", "below its usual level"} {
		if !strings.Contains(a.Message, want) {
			t.Errorf("message %q does not say %q", a.Message, want)
		}
	}
	if strings.Contains(a.Message, "standard deviations above its baseline") || strings.Contains(a.Message, "standard deviations below its baseline") {
		t.Errorf("message %q measures the value against the baseline, which did not raise the alert", a.Message)
	}
}

func TestAlertRateRaisesScoreThreshold(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(8, 200, 100, 5))
	// 6 standard deviations: outside the range, and not a spike, which
	// would be an anomaly whatever the score.
	ts, x := t0.Add(200*time.Minute), 130.0
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

// TestModelNoiseAlertsTruthful runs 20 seeded series of 3000 points of
// Gaussian noise, N(100, 5), through the default model. Every anomaly must
// say why it was raised: one raised by the score of the last points while
// the value is within range is named after the detector that led that
// window and says that the window, not the value, is unusual. The number
// of alerts is bounded by what the rule raises today (38 in the 20
// series: shift records, score alerts, novelties and young-metric
// outliers; see docs/benchmarks.md).
func TestModelNoiseAlertsTruthful(t *testing.T) {
	const series, points = 20, 3000
	const maxTotal, maxPerSeries = 38, 4
	wantType := map[int]Type{
		compStatistical: TypeStatistical, compLocal: TypeStatistical, compPattern: TypeStatistical,
		compVolatility: TypeTrend, compTrend: TypeTrend, compSeasonal: TypeSeasonal,
	}
	total, recent := 0, 0
	for seed := uint64(1); seed <= series; seed++ {
		m := newTestModel(t, Config{})
		alerts := 0
		for i, x := range noisy(seed, points, 100, 5) {
			r := m.Observe(t0.Add(time.Duration(i)*time.Minute), x, nil)
			if !r.IsAnomaly {
				continue
			}
			alerts++
			a := r.Anomaly
			if strings.Contains(a.Message, "points are unusual together") {
				recent++
				lead, ok := m.st.Score.dominant()
				if !ok || a.Type != wantType[lead] {
					t.Errorf("seed %d point %d: type %s for a window led by detector %d: %s", seed, i, a.Type, lead, a.Message)
				}
				if a.Deviation < m.k && !strings.Contains(a.Message, "this point is within its expected range") {
					t.Errorf("seed %d point %d: deviation %.2f below k, but the message does not say the point is within range: %s", seed, i, a.Deviation, a.Message)
				}
				continue
			}
			if strings.Contains(a.Message, "longer or further than ever before") || strings.Contains(a.Message, "value seen before") {
				continue // a shift record or a novelty, which say so
			}
			if a.Deviation < m.k {
				t.Errorf("seed %d point %d: %s at %.2f standard deviations, below k = %.2f, without saying what raised it: %s",
					seed, i, a.Type, a.Deviation, m.k, a.Message)
			}
		}
		if alerts > maxPerSeries {
			t.Errorf("seed %d: %d anomalies in %d points of Gaussian noise, want at most %d", seed, alerts, points, maxPerSeries)
		}
		total += alerts
	}
	if total > maxTotal {
		t.Errorf("%d anomalies in %d series of %d points of Gaussian noise, want at most %d", total, series, points, maxTotal)
	}
	if recent == 0 {
		t.Error("no anomaly raised by the score of the recent window: the test no longer covers it")
	}
}

// TestScoreOnlyTrendMarksLevelSide checks that a trend anomaly raised by
// the score alone, which reports its score as its statistic, marks the
// side of its moving average as reported, not the side of the score.
func TestScoreOnlyTrendMarksLevelSide(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(8, 200, 100, 5))
	center := m.st.Baseline.Center
	c := candidate{typ: TypeTrend, z: 2, value: center + 8, recent: true, lead: compTrend,
		statistic: StatisticMovingAverage, statisticValue: center + 12}
	a := m.newAnomaly(t0.Add(200*time.Minute), c, 0.8, nil)
	if a.Statistic != StatisticRecentScore {
		t.Fatalf("statistic %q, want %s", a.Statistic, StatisticRecentScore)
	}
	m.raise(a)
	if m.st.Trend.LevelSide != 1 {
		t.Errorf("level side %d after a trend above the baseline, want 1", m.st.Trend.LevelSide)
	}
}
