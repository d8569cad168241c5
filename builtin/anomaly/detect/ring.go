package detect

// ring is a fixed-capacity buffer of the newest points, oldest first when
// read with At. Timestamps are Unix nanoseconds.
type ring struct {
	Times  []int64
	Values []float64
	// Head is the index of the oldest point; Len the number of points held.
	Head int
	Len  int
}

func newRing(capacity int) ring {
	return ring{Times: make([]int64, capacity), Values: make([]float64, capacity)}
}

// Push appends a point, overwriting the oldest when full.
func (r *ring) Push(ts int64, v float64) {
	c := len(r.Values)
	if r.Len < c {
		i := (r.Head + r.Len) % c
		r.Times[i], r.Values[i] = ts, v
		r.Len++
		return
	}
	r.Times[r.Head], r.Values[r.Head] = ts, v
	r.Head = (r.Head + 1) % c
}

// At returns the i-th point, 0 being the oldest held.
func (r *ring) At(i int) (int64, float64) {
	j := (r.Head + i) % len(r.Values)
	return r.Times[j], r.Values[j]
}

// Back returns the value k points before the newest, 0 being the newest.
func (r *ring) Back(k int) float64 {
	_, v := r.At(r.Len - 1 - k)
	return v
}

// CopyValues appends the held values, oldest first, to dst.
func (r *ring) CopyValues(dst []float64) []float64 {
	for i := 0; i < r.Len; i++ {
		_, v := r.At(i)
		dst = append(dst, v)
	}
	return dst
}
