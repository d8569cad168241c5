package detect

import (
	"math"
	"testing"
)

func TestCombineSeasonalReplacesBaseline(t *testing.T) {
	var ev evaluation
	ev.setZ(compStatistical, 6) // far from the season-blind baseline
	ev.has[compPattern], ev.surprisals[compPattern] = true, 5
	ev.setZ(compLocal, 1)

	ev.combine()
	if want := surprisal(3 * twoSidedTail(6)); math.Abs(ev.surprise-want) > 1e-9 {
		t.Fatalf("surprise %.3f without a seasonal baseline, want %.3f from the baseline z-score of 6 over 3 detectors", ev.surprise, want)
	}

	// The same value is ordinary for its seasonal phase.
	ev.seasonal = true
	ev.setZ(compSeasonal, 1.5)
	ev.combine()
	if want := surprisal(2 * twoSidedTail(1.5)); math.Abs(ev.surprise-want) > 1e-9 {
		t.Errorf("surprise %.3f with a seasonal baseline, want %.3f from the seasonal z-score of 1.5 over the local and seasonal detectors", ev.surprise, want)
	}
}
