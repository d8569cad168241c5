package bench

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// concurrentCallers is the number of goroutines calling at once in the
// loaded runs.
const concurrentCallers = 16

// warmupCalls are made before the timer starts, so that connections are
// open and lazily built state exists before the first timed call.
const warmupCalls = 200

// runTimeout bounds one timed run, so that a call that never returns fails
// the benchmark instead of hanging it.
const runTimeout = 2 * time.Minute

// callFunc performs one call and returns an error when it failed.
type callFunc func(ctx context.Context) error

// measureCalls makes n calls from callers goroutines and returns the
// latency of each call, sorted, and the wall time of the whole run. It stops
// at the first failed call and returns its error.
func measureCalls(ctx context.Context, n, callers int, call callFunc) ([]time.Duration, time.Duration, error) {
	var (
		next     atomic.Int64
		failed   atomic.Bool
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	perCaller := make([][]time.Duration, callers)
	start := time.Now()
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			latencies := make([]time.Duration, 0, n/callers+1)
			for next.Add(1) <= int64(n) && !failed.Load() {
				t0 := time.Now()
				err := call(ctx)
				latencies = append(latencies, time.Since(t0))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
			perCaller[c] = latencies
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, elapsed, firstErr
	}
	all := make([]time.Duration, 0, n)
	for _, latencies := range perCaller {
		all = append(all, latencies...)
	}
	slices.Sort(all)
	return all, elapsed, nil
}

// benchCalls makes b.N timed calls from callers goroutines, after a warm-up,
// and reports the latency percentiles and the throughput beside ns/op. With
// more than one caller, ns/op is wall time divided by calls, the inverse of
// the throughput.
func benchCalls(b *testing.B, callers int, call callFunc) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	if _, _, err := measureCalls(ctx, warmupCalls, callers, call); err != nil {
		b.Fatalf("warm-up call failed: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	latencies, elapsed, err := measureCalls(ctx, b.N, callers, call)
	b.StopTimer()
	if err != nil {
		b.Fatalf("call failed: %v", err)
	}
	reportLatency(b, "", latencies, elapsed)
}

// reportLatency reports the p50 and p99 of sorted latencies in
// microseconds, and calls per second over elapsed. prefix distinguishes the
// paths of a benchmark that measures more than one.
func reportLatency(b *testing.B, prefix string, sorted []time.Duration, elapsed time.Duration) {
	b.Helper()
	b.ReportMetric(microseconds(percentile(sorted, 50)), prefix+"p50-µs")
	b.ReportMetric(microseconds(percentile(sorted, 99)), prefix+"p99-µs")
	b.ReportMetric(float64(len(sorted))/elapsed.Seconds(), prefix+"calls/s")
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method, or 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func microseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Microsecond)
}

// callerCounts are the sub-benchmarks of every call benchmark: one caller
// for the latency of a lone call, and concurrentCallers for throughput and
// latency under load.
var callerCounts = []int{1, concurrentCallers}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Microsecond
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "empty", sorted: nil, p: 50, want: 0},
		{name: "single value", sorted: []time.Duration{7}, p: 99, want: 7},
		{name: "median of odd count", sorted: []time.Duration{1, 2, 3}, p: 50, want: 2},
		{name: "median of even count", sorted: []time.Duration{1, 2, 3, 4}, p: 50, want: 2},
		{name: "p50 of hundred", sorted: hundred, p: 50, want: 50 * time.Microsecond},
		{name: "p99 of hundred", sorted: hundred, p: 99, want: 99 * time.Microsecond},
		{name: "p100 is max", sorted: hundred, p: 100, want: 100 * time.Microsecond},
		{name: "p0 is min", sorted: hundred, p: 0, want: time.Microsecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tc.sorted), tc.p, got, tc.want)
			}
		})
	}
}

func TestMeasureCalls(t *testing.T) {
	t.Run("counts every call", func(t *testing.T) {
		var calls atomic.Int64
		latencies, _, err := measureCalls(context.Background(), 1000, concurrentCallers, func(context.Context) error {
			calls.Add(1)
			return nil
		})
		if err != nil {
			t.Fatalf("measureCalls returned %v, want nil", err)
		}
		if got := calls.Load(); got != 1000 {
			t.Errorf("made %d calls, want 1000", got)
		}
		if len(latencies) != 1000 {
			t.Errorf("returned %d latencies, want 1000", len(latencies))
		}
		if !slices.IsSorted(latencies) {
			t.Error("latencies are not sorted")
		}
	})
	t.Run("returns the error of a failed call", func(t *testing.T) {
		var calls atomic.Int64
		latencies, _, err := measureCalls(context.Background(), 1000, concurrentCallers, func(context.Context) error {
			if calls.Add(1) >= 10 {
				return context.DeadlineExceeded
			}
			return nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("measureCalls returned %v, want %v", err, context.DeadlineExceeded)
		}
		if latencies != nil {
			t.Errorf("returned %d latencies with the error, want none", len(latencies))
		}
	})
}
