package detect

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/stat"
)

// Period detection thresholds on the autocorrelation function.
const (
	// minPeriodPeak is the autocorrelation a lag needs to be a period.
	minPeriodPeak = 0.3
	// minPeriodProminence is how far the autocorrelation must dip between
	// lag 0 and the period, which rules out the slow decay of a trend.
	minPeriodProminence = 0.2
	// minPeriodLag is the shortest period searched for.
	minPeriodLag = 4
	// basePeriodTolerance is how much lower than the highest peak the peak
	// of a shorter lag may be and still be the base period, when the
	// highest peak is at a multiple of that lag.
	basePeriodTolerance = 0.05
	// periodMultipleSlack is how far below the base period's peak a peak at
	// three or more times its lag may be and still be chosen as the period.
	periodMultipleSlack = 0.1
	// periodMultipleLead is how far that peak must stand above the
	// autocorrelation at every shorter multiple, which a plain repetition
	// of the base period does not do.
	periodMultipleLead = 0.05
)

// DetectPeriod returns the season of values in points, or 0 when there is
// none. It looks for peaks of the autocorrelation at lags between 4 and
// len(values)/2 that reach at least 0.3 and stand at least 0.2 above the
// lowest autocorrelation at a shorter lag. The base period is the lag of
// the highest peak, or the shortest lag it is a multiple of whose peak is
// at most 0.05 lower. A peak at three or more times the base period
// replaces it if it is at most 0.1 lower and 0.05 higher than at every
// shorter multiple. The longest such lag is the period, so that a weekly
// season is kept over the daily one it contains. The autocorrelation is
// computed with an FFT in O(n log n).
func DetectPeriod(values []float64) int {
	n := len(values)
	if n < 4*minPeriodLag {
		return 0
	}
	acf := autocorrelation(values)
	if acf == nil {
		return 0
	}
	// The biased estimate shrinks lag l by (n-l)/n, which hides long
	// periods. Undo half of that shrinkage: the fully unbiased estimate is
	// too noisy at long lags, where few pairs of points remain.
	for lag := 1; lag < n; lag++ {
		acf[lag] *= math.Sqrt(float64(n) / float64(n-lag))
	}
	peaks := periodPeaks(acf, n/2)
	if len(peaks) == 0 {
		return 0
	}
	base := basePeriod(acf, peaks)
	period := base
	for _, lag := range peaks {
		if lag > period && acf[lag] >= acf[base]-periodMultipleSlack && leadsMultiples(acf, lag, base) {
			period = lag
		}
	}
	return refinePeriod(values, period)
}

// refinePeriod returns the lag within 2% (at least one point) of period
// at which the values differ least from the values one lag earlier: the
// smallest mean squared difference of values[i] and values[i+lag]. The
// autocorrelation that the peaks are chosen on is shrunk more at longer
// lags and depends on the mean of the retained points, which a partial
// cycle moves, so its peak can fall short of the period: on 1024 points of
// a smooth daily cycle of 288 points it peaked at 283. A period 5 points
// short puts the phases 35 points out of step after a week.
func refinePeriod(values []float64, period int) int {
	n := len(values)
	slack := max(1, period/50)
	best, bestDiff := period, math.Inf(1)
	for lag := max(minPeriodLag, period-slack); lag <= period+slack && lag < n; lag++ {
		sum := 0.0
		for i := lag; i < n; i++ {
			d := values[i] - values[i-lag]
			sum += d * d
		}
		if diff := sum / float64(n-lag); diff < bestDiff {
			best, bestDiff = lag, diff
		}
	}
	return best
}

// basePeriod returns the lag of the highest of peaks, or the shortest lag
// that it is a multiple of whose peak is at most basePeriodTolerance lower:
// noise can lift a multiple of the true period above it.
func basePeriod(acf []float64, peaks []int) int {
	best := peaks[0]
	for _, lag := range peaks[1:] {
		if acf[lag] > acf[best] {
			best = lag
		}
	}
	for _, lag := range peaks {
		if multipleOf(best, lag) >= 2 && acf[lag] >= acf[best]-basePeriodTolerance {
			return lag
		}
	}
	return best
}

// leadsMultiples reports whether lag is three or more times base and its
// autocorrelation exceeds that at every shorter multiple, from two times
// base, by periodMultipleLead. A weekly season passes this test because the
// days of the week differ, and a repeated daily season does not.
func leadsMultiples(acf []float64, lag, base int) bool {
	k := multipleOf(lag, base)
	if k < 3 {
		return false
	}
	for j := 2; j < k; j++ {
		if acfNear(acf, j*base) > acf[lag]-periodMultipleLead {
			return false
		}
	}
	return true
}

// multipleOf returns k when lag is within 2% (at least one point) of k
// times base, and 0 otherwise.
func multipleOf(lag, base int) int {
	k := int(math.Round(float64(lag) / float64(base)))
	if k < 1 || math.Abs(float64(lag-k*base)) > math.Max(1, 0.02*float64(lag)) {
		return 0
	}
	return k
}

// acfNear returns the highest autocorrelation within 2% (at least one
// point) of lag.
func acfNear(acf []float64, lag int) float64 {
	slack := max(1, lag/50)
	best := math.Inf(-1)
	for l := max(1, lag-slack); l <= lag+slack && l < len(acf); l++ {
		best = max(best, acf[l])
	}
	return best
}

// periodPeaks returns, in increasing order, the lags from minPeriodLag to
// maxLag where acf has a local maximum of at least minPeriodPeak that is at
// least minPeriodProminence above the lowest value at a shorter lag.
func periodPeaks(acf []float64, maxLag int) []int {
	var peaks []int
	lowest := acf[1]
	for lag := 2; lag <= maxLag && lag+1 < len(acf); lag++ {
		lowest = min(lowest, acf[lag-1])
		v := acf[lag]
		if lag < minPeriodLag || v < acf[lag-1] || v < acf[lag+1] {
			continue
		}
		if v >= minPeriodPeak && v-lowest >= minPeriodProminence {
			peaks = append(peaks, lag)
		}
	}
	return peaks
}

// autocorrelation returns the biased autocorrelation of values for lags 0
// to len(values)-1, normalised so that lag 0 is 1, or nil for a constant
// series.
func autocorrelation(values []float64) []float64 {
	n := len(values)
	mean := stat.Mean(values, nil)
	size := 1
	for size < 2*n {
		size <<= 1
	}
	seq := make([]float64, size)
	for i, v := range values {
		seq[i] = v - mean
	}
	fft := fourier.NewFFT(size)
	coeff := fft.Coefficients(nil, seq)
	for i, c := range coeff {
		a := cmplx.Abs(c)
		coeff[i] = complex(a*a, 0)
	}
	acf := fft.Sequence(seq, coeff)
	if acf[0] <= 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = acf[i] / acf[0]
	}
	return out
}
