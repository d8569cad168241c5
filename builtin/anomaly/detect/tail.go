package detect

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// tailBinWidth is the width of a tailHistogram bin, in surprisal units.
const tailBinWidth = 0.25

// tailHistogram is an exponentially decayed histogram of a statistic in
// [0, max], which estimates the statistic's upper tail. Instead of scaling
// every bin down at each step, it scales each new sample up (Weight grows by
// Decay per sample) and renormalises rarely. The bins are kept in two
// Fenwick trees, of weights and of weight times bin centre, so Add and Tail
// take O(log bins) time.
type tailHistogram struct {
	// Counts and Centers are Fenwick trees over the bins: Counts of the
	// weights, Centers of the weights times the bins' centres.
	Counts  []float64
	Centers []float64
	Total   float64
	Weight  float64
	Decay   float64
}

func newTailHistogram(horizon int, maxValue float64) tailHistogram {
	n := int(maxValue/tailBinWidth) + 1
	return tailHistogram{
		Counts:  make([]float64, n),
		Centers: make([]float64, n),
		Weight:  1,
		Decay:   1 + 1/float64(horizon),
	}
}

func (h *tailHistogram) bin(x float64) int {
	return min(max(int(x/tailBinWidth), 0), len(h.Counts)-1)
}

func binCenter(i int) float64 {
	return (float64(i) + 0.5) * tailBinWidth
}

// addToBin adds weight w to bin i.
func (h *tailHistogram) addToBin(i int, w float64) {
	c := w * binCenter(i)
	for j := i + 1; j <= len(h.Counts); j += j & -j {
		h.Counts[j-1] += w
		h.Centers[j-1] += c
	}
	h.Total += w
}

// prefix returns the weight and the weighted centres of bins 0 to i-1.
func (h *tailHistogram) prefix(i int) (count, centers float64) {
	for j := i; j > 0; j -= j & -j {
		count += h.Counts[j-1]
		centers += h.Centers[j-1]
	}
	return count, centers
}

// firstAbove returns the number k of leading bins whose total weight is at
// most limit, which is the index of the first bin that takes the prefix sum
// above limit.
func (h *tailHistogram) firstAbove(limit float64) int {
	pos := 0
	step := 1
	for step*2 <= len(h.Counts) {
		step *= 2
	}
	for ; step > 0; step /= 2 {
		if next := pos + step; next <= len(h.Counts) && h.Counts[next-1] <= limit {
			pos = next
			limit -= h.Counts[next-1]
		}
	}
	return pos
}

// Add records x.
func (h *tailHistogram) Add(x float64) {
	h.addToBin(h.bin(x), h.Weight)
	h.Weight *= h.Decay
	if h.Weight > 1e100 {
		for j := range h.Counts {
			h.Counts[j] /= h.Weight
			h.Centers[j] /= h.Weight
		}
		h.Total /= h.Weight
		h.Weight = 1
	}
}

// Tail returns the estimated P(X >= x): the empirical tail up to the bin
// where the top tailFraction of the weight starts, and beyond that bin an
// exponential tail whose scale is the mean excess over it.
func (h *tailHistogram) Tail(x float64) float64 {
	t := min(h.firstAbove(h.Total*(1-tailFraction)), len(h.Counts)-1)
	below, belowCenters := h.prefix(t)
	mass := h.Total - below
	threshold := float64(t) * tailBinWidth
	if x <= threshold || mass <= 0 {
		return h.empiricalTail(x)
	}
	excess := math.Max((h.totalCenters()-belowCenters)/mass-threshold, minTailExcess)
	return mass / h.Total * math.Exp(-(x-threshold)/excess)
}

// empiricalTail returns the weight of the bins from x's bin up, over the
// total.
func (h *tailHistogram) empiricalTail(x float64) float64 {
	below, _ := h.prefix(h.bin(x))
	return math.Min(1, math.Max(0, (h.Total-below)/h.Total))
}

func (h *tailHistogram) totalCenters() float64 {
	_, centers := h.prefix(len(h.Centers))
	return centers
}

// addPrior adds weight pseudo-samples distributed as the mean of
// scoreRecent independent Exp(1) surprisals, Gamma(scoreRecent,
// scoreRecent), which is the recent mean surprisal of a metric that behaves
// as its model expects.
func (h *tailHistogram) addPrior(weight float64) {
	null := distuv.Gamma{Alpha: scoreRecent, Beta: scoreRecent}
	for j := range h.Counts {
		lo, hi := float64(j)*tailBinWidth, float64(j+1)*tailBinWidth
		h.addToBin(j, weight*(null.CDF(hi)-null.CDF(lo)))
	}
}
