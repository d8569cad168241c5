package detect

// trendState follows the moving average of the last Window points and the
// long-run distribution of that moving average. A trend anomaly is a moving
// average outside its usual range. A shift is reported once, and another
// only after the moving average has returned within half the threshold.
type trendState struct {
	Window int
	Sum    float64
	// Stats is the exponentially weighted distribution of the moving
	// average, with the baseline's horizon.
	Stats ewStats
	// Active is set while a shift lasts; Direction is its sign.
	// ReportedStart is the start of the newest shift that raised an
	// anomaly, in Unix nanoseconds.
	Active        bool
	Direction     int
	ReportedStart int64
	// LevelSide is the side (+1 above, -1 below) of the newest level shift
	// reported as a trend. It returns to 0 once both the moving average and
	// the mean of the last three moving-average windows are back at the
	// baseline's center or beyond it. LevelReported is the moving average
	// at that report.
	LevelSide     int
	LevelReported float64
	// RunStart is the timestamp of the first point of the current run of
	// points on one side of the baseline, and RunSide that side (+1 or -1).
	// They are kept only for models encoded before Up and Down existed.
	RunStart int64
	RunSide  int
	// Up and Down are a two-sided CUSUM of the points' baseline z-scores
	// with reference trendStartDrift. UpStart and DownStart are the
	// timestamps, in Unix nanoseconds, at which each sum last rose from
	// zero: the start of a shift that the moving average confirms later.
	Up, Down           float64
	UpStart, DownStart int64
	// SinceExact counts updates since Sum was last recomputed exactly.
	SinceExact int
}

// exactSumEvery bounds floating-point drift of the running sum.
const exactSumEvery = 4096

func newTrendState(cfg Config) trendState {
	return trendState{Window: cfg.MovingAverageWindow, Stats: newEWStats(cfg.BaselineWindow)}
}

// trendWarmup is the number of windows of moving averages that the trend
// detector learns from before it scores. The spread of the first few,
// overlapping moving averages is too small, and would make ordinary points
// of a young metric look like a shift.
const trendWarmup = 3

// Peek returns the moving average that x would make and its z-score
// against the moving average's usual range. ok is false until the window
// is filled and trendWarmup windows of moving averages have been seen.
func (t *trendState) Peek(points *ring, x float64) (ma, z float64, ok bool) {
	w := t.Window
	if points.Len < w || t.Stats.N < int64(trendWarmup*w) {
		return 0, 0, false
	}
	ma = (t.Sum - points.Back(w-1) + x) / float64(w)
	sd := max(t.Stats.StdDev(), spreadFloor(t.Stats.Mean))
	return ma, (ma - t.Stats.Mean) / sd, true
}

// Update adds x, which points already holds as its newest value. When clip
// is positive, the moving average is clipped to clip spreads of its usual
// range before the range learns it.
func (t *trendState) Update(points *ring, x float64, clip float64) {
	w := t.Window
	t.Sum += x
	if points.Len > w {
		t.Sum -= points.Back(w)
	}
	t.SinceExact++
	if t.SinceExact >= exactSumEvery {
		t.SinceExact = 0
		t.Sum = 0
		for k := 0; k < min(w, points.Len); k++ {
			t.Sum += points.Back(k)
		}
	}
	if points.Len >= w {
		ma := t.Sum / float64(w)
		if clip > 0 && t.Stats.N >= int64(trendWarmup*w) {
			sd := max(t.Stats.StdDev(), spreadFloor(t.Stats.Mean))
			ma = max(t.Stats.Mean-clip*sd, min(t.Stats.Mean+clip*sd, ma))
		}
		t.Stats.Update(ma)
	}
}

// trendStartDrift is the reference value, in standard deviations, of the
// sums that date a shift's start: the sums of ordinary noise return to zero
// within a few points, while a drift's sum starts once its mean passes
// 0.75 standard deviations. At 0.5 a level shift's start was dated 6
// points early in TestModelLevelShiftReportedOnce.
const trendStartDrift = 0.75

// trackStart adds the baseline z-score z of the point at ts to the sums
// that date a shift's start.
func (t *trendState) trackStart(ts int64, z float64) {
	z = max(-shiftClip, min(shiftClip, z))
	up, down := max(0, t.Up+z-trendStartDrift), max(0, t.Down-z-trendStartDrift)
	if t.Up == 0 && up > 0 {
		t.UpStart = ts
	}
	if t.Down == 0 && down > 0 {
		t.DownStart = ts
	}
	t.Up, t.Down = up, down
}

// start returns the start of the current shift upward (or downward) of a
// point at ts: where the sum on that side last rose from zero, or ts when
// that sum is zero.
func (t *trendState) start(ts int64, upward bool) int64 {
	switch {
	case upward && t.Up > 0:
		return t.UpStart
	case !upward && t.Down > 0:
		return t.DownStart
	}
	return ts
}

// step decides whether z starts a new shift at threshold k. It returns
// true once per shift.
func (t *trendState) step(z, k float64) bool {
	dir := 1
	if z < 0 {
		dir = -1
	}
	abs := z * float64(dir)
	switch {
	case t.Active && (abs < k/2 || dir != t.Direction):
		t.Active = false
	case !t.Active && abs >= k:
		t.Active, t.Direction = true, dir
		return true
	}
	return false
}

// markReported records that the level's shift upward (or downward) at the
// point at ts has raised an anomaly. The trend detector then does not
// report that shift again, even when its moving average dips within half
// the threshold and rises again.
func (t *trendState) markReported(ts int64, upward bool) {
	dir := 1
	if !upward {
		dir = -1
	}
	if !t.Active || t.Direction != dir {
		t.Active, t.Direction = true, dir
	}
	t.ReportedStart = t.start(ts, upward)
}

// pending reports whether the shift upward (or downward) of the point at
// ts is active and not reported yet.
func (t *trendState) pending(ts int64, upward bool) bool {
	return t.Active && t.start(ts, upward) != t.ReportedStart
}
