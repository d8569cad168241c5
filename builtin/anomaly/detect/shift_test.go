package detect

import (
	"fmt"
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
	if s.Down != 5 || s.Record != 5 || !s.DownReported || s.UpReported {
		t.Errorf("after an alert: %+v, want Down 5 still running, Record 5 and only the lower excursion reported", s)
	}
	if s.isRecord(0, 9, 4, 2) {
		t.Error("isRecord(9) true for a reported excursion, want false until it ends")
	}
	s.commit(40, 4, 0, 9, false)
	if s.Record != 9 || !s.DownReported {
		t.Errorf("after a reported excursion grew: %+v, want Record 9 and the excursion still reported", s)
	}
	s.settle(-1)
	if !s.DownReported || s.Down != 9 {
		t.Errorf("settle(-1): %+v, want the lower excursion still reported: the level is beyond the drift", s)
	}
	s.settle(-shiftDrift / 2)
	if s.DownReported || s.Down != 0 {
		t.Errorf("settle(%v): %+v, want the lower excursion ended and its sum restarted", -shiftDrift/2, s)
	}
	s.commit(50, 5, 0, 2, true)
	s.commit(60, 6, 0, 0, false)
	if s.DownReported {
		t.Errorf("after the sum returned to zero: %+v, want no excursion reported", s)
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
			if a.Value != tt.values[after[0]] {
				t.Errorf("value %v, want the observed value %v", a.Value, tt.values[after[0]])
			}
			// The record is what decided, so the anomaly reports the sum,
			// negative for a calm, outside the range of the previous record.
			if a.Statistic != StatisticVolatilityCUSUM || a.StatisticValue == nil {
				t.Fatalf("statistic %q, want %s with its value", a.Statistic, StatisticVolatilityCUSUM)
			}
			if *a.StatisticValue >= a.Expected.Lower {
				t.Errorf("cumulative sum %v, want below the previous record's range %v", *a.StatisticValue, a.Expected)
			}
			if a.Expected.Lower != -a.Expected.Upper || a.Expected.Upper <= 0 {
				t.Errorf("expected range %v, want ± the previous record", a.Expected)
			}
			if !strings.Contains(a.Message, "the mean absolute change") {
				t.Errorf("message %q does not give the mean absolute change", a.Message)
			}
		})
	}
}

// TestModelShiftReportedOnce checks that a lasting level shift is reported
// once, by whichever detector sees it first. Anomalies that the same noise
// raises without the shift are left out.
func TestModelShiftReportedOnce(t *testing.T) {
	const n, shifted = 2000, 1000
	tests := []struct {
		name  string
		shift float64
		// minSeverity is the least severity the report of the shift may
		// have.
		minSeverity Severity
	}{
		{"1.5 sigma", 1.5, SeverityLow},
		{"4 sigma", 4, SeverityLow},
		{"30 sigma", 30, SeverityCritical},
		{"300 sigma", 300, SeverityCritical},
	}
	control := feed(t, newTestModel(t, Config{}), noisy(45, n+shifted, 0, 1))
	rank := map[Severity]int{SeverityLow: 0, SeverityMedium: 1, SeverityHigh: 2, SeverityCritical: 3}
	prev := -1
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := noisy(45, n+shifted, 0, 1)
			for i := n; i < len(values); i++ {
				values[i] += tt.shift
			}
			results := feed(t, newTestModel(t, Config{}), values)

			var reports []int
			for _, i := range anomalyIndices(results) {
				if i >= n && !control[i].IsAnomaly {
					reports = append(reports, i)
				}
			}
			// An outlier alert at the shift's first point may precede the
			// report of the shift, which must be one trend anomaly.
			if len(reports) == 2 && reports[0] == n && results[n].Anomaly.Type != TypeTrend {
				reports = reports[1:]
			}
			if len(reports) != 1 || results[reports[0]].Anomaly.Type != TypeTrend {
				for _, i := range reports {
					t.Logf("point %d: %s", i, results[i].Anomaly.Message)
				}
				t.Fatalf("shift of %v standard deviations at %d reported at %v, want one trend anomaly, after at most an outlier at %d", tt.shift, n, reports, n)
			}
			a := results[reports[0]].Anomaly
			if start := t0.Add(n * time.Minute); a.Start.Before(start.Add(-5*time.Minute)) || a.Start.After(start.Add(5*time.Minute)) {
				t.Errorf("shift start %v, want within 5 points of the shift at %v", a.Start, start)
			}
			if reports[0] > n+200 {
				t.Errorf("shift reported at %d, want within 200 points of %d", reports[0], n)
			}
			if rank[a.Severity] < rank[tt.minSeverity] {
				t.Errorf("severity %s for a shift of %v standard deviations, want at least %s (%s)", a.Severity, tt.shift, tt.minSeverity, a.Message)
			}
			if rank[a.Severity] < prev {
				t.Errorf("severity %s is lower than for a smaller shift", a.Severity)
			}
			prev = rank[a.Severity]
		})
	}
}

// TestShiftRecordSeverity checks that a shift record's severity grows with
// the distance of the moving average from the baseline, in the baseline's
// standard deviations, and that it reports the observed value.
func TestShiftRecordSeverity(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(44, 1200, 0, 1))
	b := m.Baseline()
	tests := []struct {
		shift float64
		want  Severity
	}{
		{1.5, SeverityLow},
		{5, SeverityMedium},
		{7, SeverityHigh},
		{30, SeverityCritical},
		{300, SeverityCritical},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.shift), func(t *testing.T) {
			ma := b.Center + tt.shift*b.Scale
			ev := evaluation{trend: true, trendMA: ma, shiftUp: 10}
			a := m.shiftAnomaly(t0, 42, &ev, 0.5, nil)
			if a.Severity != tt.want {
				t.Errorf("severity %s, want %s: %s", a.Severity, tt.want, a.Message)
			}
			if a.Value != 42 {
				t.Errorf("value %v, want the observed value 42", a.Value)
			}
			if a.Statistic != StatisticLevelCUSUM || a.StatisticValue == nil || *a.StatisticValue != 10 {
				t.Errorf("statistic %q = %v, want %s = 10, the sum that set the record", a.Statistic, a.StatisticValue, StatisticLevelCUSUM)
			}
			if r := a.Expected; *a.StatisticValue <= r.Upper || r.Lower != -r.Upper {
				t.Errorf("sum %v with expected range %v, want the sum beyond ± the previous record", *a.StatisticValue, r)
			}
			if want := fmt.Sprintf("moving average %s", formatValue(ma)); !strings.Contains(a.Message, want) {
				t.Errorf("message %q does not give the %s", a.Message, want)
			}
		})
	}
}

// TestModelBurstNotReportedAsShift checks that a burst that an alert
// catches at its start, and that ends a few moving-average windows later,
// raises only that alert. A shift that lasts is reported as a trend after
// the alert.
func TestModelBurstNotReportedAsShift(t *testing.T) {
	const n = 1500
	tests := []struct {
		name       string
		length     int
		wantTrends int
	}{
		{"burst of 25 points", 25, 0},
		{"shift that lasts", 300, 1},
	}
	control := feed(t, newTestModel(t, Config{}), noisy(46, n+400, 0, 1))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := noisy(46, n+400, 0, 1)
			for i := n; i < n+tt.length; i++ {
				values[i] += 10
			}
			results := feed(t, newTestModel(t, Config{}), values)
			var alerts, trends []int
			for _, i := range anomalyIndices(results) {
				if i < n || control[i].IsAnomaly {
					continue
				}
				alerts = append(alerts, i)
				if i > n && results[i].Anomaly.Type == TypeTrend {
					trends = append(trends, i)
				}
			}
			if len(alerts) == 0 || alerts[0] != n {
				t.Fatalf("alerts at %v, want the first at the burst's start %d", alerts, n)
			}
			if len(trends) != tt.wantTrends {
				for _, i := range alerts {
					t.Logf("point %d: %s", i, results[i].Anomaly.Message)
				}
				t.Fatalf("trend reports at %v, want %d", trends, tt.wantTrends)
			}
		})
	}
}

// TestModelLongDriftReportedOnce checks that a drift of 3 standard
// deviations over 600 points, which the baseline partly follows, raises
// one trend anomaly, not one each time a detector dates a new start.
func TestModelLongDriftReportedOnce(t *testing.T) {
	for _, seed := range []uint64{60, 61, 62, 63, 64} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			values := noisy(seed, 2600, 100, 5)
			for i := 1200; i < len(values); i++ {
				values[i] += 15 * float64(min(i-1200, 600)) / 600
			}
			results := feed(t, newTestModel(t, Config{}), values)
			var trends []int
			for _, i := range anomalyIndices(results) {
				if i >= 1200 && results[i].Anomaly.Type == TypeTrend {
					trends = append(trends, i)
				}
			}
			if len(trends) != 1 {
				for _, i := range trends {
					t.Logf("point %d: %s", i, results[i].Anomaly.Message)
				}
				t.Errorf("trend anomalies at %v for one drift, want exactly one", trends)
			}
		})
	}
}
