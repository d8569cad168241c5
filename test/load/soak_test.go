package load

import (
	"sync"
	"testing"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// soakClients is the number of callers in the soak test. One more caller
// dials a new connection for every soakChurnCalls calls, so that a
// descriptor leaked per connection shows.
const (
	soakClients    = 8
	soakChurnCalls = 20
)

// soakFDGrowth bounds the daemon's descriptor count during the soak, above
// its count at the end of the warm-up. The callers keep a fixed number of
// connections open, and the churning one holds at most one more.
const soakFDGrowth = 4

// sample is one reading of the daemon's resources.
type sample struct {
	at  time.Duration
	rss int64
	fds int
}

func TestSoak(t *testing.T) {
	t.Parallel()
	p := currentProfile()
	d := startDaemon(t)
	d.install(bins.noop, "noop", "")
	d.waitPlugin("noop", apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, nil)
	setUpTenants(t, d, []tenantCase{{
		name: "soak", plan: "enterprise",
		set: &apiv1.Quotas{RequestsPerMinute: unlimited(), ConcurrentExecutions: unlimited()},
	}})
	baseFDs := takeFDBaseline(t, d)

	conn, err := dialDaemon(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := apiv1.NewDaemonClient(conn)

	start := time.Now()
	deadline := start.Add(p.Soak)
	results := newTally()
	var wg sync.WaitGroup
	for range soakClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := callOnce(client, noopID, "soak", []byte(`{"k":"v"}`), callTimeout)
				results.add(resp, err, time.Since(t0))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		churnConnections(deadline, d.socket, results)
	}()

	samples := sampleResources(t, d.pid(), start, deadline)
	wg.Wait()

	if results.failed != 0 || results.ok != results.attempts {
		t.Errorf("%d of %d calls did not succeed; first error: %v", results.attempts-results.ok, results.attempts, results.firstError)
	}
	t.Logf("profile %s: %d calls in %s (%.0f/s)", p.Name, results.attempts, p.Soak, float64(results.attempts)/p.Soak.Seconds())
	checkSoakSamples(t, p, samples)
	conn.Close()
	checkFDsReturn(t, d, baseFDs)
	d.stop()
	checkNoOrphans(t, d.dataDir)
}

// churnConnections calls through a new connection for every soakChurnCalls
// calls until deadline.
func churnConnections(deadline time.Time, socket string, results *tally) {
	for time.Now().Before(deadline) {
		conn, err := dialDaemon(socket)
		if err != nil {
			results.add(nil, err, 0)
			return
		}
		client := apiv1.NewDaemonClient(conn)
		for range soakChurnCalls {
			t0 := time.Now()
			resp, err := callOnce(client, noopID, "soak", []byte(`{"k":"v"}`), callTimeout)
			results.add(resp, err, time.Since(t0))
		}
		conn.Close()
	}
}

// sampleResources reads the RSS and descriptor count of pid about 100
// times until deadline, at most every 200 ms.
func sampleResources(t *testing.T, pid int, start, deadline time.Time) []sample {
	t.Helper()
	interval := max(deadline.Sub(start)/100, 200*time.Millisecond)
	var samples []sample
	for time.Now().Before(deadline) {
		rss, err := rssBytes(pid)
		if err != nil {
			t.Error(err)
			return samples
		}
		fds, err := fdCount(pid)
		if err != nil {
			t.Error(err)
			return samples
		}
		samples = append(samples, sample{at: time.Since(start), rss: rss, fds: fds})
		time.Sleep(interval)
	}
	return samples
}

// checkSoakSamples fails the test when, after the warm-up, the daemon's
// RSS grows by more than the profile's bound or its descriptor count by
// more than soakFDGrowth. The warm-up is the first quarter of the run, in
// which caches, pools and the heap reach their working size.
func checkSoakSamples(t *testing.T, p profile, samples []sample) {
	t.Helper()
	if len(samples) < 8 {
		t.Fatalf("only %d samples of the daemon's resources, want at least 8", len(samples))
	}
	warm := samples[len(samples)/4]
	peak := warm
	for _, s := range samples[len(samples)/4:] {
		if s.rss > peak.rss {
			peak.rss, peak.at = s.rss, s.at
		}
		peak.fds = max(peak.fds, s.fds)
	}
	first, last := samples[0], samples[len(samples)-1]
	t.Logf("profile %s: soak of %s, %d samples: RSS %.1f MiB at start, %.1f MiB after warm-up (%s), peak %.1f MiB (%s), last %.1f MiB; descriptors %d at start, %d after warm-up, peak %d, last %d",
		p.Name, p.Soak, len(samples), mib(first.rss), mib(warm.rss), warm.at.Round(time.Second), mib(peak.rss), peak.at.Round(time.Second), mib(last.rss),
		first.fds, warm.fds, peak.fds, last.fds)
	if growth := peak.rss - warm.rss; growth > p.RSSGrowthBytes {
		t.Errorf("daemon RSS grew by %.1f MiB after the warm-up, above the bound of %.1f MiB", mib(growth), mib(p.RSSGrowthBytes))
	}
	if growth := peak.fds - warm.fds; growth > soakFDGrowth {
		t.Errorf("daemon descriptors grew by %d after the warm-up, above the bound of %d", growth, soakFDGrowth)
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
