package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// spikySeries returns n points of N(100, 5) with a spike of size standard
// deviations every period points, and the spikes' indices.
func spikySeries(seed uint64, n, period int, size float64) ([]float64, []int) {
	values := noisy(seed, n, 100, 5)
	var spikes []int
	for i := period; i < n; i += period {
		values[i] += size * 5
		spikes = append(spikes, i)
	}
	return values, spikes
}

// TestModelRecurringSpikes checks that every spike of a metric that spikes
// again and again is an anomaly, while the score alone, with spikes turned
// off, learns them as the metric's normal behaviour and flags only the
// first.
func TestModelRecurringSpikes(t *testing.T) {
	tests := []struct {
		every int
		size  float64
	}{
		{250, 15},
		{500, 30},
		{151, 14},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%gsd every %d points", tt.size, tt.every), func(t *testing.T) {
			values, spikes := spikySeries(7, 3000, tt.every, tt.size)
			for _, spikeThreshold := range []float64{0, -1} {
				results := feed(t, newTestModel(t, Config{SpikeThreshold: spikeThreshold}), values)
				var flagged, other []int
				for _, i := range anomalyIndices(results) {
					if slices.Contains(spikes, i) {
						flagged = append(flagged, i)
					} else {
						other = append(other, i)
					}
				}
				switch {
				case spikeThreshold == 0 && len(flagged) != len(spikes):
					t.Errorf("spikes at %v, anomalies at %v: want every spike flagged", spikes, flagged)
				case spikeThreshold < 0 && len(flagged) > 2:
					t.Errorf("with spikes off, %d of %d spikes flagged: the score no longer learns recurring spikes, so this test no longer shows what the spike rule adds", len(flagged), len(spikes))
				}
				if spikeThreshold == 0 && len(other) > 1 {
					t.Errorf("anomalies at %v besides the spikes, want at most one", other)
				}
				for _, i := range flagged {
					if a := results[i].Anomaly; spikeThreshold == 0 && i > spikes[0] && !strings.Contains(a.Message, "a spike of at least spike_threshold (10)") {
						t.Errorf("spike at %d: message %q does not name the spike rule", i, a.Message)
					}
					if a := results[i].Anomaly; a.Type != TypeStatistical || a.Deviation < tt.size-4 {
						t.Errorf("spike at %d: %s with deviation %.1f, want a statistical outlier of %g standard deviations give or take the noise", i, a.Type, a.Deviation, tt.size)
					}
				}
			}
		})
	}
}

// TestModelSpikeBreaksCooldown checks that a spike farther from the
// baseline than the anomaly that started a cooldown is flagged during that
// cooldown, and that a nearer spike is not.
func TestModelSpikeBreaksCooldown(t *testing.T) {
	tests := []struct {
		name      string
		first     float64 // standard deviations
		second    float64
		wantAlert bool
	}{
		{"weak alert, then a spike", 5, 12, true},
		{"spike, then a smaller spike", 20, 12, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := noisy(9, 1300, 100, 5)
			values[1000] += tt.first * 5
			values[1060] += tt.second * 5
			m := newTestModel(t, Config{})
			results := feed(t, m, values)
			if !results[1000].IsAnomaly {
				t.Fatalf("first point of %g standard deviations not flagged: the test needs its cooldown", tt.first)
			}
			if got := results[1060].IsAnomaly; got != tt.wantAlert {
				t.Fatalf("spike of %g standard deviations 60 points after an alert of %.1f: anomaly %v, want %v",
					tt.second, results[1000].Anomaly.Deviation, got, tt.wantAlert)
			}
			if tt.wantAlert && !strings.Contains(results[1060].Anomaly.Message, "which breaks the cooldown of a nearer anomaly") {
				t.Errorf("message %q does not say that the spike broke the cooldown", results[1060].Anomaly.Message)
			}
		})
	}
}

// TestModelShiftIsOneSpike checks that only the first point of a level
// shift is a spike: the points after it jump no further from the point
// before them, and the trend detector reports the shift.
func TestModelShiftIsOneSpike(t *testing.T) {
	values := noisy(10, 1600, 100, 5)
	for i := 1000; i < len(values); i++ {
		values[i] += 100 // 20 standard deviations
	}
	results := feed(t, newTestModel(t, Config{}), values)
	var spikes []int
	for _, i := range anomalyIndices(results) {
		if i >= 1000 && results[i].Anomaly.Type == TypeStatistical {
			spikes = append(spikes, i)
		}
	}
	if !slices.Equal(spikes, []int{1000}) {
		t.Errorf("statistical outliers at %v after the shift at 1000, want only its first point", spikes)
	}
}

// TestModelSeasonalPeakNoSpike checks that the daily peak of a seasonal
// metric, 27 standard deviations above the night, is no spike once its
// phase has a baseline, while the night spike of peakDay is one.
func TestModelSeasonalPeakNoSpike(t *testing.T) {
	values, spike := peakDay()
	m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Duration: 24 * time.Hour}})
	for i, v := range values {
		res := m.Observe(t0.Add(time.Duration(i)*5*time.Minute), v, nil)
		if i < 2*288 {
			continue
		}
		if i == spike {
			if !res.IsAnomaly {
				t.Errorf("night spike at %d not flagged", i)
			}
			continue
		}
		if res.IsAnomaly {
			t.Errorf("point %d (value %.1f) flagged: %s", i, v, res.Anomaly.Message)
		}
	}
}
