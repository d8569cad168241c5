package dbfault

import (
	"slices"
	"testing"
	"time"
)

// The benchmarks measure what a transparent proxy adds to one query round
// trip on loopback. Each iteration runs the same query once on a direct
// connection and once through the proxy, so that both see the same machine
// load, and the reported metrics are the median of each and their
// difference:
//
//	go test -run '^$' -bench RoundTrip -benchtime 5000x ./builtin/dbfault/

func BenchmarkPostgresRoundTrip(b *testing.B) {
	_, upstream := requirePostgres(b)
	p := newTestPlugin(b)
	configure(b, p, ProxyConfig{Name: "pg", Upstream: upstream, Protocol: ProtocolPostgres})
	direct := connectPostgres(b, upstream, nil)
	proxied := connectPostgres(b, proxyAddress(b, p, "pg"), nil)
	ctx := testContext(b)

	query := func(run func() error) time.Duration {
		start := time.Now()
		if err := run(); err != nil {
			b.Fatalf("query: %v", err)
		}
		return time.Since(start)
	}
	measureRoundTrips(b,
		func() time.Duration {
			return query(func() error { _, err := direct.Exec(ctx, `SELECT 1`); return err })
		},
		func() time.Duration {
			return query(func() error { _, err := proxied.Exec(ctx, `SELECT 1`); return err })
		},
	)
}

func BenchmarkMySQLRoundTrip(b *testing.B) {
	cfg := requireMySQL(b)
	p := newTestPlugin(b)
	configure(b, p, ProxyConfig{Name: "my", Upstream: cfg.Addr, Protocol: ProtocolMySQL})
	direct := mustMySQLConn(b, cfg.Addr, nil)
	proxied := mustMySQLConn(b, proxyAddress(b, p, "my"), nil)
	ctx := testContext(b)

	query := func(run func() error) time.Duration {
		start := time.Now()
		if err := run(); err != nil {
			b.Fatalf("query: %v", err)
		}
		return time.Since(start)
	}
	var n int
	measureRoundTrips(b,
		func() time.Duration {
			return query(func() error { return direct.QueryRowContext(ctx, `SELECT 1`).Scan(&n) })
		},
		func() time.Duration {
			return query(func() error { return proxied.QueryRowContext(ctx, `SELECT 1`).Scan(&n) })
		},
	)
}

// measureRoundTrips warms both connections up, runs b.N interleaved round
// trips and reports their medians in microseconds.
func measureRoundTrips(b *testing.B, direct, proxied func() time.Duration) {
	for range 200 {
		direct()
		proxied()
	}
	directTimes := make([]time.Duration, 0, b.N)
	proxiedTimes := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		directTimes = append(directTimes, direct())
		proxiedTimes = append(proxiedTimes, proxied())
	}
	b.StopTimer()
	directP50, proxiedP50 := median(directTimes), median(proxiedTimes)
	b.ReportMetric(micros(directP50), "direct-p50-µs")
	b.ReportMetric(micros(proxiedP50), "proxied-p50-µs")
	b.ReportMetric(micros(proxiedP50-directP50), "added-p50-µs")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func micros(d time.Duration) float64 {
	return float64(d) / float64(time.Microsecond)
}
