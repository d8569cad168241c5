package detect

import (
	"math/rand/v2"
	"testing"
	"time"
)

// t0 is the first timestamp of every synthetic series.
var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// feed observes values at a one-minute step starting at t0 and returns the
// results.
func feed(t testing.TB, m *Model, values []float64) []Result {
	t.Helper()
	out := make([]Result, len(values))
	for i, v := range values {
		out[i] = m.Observe(t0.Add(time.Duration(i)*time.Minute), v, nil)
	}
	return out
}

// noisy returns n values of mean mu and standard deviation sd.
func noisy(seed uint64, n int, mu, sd float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = mu + sd*r.NormFloat64()
	}
	return out
}

// anomalyIndices returns the indices of results that are anomalies.
func anomalyIndices(results []Result) []int {
	var idx []int
	for i, r := range results {
		if r.IsAnomaly {
			idx = append(idx, i)
		}
	}
	return idx
}

func newTestModel(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := NewModel("response_time", cfg)
	if err != nil {
		t.Fatalf("NewModel: %v", err)
	}
	return m
}

// roundTrip encodes m and decodes the encoding into a new model.
func roundTrip(t testing.TB, m *Model) *Model {
	t.Helper()
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	restored, err := UnmarshalModel(data)
	if err != nil {
		t.Fatalf("UnmarshalModel: %v", err)
	}
	return restored
}
