package detect

import (
	"runtime"
	"testing"
	"time"
)

// benchmarkObserve reports points per second of Observe on Gaussian noise
// with occasional spikes, after a warm-up that fills the retention.
func benchmarkObserve(b *testing.B, cfg Config) {
	m := newTestModel(b, cfg)
	values := noisy(60, 1<<16, 100, 5)
	for i := 0; i < len(values); i += 997 {
		values[i] += 100
	}
	feed(b, m, values[:2048])
	step := time.Minute
	ts := t0.Add(2048 * step)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.Observe(ts, values[i&(len(values)-1)], nil)
		ts = ts.Add(step)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkObserveStatistical runs the statistical detectors only: the
// baseline z-score, the local level and the volatility, with the score.
func BenchmarkObserveStatistical(b *testing.B) {
	benchmarkObserve(b, Config{EnableTrend: new(false), EnablePattern: new(false)})
}

// BenchmarkObserveAll runs every detector, with seasonality on a 1440-point
// (daily at one minute) period.
func BenchmarkObserveAll(b *testing.B) {
	benchmarkObserve(b, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Points: 1440}, Robust: true})
}

// BenchmarkModelMemory reports the heap bytes held per metric at the
// default retention with every detector on and a 1440-point season.
func BenchmarkModelMemory(b *testing.B) {
	const metrics = 64
	cfg := Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Points: 1440}}
	values := noisy(61, 2*DefaultRetentionPoints, 100, 5)
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		models := make([]*Model, metrics)
		for i := range models {
			models[i] = newTestModel(b, cfg)
			feed(b, models[i], values)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/metrics, "bytes/metric")
		runtime.KeepAlive(models)
	}
}
