package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// series returns n timestamps one minute apart and n decisions, true at
// the given rows.
func series(n int, rows ...int) ([]time.Time, []bool) {
	ts := make([]time.Time, n)
	detected := make([]bool, n)
	for i := range ts {
		ts[i] = t0.Add(time.Duration(i) * time.Minute)
	}
	for _, r := range rows {
		detected[r] = true
	}
	return ts, detected
}

func window(left, right int) Window {
	return Window{Start: t0.Add(time.Duration(left) * time.Minute), End: t0.Add(time.Duration(right) * time.Minute)}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestProbationRows(t *testing.T) {
	for n, want := range map[int]int{100: 15, 4032: 604, 5000: 750, 22695: 750} {
		if got := ProbationRows(n); got != want {
			t.Errorf("ProbationRows(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestScoreSeriesHandComputed checks one file against values computed by
// hand from the NAB rules: 100 rows, probation 15 rows, one window on rows
// 40 to 59 (20 rows).
//
//   - row 10 is in the probation period and counts nothing;
//   - row 20 is before any window: a false positive at full cost 1;
//   - row 45 is the window's earliest detection: y = -(59-45)/19, weight
//     (2/(1+e^(5y)) - 1) / 0.9866143 = 0.9638993;
//   - row 50 is a later detection in the window and counts nothing;
//   - row 65 is 6 rows after the window: y = 6/19, cost
//     -(2/(1+e^(5y)) - 1) = 0.6581108.
func TestScoreSeriesHandComputed(t *testing.T) {
	ts, detected := series(100, 10, 20, 45, 50, 65)
	s := ScoreSeries(ts, detected, []Window{window(40, 59)})

	if s.Probation != 15 || s.Windows != 1 || s.Detected != 1 {
		t.Fatalf("probation %d windows %d detected %d, want 15, 1, 1", s.Probation, s.Windows, s.Detected)
	}
	if s.Detections != 4 || s.FalsePositives != 2 {
		t.Errorf("detections %d false positives %d, want 4 and 2", s.Detections, s.FalsePositives)
	}
	if !near(s.TPWeight, 0.9638992889524588) {
		t.Errorf("TP weight %v, want 0.9638993", s.TPWeight)
	}
	if !near(s.FPWeight, 1+0.6581107760257359) {
		t.Errorf("FP weight %v, want 1.6581108", s.FPWeight)
	}
	wantRaw := map[string]float64{
		"standard":           0.7815071035896278,
		"reward_low_FP_rate": 0.599114918226797,
		"reward_low_FN_rate": 0.7815071035896278,
	}
	for _, p := range Profiles() {
		if got := s.Raw(p); !near(got, wantRaw[p.Name]) {
			t.Errorf("%s raw %v, want %v", p.Name, got, wantRaw[p.Name])
		}
	}
	// The window's centre is row 49 (integer midpoint of 40 and 59).
	if len(s.DelayRows) != 1 || s.DelayRows[0] != -4 || s.Delays[0] != -4*time.Minute {
		t.Errorf("delays %v %v, want -4 rows, -4m", s.DelayRows, s.Delays)
	}

	r := newReport([]FileReport{{Name: "a.csv", SeriesScore: s}})
	wantNorm := map[string]float64{
		"standard":           89.07535517948139,
		"reward_low_FP_rate": 79.95574591133985,
		"reward_low_FN_rate": 92.7169034529876,
	}
	for _, ps := range r.Scores {
		if !near(ps.Normalized, wantNorm[ps.Profile.Name]) {
			t.Errorf("%s normalized %v, want %v", ps.Profile.Name, ps.Normalized, wantNorm[ps.Profile.Name])
		}
	}
	if !near(r.Precision, 1.0/3) || !near(r.Recall, 1) {
		t.Errorf("precision %v recall %v, want 1/3 and 1", r.Precision, r.Recall)
	}
}

func TestScoreSeriesEdges(t *testing.T) {
	t.Run("first row of window weighs 1", func(t *testing.T) {
		ts, detected := series(100, 40)
		s := ScoreSeries(ts, detected, []Window{window(40, 59)})
		if !near(s.TPWeight, 1) {
			t.Errorf("TP weight %v, want 1", s.TPWeight)
		}
	})
	t.Run("last row of window weighs 0", func(t *testing.T) {
		ts, detected := series(100, 59)
		s := ScoreSeries(ts, detected, []Window{window(40, 59)})
		if !near(s.TPWeight, 0) || s.Detected != 1 {
			t.Errorf("TP weight %v detected %d, want 0 and 1", s.TPWeight, s.Detected)
		}
	})
	t.Run("missed windows cost FN each", func(t *testing.T) {
		ts, detected := series(100)
		s := ScoreSeries(ts, detected, []Window{window(30, 39), window(60, 69)})
		if s.Raw(Standard) != -2 || s.Raw(LowFN) != -4 || s.Raw(Standard) != s.Null(Standard) {
			t.Errorf("raw %v / %v, want -2 / -4", s.Raw(Standard), s.Raw(LowFN))
		}
	})
	t.Run("detection in probation does not hit a window", func(t *testing.T) {
		ts, detected := series(100, 12)
		s := ScoreSeries(ts, detected, []Window{window(10, 20)})
		if s.Detected != 0 || s.Detections != 0 {
			t.Errorf("detected %d detections %d, want 0", s.Detected, s.Detections)
		}
	})
	t.Run("false positive far after a window costs fully", func(t *testing.T) {
		ts, detected := series(200, 150)
		s := ScoreSeries(ts, detected, []Window{window(20, 29)})
		if !near(s.FPWeight, 1) {
			t.Errorf("FP weight %v, want 1 (y > 3)", s.FPWeight)
		}
	})
	t.Run("file without windows", func(t *testing.T) {
		ts, detected := series(100, 50, 60)
		s := ScoreSeries(ts, detected, nil)
		if s.Raw(Standard) != -0.22 {
			t.Errorf("raw %v, want -0.22", s.Raw(Standard))
		}
	})
}

func TestLoadWindows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "windows.json")
	content := `{"a/x.csv": [["2026-01-05 00:40:00.000000", "2026-01-05 00:59:00.000000"]], "a/y.csv": []}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	labels, err := LoadWindows(path)
	if err != nil {
		t.Fatalf("LoadWindows: %v", err)
	}
	if len(labels) != 2 || len(labels["a/x.csv"]) != 1 || !labels["a/x.csv"][0].Start.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("labels %+v", labels)
	}

	bad := `{"a/x.csv": [["2026-01-05 00:59:00", "2026-01-05 00:40:00"]]}`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWindows(path); err == nil || !strings.Contains(err.Error(), "ends") {
		t.Errorf("reversed window: %v, want an error", err)
	}
}

func TestEvaluateDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "synthetic"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	for i := range 1000 {
		v := 10 + float64((i*7919)%13)/13
		if i == 800 {
			v = 100
		}
		b.WriteString(t0.Add(time.Duration(i)*time.Minute).Format("2006-01-02 15:04:05") + "," + formatFloat(v) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "synthetic", "spike.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	windows := `{"synthetic/spike.csv": [["2026-01-05 13:00:00.000000", "2026-01-05 13:39:00.000000"]]}`
	if err := os.WriteFile(filepath.Join(dir, "windows.json"), []byte(windows), 0o600); err != nil {
		t.Fatal(err)
	}
	report, err := Evaluate(filepath.Join(dir, "data"), filepath.Join(dir, "windows.json"), Options{Detector: DefaultDetector()})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	if report.Detected != 1 || report.FalsePositives != 0 {
		t.Errorf("detected %d false positives %d, want 1 and 0", report.Detected, report.FalsePositives)
	}
	std, _ := report.Score("standard")
	if std.Normalized < 80 {
		t.Errorf("standard score %v, want above 80 for a spike found at its onset", std.Normalized)
	}
	var out strings.Builder
	if err := report.Print(&out); err != nil || !strings.Contains(out.String(), "synthetic/spike.csv") {
		t.Errorf("printed report %q, %v", out.String(), err)
	}

	if _, err := Evaluate(filepath.Join(dir, "missing"), filepath.Join(dir, "windows.json"), Options{}); err == nil {
		t.Error("Evaluate succeeded on a missing data directory")
	}
}
