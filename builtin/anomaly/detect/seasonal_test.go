package detect

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// peakDay returns 20 days of a metric sampled every 5 minutes: a level of
// 100 with Gaussian noise of standard deviation 3 and a daily peak of +80
// from 12:00 to 15:00, and the index of a value of 180 at 02:00 on day 19.
func peakDay() (values []float64, spike int) {
	const perDay = 288
	values = noisy(50, 20*perDay, 100, 3)
	for i := range values {
		if minute := (i % perDay) * 5; minute >= 12*60 && minute < 15*60 {
			values[i] += 80
		}
	}
	spike = 18*perDay + 2*12
	values[spike] = 180
	return values, spike
}

func TestModelSeasonalNightSpike(t *testing.T) {
	values, spike := peakDay()
	tests := []struct {
		name   string
		period SeasonalPeriod
		phases int
	}{
		{"24h", SeasonalPeriod{Duration: 24 * time.Hour}, 0},
		{"24h in 288 phases", SeasonalPeriod{Duration: 24 * time.Hour}, 288},
		{"288 points", SeasonalPeriod{Points: 288}, 0},
		{"auto", SeasonalPeriod{Auto: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: tt.period, SeasonalPhases: tt.phases})
			var flagged []int
			for i, v := range values {
				res := m.Observe(t0.Add(time.Duration(i)*5*time.Minute), v, nil)
				if res.IsAnomaly && i >= 10*288 {
					flagged = append(flagged, i)
				}
				if i == spike {
					if !res.IsAnomaly {
						t.Fatalf("night spike of 180 at index %d not flagged (score %.2f)", i, res.Score)
					}
					if res.Anomaly.Type != TypeSeasonal {
						t.Errorf("night spike type %s, want %s", res.Anomaly.Type, TypeSeasonal)
					}
					t.Logf("%s", res.Anomaly.Message)
					if res.Anomaly.Value != 180 {
						t.Errorf("night spike value %v, want 180", res.Anomaly.Value)
					}
				}
			}
			if want := fmt.Sprint([]int{spike}); fmt.Sprint(flagged) != want {
				t.Errorf("anomalies after day 10 at %v, want only the night spike %s", flagged, want)
			}
		})
	}
}

// TestSeasonalPhaseMeanResistsOneOutlier checks that one extreme value moves
// its phase's mean by a small part of its distance, whether the phase gets
// one point per cycle or several.
func TestSeasonalPhaseMeanResistsOneOutlier(t *testing.T) {
	tests := []struct {
		name   string
		period SeasonalPeriod
		phases int
	}{
		{"duration, 12 points per phase", SeasonalPeriod{Duration: time.Hour}, 5},
		{"points", SeasonalPeriod{Points: 60}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{EnableSeasonal: true, SeasonalPeriod: tt.period, SeasonalPhases: tt.phases}.WithDefaults()
			s := newSeasonalState(cfg)
			values := noisy(51, 60*20, 10, 1)
			var ts int64
			for i, v := range values {
				ts = t0.Add(time.Duration(i) * time.Minute).UnixNano()
				s.Update(ts, v, int64(i+1), nil, cfg)
			}
			n := int64(len(values))
			ts += int64(time.Minute)
			ph := s.phase(ts, n)
			before := s.Means[ph]
			s.Update(ts, 1010, n+1, nil, cfg) // 1000 standard deviations
			if moved := s.Means[ph] - before; moved > 5 {
				t.Errorf("phase mean moved by %.1f after one outlier of +1000, want at most 5", moved)
			}
		})
	}
}

// TestSeasonalPhaseMeanHorizonInCycles checks that a phase's mean forgets
// over seasonalCycleHorizon cycles, not points, when a duration period
// gives each phase several points per cycle: one cycle in which the
// phase's 12 points all sit 2 spreads higher moves its mean by about a
// sixth of that, not most of it.
func TestSeasonalPhaseMeanHorizonInCycles(t *testing.T) {
	cfg := Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Duration: time.Hour}, SeasonalPhases: 5}.WithDefaults()
	s := newSeasonalState(cfg)
	values := noisy(52, 60*20, 10, 1)
	for i, v := range values {
		s.Update(t0.Add(time.Duration(i)*time.Minute).UnixNano(), v, int64(i+1), nil, cfg)
	}
	n := int64(len(values))
	first := t0.Add(time.Duration(n) * time.Minute).UnixNano()
	ph := s.phase(first, n)
	before := s.Means[ph]
	for i := range int64(12) {
		s.Update(first+i*int64(time.Minute), 12, n+i+1, nil, cfg)
	}
	moved := s.Means[ph] - before
	if moved < 0.1 || moved > 0.6 {
		t.Errorf("phase mean moved by %.2f after one cycle of its 12 points at +2, want about 2/6 (0.1 to 0.6)", moved)
	}
}

// dayNight returns days of a metric sampled every 5 minutes that swings
// from 50 at midnight to 150 at noon (100 − 50·cos of the time of day),
// with Gaussian noise of standard deviation 5.
func dayNight(seed uint64, days int) []float64 {
	const perDay = 288
	values := noisy(seed, days*perDay, 0, 5)
	for i := range values {
		values[i] += 100 - 50*math.Cos(2*math.Pi*float64(i%perDay)/perDay)
	}
	return values
}

// TestModelSeasonalDayNightSpike checks that a value of 150 at 03:00 on the
// seventh day, about 17 standard deviations above its phase, is a seasonal
// anomaly whichever way the period is given, although the score of one
// point stays near 0.3, and that the same value at noon, the daily peak,
// is not. Seven days of 288 points are enough for "auto" at the default
// retention of 1024 points, because its first search runs at the 1024th
// point and needs two cycles.
func TestModelSeasonalDayNightSpike(t *testing.T) {
	const perDay = 288
	tests := []struct {
		name   string
		period SeasonalPeriod
	}{
		{"24h", SeasonalPeriod{Duration: 24 * time.Hour}},
		{"288 points", SeasonalPeriod{Points: perDay}},
		{"auto", SeasonalPeriod{Auto: true}},
	}
	for _, tt := range tests {
		for _, seed := range []uint64{7, 8, 9} {
			t.Run(fmt.Sprintf("%s seed %d", tt.name, seed), func(t *testing.T) {
				values := dayNight(seed, 7)
				spike := 6*perDay + 3*12 // 03:00 on day 7
				noon := 5*perDay + 12*12 // 12:00 on day 6
				values[spike] = 150
				values[noon] = 150
				m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: tt.period})
				var flagged []int
				for i, v := range values {
					res := m.Observe(t0.Add(time.Duration(i)*5*time.Minute), v, nil)
					if res.IsAnomaly && i >= 2*perDay {
						flagged = append(flagged, i)
					}
					if i == spike && res.IsAnomaly && res.Anomaly.Type != TypeSeasonal {
						t.Errorf("night spike type %s, want %s: %s", res.Anomaly.Type, TypeSeasonal, res.Anomaly.Message)
					}
				}
				if want := fmt.Sprint([]int{spike}); fmt.Sprint(flagged) != want {
					t.Errorf("anomalies after day 2 at %v, want only the night spike %s (the daily peak at %d is normal)", flagged, want, noon)
				}
				wantPeriod := 0
				if tt.period.Auto {
					wantPeriod = perDay
				}
				// Noise may move the detected period by one point.
				if got := m.Baseline().DetectedPeriod; got < wantPeriod-1 || got > wantPeriod+1 {
					t.Errorf("DetectedPeriod = %d, want %d ± 1", got, wantPeriod)
				}
			})
		}
	}
}

// TestDetectPeriodSmoothCycle checks that the period of a smooth noisy
// cycle is found within one point from 3.5 cycles, where the peak of the
// autocorrelation falls 5 points short of it.
func TestDetectPeriodSmoothCycle(t *testing.T) {
	for _, seed := range []uint64{7, 8, 9, 10} {
		values := dayNight(seed, 4)[:1024]
		if got := DetectPeriod(values); got < 287 || got > 289 {
			t.Errorf("seed %d: DetectPeriod = %d, want 288 ± 1", seed, got)
		}
	}
}

// TestModelSeasonalBurstOnePhaseEarly checks that a burst that a sharp
// 12-point season repeats at one phase of every cycle is no seasonal
// anomaly when a cycle brings it one phase early: its value is what the
// phase beside its own expects. TestModelSeasonalNightSpike checks that a
// value far from its phase and from the phases beside it still is one.
func TestModelSeasonalBurstOnePhaseEarly(t *testing.T) {
	const period, cycles = 12, 400
	values := noisy(51, period*cycles, 30, 2)
	var early []int
	for c := range cycles {
		at := c*period + period - 1
		if c >= 200 && c%25 == 0 {
			at-- // this cycle's burst comes one phase early
			early = append(early, at)
		}
		values[at] = 90
	}
	m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Points: period}})
	for i, v := range values {
		res := m.Observe(t0.Add(time.Duration(i)*5*time.Minute), v, nil)
		if slices.Contains(early, i) && res.IsAnomaly && res.Anomaly.Type == TypeSeasonal {
			t.Errorf("burst one phase early at %d is a seasonal anomaly: %s", i, res.Anomaly.Message)
		}
	}
}
