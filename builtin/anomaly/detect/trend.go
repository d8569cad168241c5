package detect

// trendState follows the moving average of the last Window points and the
// long-run distribution of that moving average. A trend anomaly is a moving
// average outside its usual range. It is reported once when the shift
// starts, and again only after the moving average has returned within half
// the threshold.
type trendState struct {
	Window int
	Sum    float64
	// Stats is the exponentially weighted distribution of the moving
	// average, with the baseline's horizon.
	Stats ewStats
	// Active is set while a reported shift lasts; Direction is its sign.
	Active    bool
	Direction int
	// RunStart is the timestamp of the first point of the current run of
	// points on one side of the baseline; RunSide is that side (+1 or -1).
	RunStart int64
	RunSide  int
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

// Update adds x, which points already holds as its newest value.
func (t *trendState) Update(points *ring, x float64) {
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
		t.Stats.Update(t.Sum / float64(w))
	}
}

// trackRun records where the current run of points on one side of center
// started, which is reported as the start of a shift.
func (t *trendState) trackRun(ts int64, x, center float64) {
	side := 1
	if x < center {
		side = -1
	}
	if side != t.RunSide {
		t.RunSide = side
		t.RunStart = ts
	}
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
