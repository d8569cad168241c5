// Package evaluate scores anomaly detections against labelled anomaly
// windows with the rules of the Numenta Anomaly Benchmark (NAB v1.1). Each
// file starts with a probation period that is not scored. The earliest
// detection in a window earns a sigmoid-weighted reward, a detection outside
// every window costs a sigmoid-weighted penalty, and a missed window costs a
// fixed penalty. Three profiles weigh these rewards and costs differently.
package evaluate

import (
	"math"
	"sort"
	"time"
)

// Profile is a set of NAB weights: the reward for a detected window, the
// cost of a false detection and the cost of a missed window.
type Profile struct {
	// Name is the profile's name as NAB spells it.
	Name string `json:"name"`
	// TP, FP and FN are the weights A_tp, A_fp and A_fn.
	TP float64 `json:"tp"`
	FP float64 `json:"fp"`
	FN float64 `json:"fn"`
}

// The three NAB profiles.
var (
	Standard = Profile{Name: "standard", TP: 1, FP: 0.11, FN: 1}
	LowFP    = Profile{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1}
	LowFN    = Profile{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2}
)

// Profiles returns the three NAB profiles, standard first.
func Profiles() []Profile {
	return []Profile{Standard, LowFP, LowFN}
}

// Window is a labelled anomaly window; both ends are included.
type Window struct {
	Start time.Time
	End   time.Time
}

// maxProbationRows caps the probation period: NAB uses 15% of the rows but
// at most 15% of 5000 rows.
const maxProbationRows = 750

// ProbationRows returns the length of the probation period of a file with n
// rows: min(floor(0.15 n), 750). Detections there count neither way.
func ProbationRows(n int) int {
	return min(int(math.Floor(0.15*float64(n))), maxProbationRows)
}

// sigmoidMaxTP is scaledSigmoid(-1), the weight of a detection on a
// window's first row, used to scale that weight to 1.
var sigmoidMaxTP = scaledSigmoid(-1)

// scaledSigmoid is NAB's weighting curve 2/(1+e^(5y)) - 1: about 1 at
// y = -1, 0 at y = 0 and about -1 for y >= 1. Like NAB it returns exactly -1
// beyond y = 3.
func scaledSigmoid(y float64) float64 {
	if y > 3 {
		return -1
	}
	return 2/(1+math.Exp(5*y)) - 1
}

// SeriesScore is the scoring of one series' detections, independent of the
// profile; Raw applies a profile's weights to it.
type SeriesScore struct {
	// Rows is the number of rows; Probation how many of the first are ignored.
	Rows      int `json:"rows"`
	Probation int `json:"probation_rows"`
	// Windows is the number of labelled windows; Detected how many of them
	// have a detection after the probation period.
	Windows  int `json:"windows"`
	Detected int `json:"detected_windows"`
	// Detections counts detected rows after the probation period;
	// FalsePositives those of them outside every window.
	Detections     int `json:"detections"`
	FalsePositives int `json:"false_positives"`
	// TPWeight is the sum of the earliest detections' weights, in (0, 1] each.
	TPWeight float64 `json:"tp_weight"`
	// FPWeight is the sum of the false detections' costs, in [0, 1] each.
	FPWeight float64 `json:"fp_weight"`
	// DelayRows holds, per detected window, the rows from the window's centre
	// to the earliest detection. The labelled anomaly starts at the centre, so
	// a negative delay is a detection before the anomaly.
	DelayRows []int `json:"delay_rows"`
	// Delays holds the same delays as durations.
	Delays []time.Duration `json:"delays"`
}

// Raw returns the file's NAB score under p: TP·ΣTPWeight − FP·ΣFPWeight −
// FN·missed windows.
func (s SeriesScore) Raw(p Profile) float64 {
	return p.TP*s.TPWeight - p.FP*s.FPWeight - p.FN*float64(s.Windows-s.Detected)
}

// Null returns the score of a detector that never fires: −FN·windows.
func (s SeriesScore) Null(p Profile) float64 {
	return -p.FN * float64(s.Windows)
}

// Perfect returns the best possible score: TP·windows.
func (s SeriesScore) Perfect(p Profile) float64 {
	return p.TP * float64(s.Windows)
}

// rowWindow is a window as an inclusive range of row indices.
type rowWindow struct {
	left, right int
}

// ScoreSeries scores the detections of one series. timestamps must be in
// increasing order and as long as detected; windows may be in any order. A
// window that contains no row is counted as missed.
func ScoreSeries(timestamps []time.Time, detected []bool, windows []Window) SeriesScore {
	n := len(timestamps)
	s := SeriesScore{Rows: n, Probation: ProbationRows(n), Windows: len(windows)}
	ranges := toRowWindows(timestamps, windows)

	next := 0  // index into ranges of the next window not yet ended
	prev := -1 // index of the last window that ended before the row
	hit := make([]bool, len(ranges))
	for i := s.Probation; i < n; i++ {
		for next < len(ranges) && ranges[next].right < i {
			prev = next
			next++
		}
		if !detected[i] {
			continue
		}
		s.Detections++
		if next < len(ranges) && ranges[next].left <= i {
			if !hit[next] {
				hit[next] = true
				s.scoreHit(timestamps, ranges[next], i)
			}
			continue
		}
		s.FalsePositives++
		s.FPWeight += falsePositiveCost(ranges, prev, i)
	}
	return s
}

// scoreHit records the earliest detection i of window w.
func (s *SeriesScore) scoreHit(timestamps []time.Time, w rowWindow, i int) {
	width := w.right - w.left + 1
	y := -1.0
	if width > 1 {
		y = -float64(w.right-i) / float64(width-1)
	}
	s.Detected++
	s.TPWeight += scaledSigmoid(y) / sigmoidMaxTP
	centre := (w.left + w.right) / 2
	s.DelayRows = append(s.DelayRows, i-centre)
	s.Delays = append(s.Delays, timestamps[i].Sub(timestamps[centre]))
}

// falsePositiveCost returns the cost fraction of a detection at row i
// outside every window: 1 with no earlier window, else the reversed sigmoid
// of the distance to the previous window's end in units of its width.
func falsePositiveCost(ranges []rowWindow, prev, i int) float64 {
	if prev < 0 {
		return 1
	}
	w := ranges[prev]
	width := w.right - w.left + 1
	if width <= 1 {
		return 1
	}
	y := float64(i-w.right) / float64(width-1)
	return -scaledSigmoid(y)
}

// toRowWindows maps windows to row ranges, sorted by start. A window
// without rows gets left > right and can never be hit.
func toRowWindows(timestamps []time.Time, windows []Window) []rowWindow {
	out := make([]rowWindow, 0, len(windows))
	for _, w := range windows {
		left := sort.Search(len(timestamps), func(i int) bool { return !timestamps[i].Before(w.Start) })
		right := sort.Search(len(timestamps), func(i int) bool { return timestamps[i].After(w.End) }) - 1
		out = append(out, rowWindow{left: left, right: right})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].left < out[b].left })
	return out
}
