package detect

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestModelSpike(t *testing.T) {
	values := noisy(1, 600, 100, 5)
	values[400] = 200 // 20 standard deviations
	m := newTestModel(t, Config{})
	results := feed(t, m, values)

	got := anomalyIndices(results)
	if !slices.Equal(got, []int{400}) {
		t.Fatalf("anomalies at %v, want [400]", got)
	}
	a := results[400].Anomaly
	if a.Type != TypeStatistical {
		t.Errorf("type = %s, want %s", a.Type, TypeStatistical)
	}
	if a.Severity != SeverityCritical {
		t.Errorf("severity = %s, want critical for a 20 sigma spike", a.Severity)
	}
	if a.Value != 200 || !a.Timestamp.Equal(t0.Add(400*time.Minute)) {
		t.Errorf("anomaly value %v at %v, want 200 at %v", a.Value, a.Timestamp, t0.Add(400*time.Minute))
	}
	if a.Value >= a.Expected.Lower && a.Value <= a.Expected.Upper {
		t.Errorf("value %v lies inside the reported expected range %+v", a.Value, a.Expected)
	}
	if results[400].Score < m.scoreThreshold {
		t.Errorf("spike score %v below the threshold %v", results[400].Score, m.scoreThreshold)
	}
	if a.Message == "" || a.ID == "" || a.Metric != "response_time" {
		t.Errorf("anomaly missing id, metric or message: %+v", a)
	}
}

func TestModelLevelShiftReportedOnce(t *testing.T) {
	values := append(noisy(2, 500, 50, 2), noisy(3, 300, 70, 2)...)
	m := newTestModel(t, Config{CooldownPoints: -1})
	results := feed(t, m, values)

	var trends []int
	for i, r := range results {
		if r.IsAnomaly && r.Anomaly.Type == TypeTrend {
			trends = append(trends, i)
		}
	}
	first := anomalyIndices(results)
	if len(first) == 0 || first[0] < 500 || first[0] > 505 {
		t.Fatalf("first anomaly at %v, want within 5 points of the shift at 500", first)
	}
	if len(trends) > 1 {
		t.Errorf("trend anomaly reported at %v, want at most once per shift", trends)
	}
	for _, i := range trends {
		start := results[i].Anomaly.Start
		if start.Before(t0.Add(495*time.Minute)) || start.After(t0.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("trend start %v, want near the shift at %v", start, t0.Add(500*time.Minute))
		}
	}
}

func TestModelDrift(t *testing.T) {
	values := noisy(4, 900, 30, 1)
	for i := 400; i < len(values); i++ {
		values[i] += 0.1 * float64(i-400) // one standard deviation every 10 points
	}
	m := newTestModel(t, Config{})
	results := feed(t, m, values)

	got := anomalyIndices(results)
	if len(got) == 0 {
		t.Fatal("no anomaly for a drift of 50 standard deviations")
	}
	if got[0] < 400 || got[0] > 480 {
		t.Errorf("first anomaly at %d, want soon after the drift starts at 400", got[0])
	}
	for _, i := range got {
		if i < 400 {
			t.Errorf("anomaly at %d before the drift", i)
		}
	}
}

// dailyValue is an hourly metric that peaks at 80 from 12:00 to 14:59 and
// rests at 20 otherwise.
func dailyValue(hour int) float64 {
	if h := hour % 24; h >= 12 && h < 15 {
		return 80
	}
	return 20
}

func TestModelSeasonalPeakAtWrongPhase(t *testing.T) {
	cfg := Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Duration: 24 * time.Hour}, SeasonalPhases: 24}
	m := newTestModel(t, cfg)
	noise := noisy(5, 24*30, 0, 1)
	var anomalies []int
	for i := range noise {
		v := dailyValue(i) + noise[i]
		if i == 24*25+3 { // 03:00 on day 25
			v = 80
		}
		res := m.Observe(t0.Add(time.Duration(i)*time.Hour), v, nil)
		if res.IsAnomaly && i >= 24*10 {
			anomalies = append(anomalies, i)
			if res.Anomaly.Type != TypeSeasonal {
				t.Errorf("anomaly at hour %d has type %s, want %s", i, res.Anomaly.Type, TypeSeasonal)
			}
		}
	}
	if !slices.Equal(anomalies, []int{24*25 + 3}) {
		t.Fatalf("anomalies at hours %v after the warm-up, want only the night peak at %d", anomalies, 24*25+3)
	}
}

func TestModelFlatSeries(t *testing.T) {
	values := make([]float64, 500)
	for i := range values {
		values[i] = 42
	}
	m := newTestModel(t, Config{})
	results := feed(t, m, values)
	if got := anomalyIndices(results); len(got) != 0 {
		t.Fatalf("anomalies at %v in a constant series", got)
	}
	for i, r := range results {
		if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			t.Fatalf("score %v at %d, want a number in [0, 1]", r.Score, i)
		}
	}

	res := m.Observe(t0.Add(500*time.Minute), 43, nil)
	if !res.IsAnomaly {
		t.Fatal("a different value after a constant series is not an anomaly")
	}
	a := res.Anomaly
	if a.Severity != SeverityCritical {
		t.Errorf("severity %s, want critical for any change of a zero-variance metric", a.Severity)
	}
	if a.Deviation != MaxDeviation {
		t.Errorf("deviation %v, want the cap %d for a change of a constant metric", a.Deviation, MaxDeviation)
	}
	if a.Expected.Lower > 42 || a.Expected.Upper < 42 || a.Expected.Upper-a.Expected.Lower > 1e-3 {
		t.Errorf("expected range %v to %v, want a narrow range around the constant 42", a.Expected.Lower, a.Expected.Upper)
	}
	if !strings.Contains(a.Message, "differs from 42") || !strings.Contains(a.Message, "had been constant") {
		t.Errorf("message %q, want the constant value and no count of standard deviations", a.Message)
	}
}

func TestModelNoAnomalyInNoise(t *testing.T) {
	m := newTestModel(t, Config{})
	results := feed(t, m, noisy(6, 3000, 10, 3))
	// The score threshold passes the top 2% of recent behaviour. The range
	// test and the cooldown remove most of those, so a few alerts in 3000
	// points are expected, and many would mean a badly calibrated score.
	if got := anomalyIndices(results); len(got) > 6 {
		t.Errorf("%d anomalies in 3000 points of Gaussian noise: %v", len(got), got)
	}
}

func TestModelCooldown(t *testing.T) {
	// The last spike comes long after the first two, so that spikes are
	// still rare in the score history when it arrives.
	values := noisy(7, 2200, 100, 5)
	values[300], values[310], values[2000] = 200, 200, 200
	m := newTestModel(t, Config{CooldownPoints: 100})
	got := anomalyIndices(feed(t, m, values))
	if !slices.Equal(got, []int{300, 2000}) {
		t.Fatalf("anomalies at %v, want [300 2000]: the spike at 310 falls in the cooldown", got)
	}
}

func TestModelMinBaselineSamples(t *testing.T) {
	m := newTestModel(t, Config{MinBaselineSamples: 50})
	results := feed(t, m, append(noisy(8, 49, 0, 1), 1000))
	if results[49].IsAnomaly || results[49].Score != 0 {
		t.Errorf("point 50 flagged (score %v) before min_baseline_samples", results[49].Score)
	}
	if _, err := m.UpdateBaseline(); err != nil {
		t.Errorf("UpdateBaseline after 50 points: %v", err)
	}
}

func TestUpdateBaselineTooFewSamples(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(9, 10, 0, 1))
	_, err := m.UpdateBaseline()
	if !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("UpdateBaseline error = %v, want ErrTooFewSamples", err)
	}
	if want := "has 10 points, needs at least 30"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestRobustBaseline(t *testing.T) {
	values := noisy(10, 400, 10, 1)
	for i := 0; i < len(values); i += 10 {
		values[i] = 500 // heavy tail: one point in ten
	}
	m := newTestModel(t, Config{Robust: true})
	feed(t, m, values)
	b := m.Baseline()
	if math.Abs(b.Center-10) > 0.5 {
		t.Errorf("robust center %v, want about 10 (the median)", b.Center)
	}
	if b.Scale > 3 {
		t.Errorf("robust scale %v, want about 1.5 (1.4826 MAD), not inflated by the outliers", b.Scale)
	}
	plain := newTestModel(t, Config{})
	feed(t, plain, values)
	if plain.Baseline().Scale < 50 {
		t.Errorf("plain scale %v, want inflated by the outliers", plain.Baseline().Scale)
	}
}

func TestCheckOrder(t *testing.T) {
	m := newTestModel(t, Config{})
	m.Observe(t0, 1, nil)
	if err := m.CheckOrder(t0.Add(-time.Second)); err == nil {
		t.Error("CheckOrder accepted a point earlier than the newest")
	}
	if err := m.CheckOrder(t0); err != nil {
		t.Errorf("CheckOrder rejected an equal timestamp: %v", err)
	}
}

func TestAnomalyIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := NewID()
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestContextCopied(t *testing.T) {
	values := noisy(11, 300, 0, 1)
	m := newTestModel(t, Config{})
	feed(t, m, values)
	ctx := map[string]string{"experiment": "latency-injection"}
	res := m.Observe(t0.Add(300*time.Minute), 50, ctx)
	if !res.IsAnomaly {
		t.Fatal("no anomaly for a 50 sigma value")
	}
	ctx["experiment"] = "changed"
	if got := res.Anomaly.Context["experiment"]; got != "latency-injection" {
		t.Errorf("context = %q, want the caller's value at the time of the call", got)
	}
}

// TestModelOutlierWhileScoreFills checks that an extreme outlier right after
// the baseline is ready is flagged, although the score's recent window is
// still filling, and that it does not widen the baseline.
func TestModelOutlierWhileScoreFills(t *testing.T) {
	for _, at := range []int{30, 31, 35} {
		values := noisy(11, 200, 100, 5)
		values[at] = 300 // 40 standard deviations
		m := newTestModel(t, Config{})
		results := feed(t, m, values)
		if got := anomalyIndices(results); !slices.Equal(got, []int{at}) {
			t.Errorf("spike at %d: anomalies at %v, want [%d]", at, got, at)
		}
		if scale := m.Baseline().Scale; scale > 7 {
			t.Errorf("spike at %d: baseline scale %.1f after it, want near the noise's 5", at, scale)
		}
	}
}

// TestModelShiftAndDriftReportedAsTrend checks that a level shift and a
// drift each raise one trend anomaly that starts near their onset.
func TestModelShiftAndDriftReportedAsTrend(t *testing.T) {
	shift := noisy(12, 800, 100, 5)
	for i := 400; i < 600; i++ {
		shift[i] += 30 // 6 standard deviations
	}
	drift := noisy(13, 900, 100, 5)
	for i := 300; i < len(drift); i++ {
		drift[i] += 0.1 * float64(min(i-300, 300))
	}
	tests := []struct {
		name          string
		values        []float64
		onset, within int
	}{
		{"shift", shift, 400, 5},
		{"drift", drift, 300, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := feed(t, newTestModel(t, Config{}), tt.values)
			var trends []int
			for _, i := range anomalyIndices(results) {
				if results[i].Anomaly.Type == TypeTrend {
					trends = append(trends, i)
				}
			}
			if len(trends) != 1 {
				t.Fatalf("trend anomalies at %v, want exactly one", trends)
			}
			start := results[trends[0]].Anomaly.Start
			onset := t0.Add(time.Duration(tt.onset) * time.Minute)
			if d := start.Sub(onset); d < -5*time.Minute || d > time.Duration(tt.within)*time.Minute {
				t.Errorf("trend start %v, want within %d points after the onset %v", start, tt.within, onset)
			}
		})
	}
}

// TestModelBurstInCooldownNotTrend checks that a two-point burst, whose
// first point raises an outlier alert, is not reported again as a trend
// while that alert cools down: the points after the alert do not hold the
// shift for a whole moving-average window.
func TestModelBurstInCooldownNotTrend(t *testing.T) {
	values := noisy(14, 800, 100, 5)
	values[500], values[501] = 200, 200 // 20 standard deviations, two points
	results := feed(t, newTestModel(t, Config{}), values)

	var got []int
	for _, i := range anomalyIndices(results) {
		if i >= 300 { // after the warm-up of the score and the trend detector
			got = append(got, i)
		}
	}
	if !slices.Equal(got, []int{500}) {
		t.Fatalf("anomalies at %v after point 300, want only the burst's first point [500]", got)
	}
	if typ := results[500].Anomaly.Type; typ != TypeStatistical {
		t.Errorf("type = %s, want %s", typ, TypeStatistical)
	}
}
