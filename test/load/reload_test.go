package load

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// reloadEvery is the interval between two plugin replacements in the
// reload test.
const reloadEvery = time.Second

// reloadTenant is the tenant of the reload test's calls, with no rate or
// concurrency limit, so that every failed call is a fault.
const reloadTenant = "reload"

func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	p := currentProfile()
	d := startDaemon(t)
	ids := make([]string, p.ReloadPlugins)
	for i := range ids {
		ids[i] = fmt.Sprintf("load-%02d", i)
		d.install(bins.selfid, ids[i], idTrailer(ids[i], 0))
	}
	for _, id := range ids {
		d.waitPlugin(id, apiv1.PluginState_PLUGIN_STATE_RUNNING, 60*time.Second, nil)
	}
	setUpTenants(t, d, []tenantCase{{
		name: reloadTenant, plan: "enterprise",
		set: &apiv1.Quotas{RequestsPerMinute: unlimited(), ConcurrentExecutions: unlimited()},
	}})
	baseFDs := takeFDBaseline(t, d)

	conns := make([]*grpc.ClientConn, 4)
	for i := range conns {
		conn, err := dialDaemon(d.socket)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conns[i] = conn
	}

	start := time.Now()
	deadline := start.Add(p.ReloadDuration)
	results := newTally()
	var wg sync.WaitGroup
	for c := range p.Clients {
		client := apiv1.NewDaemonClient(conns[c%len(conns)])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := c; time.Now().Before(deadline); n++ {
				t0 := time.Now()
				resp, err := callOnce(client, ids[n%len(ids)], reloadTenant, []byte(`{"k":"v"}`), callTimeout)
				results.add(resp, err, time.Since(t0))
			}
		}()
	}

	// Replace one plugin every second, round robin, while the callers run.
	reloaded := map[string]int{}
	for generation := 1; time.Now().Add(reloadEvery).Before(deadline); generation++ {
		time.Sleep(reloadEvery)
		id := ids[(generation-1)%len(ids)]
		d.install(bins.selfid, id, idTrailer(id, generation))
		reloaded[id] = generation
	}
	wg.Wait()
	elapsed := time.Since(start)

	if results.failed != 0 {
		t.Errorf("%d of %d calls failed during reloads; first: %v", results.failed, results.attempts, results.firstError)
	}
	if results.rateLimit != 0 || len(results.quota) != 0 {
		t.Errorf("rejections for a tenant without limits: rate limit %d, quotas %v", results.rateLimit, results.quota)
	}
	for id, generation := range reloaded {
		want := fileSHA256(t, bins.selfid, idTrailer(id, generation))
		d.waitPlugin(id, apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, func(p *apiv1.PluginInfo) bool {
			return p.Sha256 == want
		})
	}
	p50, p99, p999 := results.latencySummary()
	t.Logf("profile %s: %d plugins, %d reloads, %d clients, %s: %d calls (%.0f/s), %d failed; latency p50 %s, p99 %s, p99.9 %s",
		p.Name, len(ids), len(reloaded), p.Clients, elapsed.Round(time.Millisecond), results.attempts,
		float64(results.attempts)/elapsed.Seconds(), results.failed, p50, p99, p999)

	for _, conn := range conns {
		conn.Close()
	}
	checkFDsReturn(t, d, baseFDs)
	d.stop()
	checkNoOrphans(t, d.dataDir)
}

// fileSHA256 returns the hex SHA-256 of src with trailer appended: the
// digest the daemon lists for such a plugin file.
func fileSHA256(t *testing.T, src, trailer string) string {
	t.Helper()
	data, err := readWithTrailer(src, trailer)
	if err != nil {
		t.Fatal(err)
	}
	return sha256Hex(data)
}
