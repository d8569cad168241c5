package evaluate

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// FileReport is the scoring of one series.
type FileReport struct {
	// Name is the series' path relative to the data directory.
	Name string `json:"name"`
	// Dropped counts rows skipped because their timestamp went backwards.
	Dropped int `json:"dropped_rows"`
	SeriesScore
}

// ProfileScore is a total under one profile.
type ProfileScore struct {
	Profile Profile `json:"profile"`
	// Raw is the sum of the files' raw scores; Null and Perfect the sums for
	// a detector that never fires and for a perfect one.
	Raw     float64 `json:"raw"`
	Null    float64 `json:"null"`
	Perfect float64 `json:"perfect"`
	// Normalized is 100·(Raw − Null)/(Perfect − Null): 0 for a detector that
	// never fires, 100 for a perfect one.
	Normalized float64 `json:"normalized"`
}

// Report is the outcome of an evaluation.
type Report struct {
	Files []FileReport `json:"files"`
	// Scores holds the totals for Profiles(), standard first.
	Scores []ProfileScore `json:"scores"`
	// Windows, Detected, Detections and FalsePositives are summed over files.
	Windows        int `json:"windows"`
	Detected       int `json:"detected_windows"`
	Detections     int `json:"detections"`
	FalsePositives int `json:"false_positives"`
	// Precision is detected windows / (detected windows + false positives);
	// Recall is detected windows / windows. Both are 0 when undefined.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// MeanDelayRows and MeanDelay average the delay from a window's centre to
	// its earliest detection over the detected windows.
	MeanDelayRows float64       `json:"mean_delay_rows"`
	MeanDelay     time.Duration `json:"mean_delay"`
}

// Score returns the total of the named profile, or false when the report
// has no such profile.
func (r Report) Score(profile string) (ProfileScore, bool) {
	for _, s := range r.Scores {
		if s.Profile.Name == profile {
			return s, true
		}
	}
	return ProfileScore{}, false
}

func newReport(files []FileReport) Report {
	r := Report{Files: files}
	var delayRows, delayCount int
	var delay time.Duration
	for _, f := range files {
		r.Windows += f.Windows
		r.Detected += f.Detected
		r.Detections += f.Detections
		r.FalsePositives += f.FalsePositives
		for i, d := range f.DelayRows {
			delayRows += d
			delay += f.Delays[i]
			delayCount++
		}
	}
	r.Precision = ratio(r.Detected, r.Detected+r.FalsePositives)
	r.Recall = ratio(r.Detected, r.Windows)
	if delayCount > 0 {
		r.MeanDelayRows = float64(delayRows) / float64(delayCount)
		r.MeanDelay = delay / time.Duration(delayCount)
	}
	for _, p := range Profiles() {
		s := ProfileScore{Profile: p}
		for _, f := range files {
			s.Raw += f.Raw(p)
			s.Null += f.Null(p)
			s.Perfect += f.Perfect(p)
		}
		s.Normalized = normalize(s.Raw, s.Null, s.Perfect)
		r.Scores = append(r.Scores, s)
	}
	return r
}

// normalize returns 100·(raw − null)/(perfect − null), or 0 when the files
// have no window.
func normalize(raw, null, perfect float64) float64 {
	if perfect == null {
		return 0
	}
	return 100 * (raw - null) / (perfect - null)
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Print writes the report as a table per file followed by the totals.
func (r Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\twindows\tdetected\tfalse pos\tprecision\trecall\tdelay (rows)\tstandard\tlow FP\tlow FN\t")
	for _, f := range r.Files {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t\n",
			f.Name, f.Windows, f.Detected, f.FalsePositives,
			formatRatio(f.Detected, f.Detected+f.FalsePositives), formatRatio(f.Detected, f.Windows),
			formatDelay(f.DelayRows), f.Raw(Standard), f.Raw(LowFP), f.Raw(LowFN))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	return r.PrintTotals(w)
}

// PrintTotals writes the totals over all files: counts, precision, recall,
// mean delay and the normalized score of each profile.
func (r Report) PrintTotals(w io.Writer) error {
	_, err := fmt.Fprintf(w, "files %d, windows %d, detected %d, false positives %d, precision %s, recall %s, mean delay %.1f rows (%s)\n",
		len(r.Files), r.Windows, r.Detected, r.FalsePositives,
		formatRatio(r.Detected, r.Detected+r.FalsePositives), formatRatio(r.Detected, r.Windows),
		r.MeanDelayRows, r.MeanDelay.Round(time.Second))
	if err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	for _, s := range r.Scores {
		if _, err := fmt.Fprintf(w, "%-20s normalized score %6.2f (raw %.2f, null %.2f, perfect %.2f)\n",
			s.Profile.Name, s.Normalized, s.Raw, s.Null, s.Perfect); err != nil {
			return fmt.Errorf("print report: %w", err)
		}
	}
	return nil
}

// formatRatio prints a/b with two decimals, or "-" when b is 0.
func formatRatio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

func formatDelay(rows []int) string {
	if len(rows) == 0 {
		return "-"
	}
	sum := 0
	for _, d := range rows {
		sum += d
	}
	return fmt.Sprintf("%.1f", float64(sum)/float64(len(rows)))
}
