package load

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// faultTenant is the tenant of the fault tests' calls, without rate or
// concurrency limits, so that every rejection is a fault.
const faultTenant = "faults"

// storageID is the plugin id of the storage test plugin.
const storageID = "storage"

// Bounds of the background load: each caller stops at the stop signal or
// after this many calls, whichever comes first.
const (
	backgroundCallers  = 2
	backgroundMaxCalls = 20_000
	backgroundMaxPuts  = 2_000
	backgroundPutPause = 5 * time.Millisecond
)

// background is the load that runs while a fault is injected: callers of
// the no-op plugin, and one writer that stores keys through the storage
// plugin and remembers every write the daemon acknowledged.
type background struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	calls *tally
	puts  *tally

	mu    sync.Mutex
	acked []string
}

// startBackground starts the load on d's current connection.
func startBackground(d *daemon) *background {
	b := &background{stop: make(chan struct{}), calls: newTally(), puts: newTally()}
	client := d.client
	for range backgroundCallers {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for range backgroundMaxCalls {
				if b.stopped() {
					return
				}
				t0 := time.Now()
				resp, err := callOnce(client, noopID, faultTenant, []byte(`{"k":"v"}`), callTimeout)
				b.calls.add(resp, err, time.Since(t0))
			}
		}()
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for n := range backgroundMaxPuts {
			if b.stopped() {
				return
			}
			key := fmt.Sprintf("key-%05d", n)
			params := fmt.Sprintf(`{"op":"put","key":%q,"value":"value of %s"}`, key, key)
			t0 := time.Now()
			resp, err := callOnce(client, storageID, faultTenant, []byte(params), callTimeout)
			if b.puts.add(resp, err, time.Since(t0)) == outcomeOK {
				b.mu.Lock()
				b.acked = append(b.acked, key)
				b.mu.Unlock()
			}
			time.Sleep(backgroundPutPause)
		}
	}()
	return b
}

func (b *background) stopped() bool {
	select {
	case <-b.stop:
		return true
	default:
		return false
	}
}

// halt stops the load and waits for its goroutines. It is safe to call
// more than once.
func (b *background) halt() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	b.wg.Wait()
}

// ackedKeys returns the keys whose writes the daemon acknowledged.
func (b *background) ackedKeys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.acked...)
}

// checkCallsServed fails the test unless every background call of the
// no-op plugin succeeded and there was at least one.
func (b *background) checkCallsServed(t *testing.T) {
	t.Helper()
	if b.calls.ok == 0 {
		t.Errorf("no background call of %s succeeded", noopID)
	}
	if b.calls.ok != b.calls.attempts {
		t.Errorf("%d of %d background calls of %s failed while the fault was injected; first: %v",
			b.calls.attempts-b.calls.ok, b.calls.attempts, noopID, b.calls.firstError)
	}
}

// checkAckedWrites reads every acknowledged key back through the storage
// plugin and fails the test for each one that is missing or changed.
func checkAckedWrites(t *testing.T, d *daemon, keys []string) {
	t.Helper()
	missing := 0
	for _, key := range keys {
		resp, err := callOnce(d.client, storageID, faultTenant, fmt.Appendf(nil, `{"op":"get","key":%q}`, key), callTimeout)
		if err != nil || !resp.GetSuccess() {
			t.Fatalf("read acknowledged key %s: %v %s", key, err, resp.GetMessage())
		}
		var got struct {
			Found bool   `json:"found"`
			Value string `json:"value"`
		}
		if err := json.Unmarshal(resp.DataJson, &got); err != nil {
			t.Fatalf("decode value of key %s: %v", key, err)
		}
		if !got.Found || got.Value != "value of "+key {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged key %s: found %v, value %q", key, got.Found, got.Value)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged writes are missing or changed", missing, len(keys))
	}
}

// prepareFaultDaemon installs the no-op and storage plugins and creates
// the fault tenant.
func prepareFaultDaemon(t *testing.T, d *daemon) {
	t.Helper()
	d.install(bins.noop, "noop", "")
	d.install(bins.storage, "storage", "")
	d.waitPlugin("noop", apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, nil)
	d.waitPlugin("storage", apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, nil)
	setUpTenants(t, d, []tenantCase{{
		name: faultTenant, plan: "enterprise",
		set: &apiv1.Quotas{RequestsPerMinute: unlimited(), ConcurrentExecutions: unlimited()},
	}})
}
