package anomaly

import (
	"runtime"
	"testing"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

// BenchmarkModelMemoryMaxRetention reports the heap bytes held per metric
// at the largest retention_points that the schema allows, with every
// detector on and a 1440-point season, once the retention is full.
func BenchmarkModelMemoryMaxRetention(b *testing.B) {
	const metrics = 4
	const retention = 65536
	cfg := detect.Config{
		RetentionPoints: retention,
		EnableSeasonal:  true,
		SeasonalPeriod:  detect.SeasonalPeriod{Points: 1440},
	}
	pts := points(101, retention+1000, 100)
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		models := make([]*detect.Model, metrics)
		for i := range models {
			m, err := detect.NewModel("m", cfg)
			if err != nil {
				b.Fatal(err)
			}
			for _, pt := range pts {
				m.Observe(pt.Timestamp.Time, pt.Value, nil)
			}
			models[i] = m
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/metrics, "bytes/metric")
		runtime.KeepAlive(models)
	}
}
