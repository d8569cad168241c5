package detect

import (
	"math"
	"testing"
)

// TestTailHistogramMatchesDirectSums checks the Fenwick-tree histogram
// against sums over a plain copy of its bins.
func TestTailHistogramMatchesDirectSums(t *testing.T) {
	h := newTailHistogram(100, maxSurprisal)
	plain := make([]float64, len(h.Counts))
	values := noisy(70, 3000, 2, 1.5)
	w := 1.0
	for i, v := range values {
		v = math.Abs(v)
		if i%97 == 0 {
			v = 25
		}
		plain[h.bin(v)] += w
		w *= h.Decay
		h.Add(v)
	}

	total := 0.0
	for _, b := range plain {
		total += b
	}
	scale := h.Total / total // both decay alike; only renormalisation differs
	for _, x := range []float64{0, 0.3, 1, 2.6, 5, 12, 24.9} {
		mass := 0.0
		for j := h.bin(x); j < len(plain); j++ {
			mass += plain[j] * scale
		}
		if got, want := h.empiricalTail(x), mass/h.Total; math.Abs(got-want) > 1e-9 {
			t.Errorf("empiricalTail(%v) = %v, want %v", x, got, want)
		}
	}

	// The tail threshold bin is the highest bin whose suffix holds at least
	// tailFraction of the weight.
	want := 0
	for j, suffix := len(plain)-1, 0.0; j >= 0; j-- {
		suffix += plain[j] * scale
		if suffix >= tailFraction*h.Total {
			want = j
			break
		}
	}
	if got := h.firstAbove(h.Total * (1 - tailFraction)); got != want {
		t.Errorf("threshold bin %d, want %d", got, want)
	}
	if p := h.Tail(40); p <= 0 || p >= tailFraction {
		t.Errorf("Tail(40) = %v, want a small positive probability", p)
	}
	if p := h.Tail(0); math.Abs(p-1) > 1e-9 {
		t.Errorf("Tail(0) = %v, want 1", p)
	}
}
