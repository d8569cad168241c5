package detect

import (
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
)

// DetectPeriod returns the season of values in points, or 0 when there is
// none: the lag between 4 and len(values)/2 with the highest peak of the
// autocorrelation, provided that peak is at least 0.3 and the
// autocorrelation dips at least 0.2 below it at a shorter lag. The
// autocorrelation is computed with an FFT in O(n log n).
func DetectPeriod(values []float64) int {
	n := len(values)
	if n < 4*minPeriodLag {
		return 0
	}
	acf := autocorrelation(values)
	if acf == nil {
		return 0
	}
	best, bestLag := minPeriodPeak, 0
	lowest := acf[1]
	for lag := 2; lag <= n/2 && lag+1 < len(acf); lag++ {
		lowest = min(lowest, acf[lag-1])
		v := acf[lag]
		if lag < minPeriodLag || v < acf[lag-1] || v < acf[lag+1] {
			continue
		}
		if v > best && v-lowest >= minPeriodProminence {
			best, bestLag = v, lag
		}
	}
	return bestLag
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
