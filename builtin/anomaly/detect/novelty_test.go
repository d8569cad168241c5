package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// uniform returns n values drawn uniformly from [lo, hi). Their range is
// sharp, so a value just beyond it is a novelty but only a few standard
// deviations from the mean.
func uniform(seed uint64, n int, lo, hi float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*r.Float64()
	}
	return out
}

func TestValueRangeNovel(t *testing.T) {
	var empty valueRange
	if empty.Novel(1e9) {
		t.Error("an empty range reports a novelty")
	}
	var r valueRange
	for _, v := range []float64{10, 20, 15} {
		r.Update(v)
	}
	// The range is [10, 20] and the margin a tenth of its width, 1.
	tests := []struct {
		x    float64
		want bool
	}{
		{15, false},
		{20.5, false},
		{21, false},
		{21.01, true},
		{9, false},
		{8.99, true},
	}
	for _, tt := range tests {
		if got := r.Novel(tt.x); got != tt.want {
			t.Errorf("Novel(%v) = %v, want %v for the range [10, 20]", tt.x, got, tt.want)
		}
	}
	if b := r.Bounds(); b.Lower != 9 || b.Upper != 21 {
		t.Errorf("Bounds() = %+v, want [9, 21]", b)
	}
}

func TestModelNovelty(t *testing.T) {
	const n = 1500
	values := append(uniform(30, n, 0, 10), 12)
	tests := []struct {
		name    string
		novelty bool
	}{
		{"on", true},
		{"off", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, Config{EnableNovelty: &tt.novelty})
			results := feed(t, m, values)
			// No alert may be cooling down when the new value comes.
			if before := anomalyIndices(results[n-DefaultCooldownPoints : n]); len(before) > 0 {
				t.Fatalf("anomalies in the last %d points of uniform noise: %s",
					DefaultCooldownPoints, results[n-DefaultCooldownPoints+before[0]].Anomaly.Message)
			}
			r := results[n]
			if r.IsAnomaly != tt.novelty {
				t.Fatalf("value 12 after %d values in [0, 10): anomaly %v, want %v", n, r.IsAnomaly, tt.novelty)
			}
			if !tt.novelty {
				return
			}
			a := r.Anomaly
			if a.Type != TypeStatistical {
				t.Errorf("type %s, want %s", a.Type, TypeStatistical)
			}
			if a.Deviation >= m.k {
				t.Errorf("deviation %.2f, want below k = %.2f: the value is new, not far", a.Deviation, m.k)
			}
			if a.Expected.Upper < 10.5 || a.Expected.Upper > 11 {
				t.Errorf("expected range %+v, want the seen range widened by a tenth (upper near 11)", a.Expected)
			}
			if !strings.Contains(a.Message, "above the highest value seen before") {
				t.Errorf("message %q does not name the novelty", a.Message)
			}
		})
	}
}

func TestModelNoveltyWaitsForBaselineWindow(t *testing.T) {
	const n = 500 // less than the default baseline_window of 1000
	m := newTestModel(t, Config{})
	results := feed(t, m, append(uniform(31, n, 0, 10), 12))
	if got := anomalyIndices(results); len(got) > 0 {
		t.Errorf("anomalies at %v, want none before %d points", got, DefaultBaselineWindow)
	}
}

func TestUnmarshalSeedsMissingRange(t *testing.T) {
	m := newTestModel(t, Config{RetentionPoints: 64})
	feed(t, m, uniform(32, 200, 0, 10))
	m.st.Range = valueRange{} // as in an encoding from before the range was kept
	restored := roundTrip(t, m)
	got := restored.st.Range
	values := m.st.Points.CopyValues(nil)
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	if !got.Set || got.Min != lo || got.Max != hi {
		t.Errorf("range %+v, want the retained points' [%v, %v]", got, lo, hi)
	}
	if restored.Observe(t0.Add(200*time.Minute), 5, nil).IsAnomaly {
		t.Error("a value inside the retained range is an anomaly after decoding")
	}
}
