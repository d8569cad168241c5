package detect

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestDetectWindowRelativeToNewest(t *testing.T) {
	values := noisy(30, 500, 50, 1)
	values[450] = 80
	values[100] = 80 // outside a 60-minute look-back from the newest point
	m := newTestModel(t, Config{})
	feed(t, m, values)

	r, err := m.DetectWindow(60*time.Minute, map[string]string{"run": "7"})
	if err != nil {
		t.Fatalf("DetectWindow: %v", err)
	}
	if !r.To.Equal(t0.Add(499 * time.Minute)) {
		t.Errorf("window ends %v, want the newest point %v", r.To, t0.Add(499*time.Minute))
	}
	if r.Points != 61 {
		t.Errorf("points = %d, want 61 (both ends included)", r.Points)
	}
	// Besides the spike, a noise point or two may lie just beyond k.
	var spike *Anomaly
	for i, a := range r.Anomalies {
		if a.Timestamp.Before(r.From) {
			t.Errorf("anomaly at %v is older than the window's start %v", a.Timestamp, r.From)
		}
		if a.Value == 80 {
			spike = &r.Anomalies[i]
		} else if a.Deviation > 4 {
			t.Errorf("anomaly at %v with deviation %.2f, want only the spike beyond 4 standard deviations", a.Timestamp, a.Deviation)
		}
	}
	if spike == nil || !spike.Timestamp.Equal(t0.Add(450*time.Minute)) {
		t.Fatalf("anomalies %+v, want the spike at point 450", r.Anomalies)
	}
	if spike.Context["run"] != "7" {
		t.Errorf("context %v not copied", spike.Context)
	}
	if r.Max != 80 || math.Abs(r.Mean-50.5) > 1 {
		t.Errorf("max %v mean %v, want 80 and about 50.5", r.Max, r.Mean)
	}
	if r.Truncated {
		t.Error("window marked truncated though all its points are retained")
	}
}

func TestDetectWindowTooFewSamples(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(31, 5, 0, 1))
	if _, err := m.DetectWindow(time.Hour, nil); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("error = %v, want ErrTooFewSamples", err)
	}
	if _, err := m.DetectWindow(0, nil); err == nil {
		t.Error("DetectWindow accepted a zero look-back")
	}
}

func TestDetectValue(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(32, 300, 100, 10))
	before := m.Samples()
	d, err := m.DetectValue(t0.Add(time.Hour*10), 200, nil)
	if err != nil {
		t.Fatalf("DetectValue: %v", err)
	}
	if !d.IsAnomaly || d.Anomaly == nil || d.Anomaly.Type != TypeStatistical {
		t.Fatalf("detection %+v, want a statistical anomaly", d)
	}
	if d.Value <= d.Expected.Upper {
		t.Errorf("value %v within expected range %+v", d.Value, d.Expected)
	}
	normal, err := m.DetectValue(t0.Add(time.Hour*10), 101, nil)
	if err != nil || normal.IsAnomaly {
		t.Errorf("value 101 flagged (%+v, %v)", normal, err)
	}
	if m.Samples() != before {
		t.Error("DetectValue changed the model")
	}
}

// TestDetectValueScoreMeaning checks that a single value's score has the
// documented meaning of the score: as rare as the top 10% scores 0.2, the
// top 2% 0.34, 1 in 1000 0.6. A 2 standard deviation value, about 1 in 22,
// must score between 0.2 and 0.34, and a value at the centre near 0.
func TestDetectValueScoreMeaning(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(33, 3000, 100, 5))
	b := m.st.Baseline
	tests := []struct {
		sigmas   float64
		min, max float64
	}{
		{0, 0, 0.01},
		{1, 0.09, 0.11},  // p = 0.317
		{2, 0.2, 0.34},   // p = 0.0455
		{3, 0.5, 0.52},   // p = 0.0027
		{3.3, 0.6, 0.62}, // p = 0.00097
		{5, 1, 1},
	}
	for _, tt := range tests {
		for _, side := range []float64{1, -1} {
			x := b.Center + side*tt.sigmas*b.scale()
			d, err := m.DetectValue(m.Newest(), x, nil)
			if err != nil {
				t.Fatalf("DetectValue(%v): %v", x, err)
			}
			if d.Score < tt.min || d.Score > tt.max {
				t.Errorf("value %.3f, %+.1f standard deviations: score %.3f, want %.2f to %.2f", x, side*tt.sigmas, d.Score, tt.min, tt.max)
			}
		}
	}
}

func TestDetectCollective(t *testing.T) {
	names := []string{"cpu", "error_rate", "latency", "queue_depth"}
	models := make([]*Model, len(names))
	for i, name := range names {
		m, err := NewModel(name, Config{})
		if err != nil {
			t.Fatal(err)
		}
		values := noisy(uint64(40+i), 300, 10, 1)
		// cpu, error_rate and latency go wrong at minute 250; queue_depth
		// goes wrong alone at minute 200.
		switch name {
		case "queue_depth":
			values[200] = 50
		default:
			values[250] = 50
		}
		feed(t, m, values)
		models[i] = m
	}
	got, err := DetectCollective(models, CollectiveOptions{Lookback: 2 * time.Hour, Bucket: 5 * time.Minute, MinMetrics: 2})
	if err != nil {
		t.Fatalf("DetectCollective: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("collective anomalies %+v, want one", got)
	}
	a := got[0]
	if a.Type != TypeCollective || a.Value != 3 || len(a.Metrics) != 3 {
		t.Errorf("anomaly %+v, want 3 metrics", a)
	}
	if want := t0.Add(250 * time.Minute); !a.Timestamp.Equal(want) {
		t.Errorf("bucket starts %v, want %v", a.Timestamp, want)
	}
	if a.Severity != SeverityCritical {
		t.Errorf("severity %s for 3 of 4 metrics, want critical", a.Severity)
	}

	if _, err := DetectCollective(models[:1], CollectiveOptions{Lookback: time.Hour, Bucket: time.Minute, MinMetrics: 2}); err == nil {
		t.Error("DetectCollective accepted a single metric")
	}

	// A metric listed twice counts once: cpu alone is no collective
	// anomaly, and with latency the share is 2 of 2 distinct metrics.
	opts := CollectiveOptions{Lookback: 2 * time.Hour, Bucket: 5 * time.Minute, MinMetrics: 2}
	if _, err := DetectCollective([]*Model{models[0], models[0]}, opts); err == nil {
		t.Error("DetectCollective accepted one metric listed twice")
	}
	got, err = DetectCollective([]*Model{models[0], models[0], models[2]}, opts)
	if err != nil {
		t.Fatalf("DetectCollective with a duplicate: %v", err)
	}
	if len(got) != 1 || got[0].Value != 2 || got[0].Deviation != 1 {
		t.Errorf("collective anomalies %+v with cpu listed twice, want one of 2 metrics and share 1", got)
	}
}

func TestBucketStartAligned(t *testing.T) {
	ts := time.Date(2026, 1, 5, 10, 7, 31, 0, time.UTC)
	got := time.Unix(0, bucketStart(ts, 5*time.Minute)).UTC()
	if want := time.Date(2026, 1, 5, 10, 5, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("bucket start %v, want %v", got, want)
	}
}

func TestDetectPeriod(t *testing.T) {
	tests := []struct {
		name   string
		period int
	}{
		{"daily at 5 minutes", 288},
		{"hourly", 24},
		{"short", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noise := noisy(50, 4*tt.period+20, 0, 0.3)
			values := make([]float64, len(noise))
			for i := range values {
				values[i] = math.Sin(2*math.Pi*float64(i)/float64(tt.period)) + noise[i]
			}
			if got := DetectPeriod(values); got < tt.period-1 || got > tt.period+1 {
				t.Errorf("DetectPeriod = %d, want %d", got, tt.period)
			}
		})
	}
	if got := DetectPeriod(noisy(51, 1000, 0, 1)); got != 0 {
		t.Errorf("DetectPeriod of white noise = %d, want 0", got)
	}
	trend := make([]float64, 1000)
	for i := range trend {
		trend[i] = float64(i)
	}
	if got := DetectPeriod(trend); got != 0 {
		t.Errorf("DetectPeriod of a ramp = %d, want 0", got)
	}
}

func TestDetectPeriodPrefersWeekOverDay(t *testing.T) {
	// Four weeks and a bit, hourly: a daily wave, and weekends lower.
	noise := noisy(53, 24*7*4+100, 0, 0.3)
	week := make([]float64, len(noise))
	for i := range week {
		week[i] = math.Sin(2*math.Pi*float64(i)/24) + noise[i]
		if day := i / 24 % 7; day >= 5 {
			week[i] -= 1.5
		}
	}
	if got := DetectPeriod(week); got < 167 || got > 169 {
		t.Errorf("DetectPeriod with weekends = %d, want 168", got)
	}
	// Without weekends the week is only seven days and the day wins.
	for i := range week {
		week[i] = math.Sin(2*math.Pi*float64(i)/24) + noise[i]
	}
	if got := DetectPeriod(week); got < 23 || got > 25 {
		t.Errorf("DetectPeriod of a daily wave = %d, want 24", got)
	}
}

func TestSeasonalAutoPeriod(t *testing.T) {
	m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Auto: true}, RetentionPoints: 256})
	// 300 points: the period is found at point 256, so most retained points
	// come from before it.
	noise := noisy(52, 300, 0, 1)
	for i := range noise {
		m.Observe(t0.Add(time.Duration(i)*time.Hour), dailyValue(i)+noise[i], nil)
	}
	if p := m.st.Seasonal.Period; p != 24 {
		t.Errorf("detected period %d, want 24", p)
	}
	// The look-back covers points retained from before the period was
	// found, whose phases count backwards from it.
	r, err := m.DetectWindow(300*time.Hour, nil)
	if err != nil {
		t.Fatalf("DetectWindow: %v", err)
	}
	if r.Points != 256 {
		t.Errorf("points %d, want the 256 retained", r.Points)
	}
}

// TestDetectValueTimestampPhase checks that, with a period in points,
// DetectValue tests a value against the phase of its timestamp, counted
// from the newest point in steps of the time between points.
func TestDetectValueTimestampPhase(t *testing.T) {
	// Hourly points of a 24-point cycle: 100 at 06:00 and 140 at 18:00.
	values := noisy(61, 24*10, 0, 1)
	for i := range values {
		values[i] += 120 + 20*math.Cos(2*math.Pi*float64(i%24-18)/24)
	}
	m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Points: 24}})
	for i, v := range values {
		m.Observe(t0.Add(time.Duration(i)*time.Hour), v, nil)
	}
	newest := m.Newest() // 23:00
	tests := []struct {
		at   time.Time
		want float64 // the phase's mean
	}{
		{newest.Add(7 * time.Hour), 100},  // 06:00 the next day
		{newest.Add(19 * time.Hour), 140}, // 18:00 the next day
		{newest.Add(-17 * time.Hour), 100},
		{newest.Add(-5 * time.Hour), 140},
		{newest, 120 + 20*math.Cos(2*math.Pi*5/24)},
	}
	for _, tt := range tests {
		d, err := m.DetectValue(tt.at, 120, nil)
		if err != nil {
			t.Fatalf("DetectValue at %s: %v", tt.at, err)
		}
		center := (d.Expected.Lower + d.Expected.Upper) / 2
		if math.Abs(center-tt.want) > 2 {
			t.Errorf("at %s: expected range centred on %.1f, want the phase mean %.1f", tt.at.Format("15:04"), center, tt.want)
		}
	}
}

// TestDetectValueTimestampUnknownStep checks that DetectValue returns an
// error naming the timestamp when a period in points cannot place it,
// because every point so far has the same timestamp, and still checks a
// value at the newest point's timestamp.
func TestDetectValueTimestampUnknownStep(t *testing.T) {
	m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Points: 4}})
	for _, v := range noisy(62, 60, 100, 5) {
		m.Observe(t0, v, nil)
	}
	at := t0.Add(time.Hour)
	_, err := m.DetectValue(at, 100, nil)
	if err == nil {
		t.Fatal("DetectValue at a later timestamp with no time between points: no error")
	}
	if !strings.Contains(err.Error(), at.Format(time.RFC3339)) || !strings.Contains(err.Error(), "omit the timestamp") {
		t.Errorf("error %q, want it to name %s and the fix", err, at.Format(time.RFC3339))
	}
	if _, err := m.DetectValue(t0, 100, nil); err != nil {
		t.Errorf("DetectValue at the newest point's timestamp: %v", err)
	}
}
