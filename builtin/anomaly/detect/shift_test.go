package detect

import (
	"strings"
	"testing"
	"time"
)

func TestShiftStateSums(t *testing.T) {
	var s shiftState
	up, down := s.next(2)
	if up != 2-shiftDrift || down != 0 {
		t.Errorf("next(2) = %v, %v, want %v, 0", up, down, 2-shiftDrift)
	}
	up, down = s.next(-100)
	if up != 0 || down != shiftClip-shiftDrift {
		t.Errorf("next(-100) = %v, %v, want 0, %v: one point adds at most shiftClip", up, down, shiftClip-shiftDrift)
	}

	s.commit(10, 1, 0, 2, false)
	s.commit(20, 2, 0, 3, false)
	if s.Down != 3 || s.DownStart != 10 || s.Record != 3 {
		t.Errorf("after two commits: %+v, want Down 3 since 10 and Record 3", s)
	}
	if s.isRecord(0, 4, 2, 2) {
		t.Error("isRecord(4) true one point before the warm-up ends")
	}
	if !s.isRecord(0, 4, 3, 2) {
		t.Error("isRecord(4) false after the warm-up, want true against the record 3")
	}
	if s.isRecord(0, 3, 3, 2) {
		t.Error("isRecord(3) true, want false: equal to the record 3 is no record")
	}
	s.commit(30, 3, 0, 5, true)
	if s.Up != 0 || s.Down != 0 || s.Record != 5 {
		t.Errorf("after an alert: %+v, want both sums 0 and Record 5", s)
	}
}

// shiftedNoise returns n points of standard normal noise followed by shifted
// points of normal noise with the same spread, moved up by shift standard
// deviations.
func shiftedNoise(n, shifted int, shift float64) []float64 {
	return append(noisy(40, n, 0, 1), noisy(41, shifted, shift, 1)...)
}

func TestModelShiftRecord(t *testing.T) {
	const n = 1500
	values := shiftedNoise(n, 300, 1)
	tests := []struct {
		name  string
		trend bool
	}{
		{"trend on", true},
		{"trend off", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, Config{EnableTrend: &tt.trend})
			results := feed(t, m, values)
			var shifts []int
			for i, r := range results {
				if r.IsAnomaly && strings.Contains(r.Anomaly.Message, "ever before") {
					shifts = append(shifts, i)
				}
			}
			if !tt.trend {
				if len(shifts) > 0 {
					t.Errorf("shift anomalies at %v with the trend detector off", shifts)
				}
				return
			}
			if len(shifts) == 0 || shifts[0] < n || shifts[0] > n+100 {
				t.Fatalf("shift anomalies at %v, want the first within 100 points of the shift at %d", shifts, n)
			}
			a := results[shifts[0]].Anomaly
			if a.Type != TypeTrend {
				t.Errorf("type %s, want %s", a.Type, TypeTrend)
			}
			if start := t0.Add(n * time.Minute); a.Start.Before(start.Add(-30*time.Minute)) || a.Start.After(a.Timestamp) {
				t.Errorf("shift start %v, want between %v and the anomaly at %v", a.Start, start, a.Timestamp)
			}
			if !strings.Contains(a.Message, "above the baseline") {
				t.Errorf("message %q does not give the side of the shift", a.Message)
			}
		})
	}
}

func TestModelVolatilityShiftRecord(t *testing.T) {
	const n = 1500
	tests := []struct {
		name   string
		values []float64
	}{
		{"calmer noise", append(noisy(42, n, 0, 1), noisy(43, 300, 0, 0.3)...)},
		{"flat line", flatAfterNoise(n, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, Config{})
			results := feed(t, m, tt.values)

			got := anomalyIndices(results)
			var after []int
			for _, i := range got {
				if i >= n {
					after = append(after, i)
				}
			}
			if len(after) == 0 || after[0] > n+100 {
				t.Fatalf("anomalies at %v, want one within 100 points of the calm from %d", got, n)
			}
			a := results[after[0]].Anomaly
			if a.Type != TypeTrend {
				t.Errorf("type %s, want %s", a.Type, TypeTrend)
			}
			if !strings.Contains(a.Message, "from point to point less than usual") {
				t.Errorf("message %q, want a volatility shift record", a.Message)
			}
			// A record comes from a lasting change, before the mean absolute
			// change need leave its range, so the test is against the
			// range's centre.
			if centre := (a.Expected.Lower + a.Expected.Upper) / 2; a.Value >= centre {
				t.Errorf("mean absolute change %v, want below its usual level %v", a.Value, centre)
			}
		})
	}
}
