package load

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// noopID is the plugin id of the no-op test plugin.
const noopID = "noop"

// callTimeout is the timeout of every load call that its tenant admits.
const callTimeout = 10 * time.Second

// rateWindowSafety keeps the callers of rate-limited tenants inside one
// 60-second window of the rate limit, which starts at the tenant's first
// admitted call. While no admitted call has left the window, the number of
// admitted calls is exactly min(attempts, limit).
const rateWindowSafety = 50 * time.Second

// concurrencyQuota is the concurrent executions quota of the tenant
// "concurrency". Every profile runs at least two callers per tenant, so
// with a quota of 1 some calls are rejected.
const concurrencyQuota = 1

// tenantCase is one tenant of the load test, with the rule its counts must
// satisfy.
type tenantCase struct {
	name  string
	plan  string
	set   *apiv1.Quotas
	param string
	// timeout returns the call timeout of the n-th call of one client.
	timeout func(n int) time.Duration
	// stopAfter ends the tenant's callers early when not zero.
	stopAfter time.Duration
	// check applies the rule of the tenant's plan to its counts.
	check func(t *testing.T, got *tally, long int64)
}

func limitOf(n int64) *apiv1.Limit { return &apiv1.Limit{Kind: &apiv1.Limit_Max{Max: n}} }

func unlimited() *apiv1.Limit { return &apiv1.Limit{Kind: &apiv1.Limit_Unlimited{Unlimited: true}} }

func fixedTimeout(timeout time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return timeout }
}

// loadTenants are the ten tenants of the load test. The rule of each:
//
//   - bulk-0 to bulk-5 (enterprise, rate and concurrency unlimited): no
//     rejection at all.
//   - rate-starter (starter, 200 requests per minute) and rate-pro
//     (professional, 1000), concurrency unlimited: their callers stop
//     within 50 s, inside one window of the rate limit, so admitted calls
//     equal min(attempts, limit) exactly and every other call is a
//     RATE_LIMITED rejection.
//   - concurrency (professional, 1 concurrent execution, rate unlimited,
//     calls that sleep 5 ms): rejections name concurrent_executions only,
//     and the daemon's count of running calls, sampled every 10 ms, never
//     exceeds 1. Which calls are rejected depends on timing, so only that
//     bound and the sum are checked.
//   - duration (starter, max duration 1 h, rate and concurrency
//     unlimited): every other call asks for a 2 h timeout, and exactly
//     those calls are rejected with max_duration.
func loadTenants() []tenantCase {
	var cases []tenantCase
	for i := range 6 {
		cases = append(cases, tenantCase{
			name: fmt.Sprintf("bulk-%d", i), plan: "enterprise",
			set:     &apiv1.Quotas{RequestsPerMinute: unlimited(), ConcurrentExecutions: unlimited()},
			param:   `{"k":"v"}`,
			timeout: fixedTimeout(callTimeout),
			check:   expectNoRejections,
		})
	}
	cases = append(cases,
		tenantCase{
			name: "rate-starter", plan: "starter",
			set:       &apiv1.Quotas{ConcurrentExecutions: unlimited()},
			param:     `{"k":"v"}`,
			timeout:   fixedTimeout(callTimeout),
			stopAfter: rateWindowSafety,
			check:     expectRateLimit(200),
		},
		tenantCase{
			name: "rate-pro", plan: "professional",
			set:       &apiv1.Quotas{ConcurrentExecutions: unlimited()},
			param:     `{"k":"v"}`,
			timeout:   fixedTimeout(callTimeout),
			stopAfter: rateWindowSafety,
			check:     expectRateLimit(1000),
		},
		tenantCase{
			name: "concurrency", plan: "professional",
			set:     &apiv1.Quotas{RequestsPerMinute: unlimited(), ConcurrentExecutions: limitOf(concurrencyQuota)},
			param:   `{"sleep_ms":5}`,
			timeout: fixedTimeout(callTimeout),
			check:   expectOnlyConcurrencyRejections,
		},
		tenantCase{
			name: "duration", plan: "starter",
			set:   &apiv1.Quotas{RequestsPerMinute: unlimited(), ConcurrentExecutions: unlimited()},
			param: `{"k":"v"}`,
			timeout: func(n int) time.Duration {
				if n%2 == 1 {
					return 2 * time.Hour
				}
				return callTimeout
			},
			check: expectDurationRejections,
		},
	)
	return cases
}

func expectNoRejections(t *testing.T, got *tally, _ int64) {
	t.Helper()
	if got.ok != got.attempts {
		t.Errorf("admitted %d of %d calls, want all: %d rate-limited, quota rejections %v", got.ok, got.attempts, got.rateLimit, got.quota)
	}
}

func expectRateLimit(limit int64) func(*testing.T, *tally, int64) {
	return func(t *testing.T, got *tally, _ int64) {
		t.Helper()
		want := min(got.attempts, limit)
		if got.ok != want {
			t.Errorf("admitted %d calls, want min(%d attempts, limit %d) = %d", got.ok, got.attempts, limit, want)
		}
		if got.rateLimit != got.attempts-want {
			t.Errorf("%d rate-limit rejections, want %d", got.rateLimit, got.attempts-want)
		}
		if len(got.quota) != 0 {
			t.Errorf("quota rejections %v, want none", got.quota)
		}
	}
}

func expectOnlyConcurrencyRejections(t *testing.T, got *tally, _ int64) {
	t.Helper()
	if got.ok == 0 {
		t.Errorf("no call admitted of %d", got.attempts)
	}
	rejected := got.quota["concurrent_executions"]
	if rejected == 0 {
		t.Errorf("no concurrent_executions rejection in %d calls from two or more callers", got.attempts)
	}
	if len(got.quota) > 1 || got.rateLimit != 0 {
		t.Errorf("rejections: rate limit %d, quotas %v; want concurrent_executions only", got.rateLimit, got.quota)
	}
	if got.ok+rejected != got.attempts {
		t.Errorf("admitted %d + rejected %d != %d attempts", got.ok, rejected, got.attempts)
	}
}

func expectDurationRejections(t *testing.T, got *tally, long int64) {
	t.Helper()
	if got.quota["max_duration"] != long {
		t.Errorf("%d max_duration rejections, want %d, one per call with a 2h timeout", got.quota["max_duration"], long)
	}
	if got.ok != got.attempts-long {
		t.Errorf("admitted %d calls, want %d, every call with a %s timeout", got.ok, got.attempts-long, callTimeout)
	}
}

// setUpTenants creates every tenant through the Tenants API as an
// administrator and applies its overrides.
func setUpTenants(t *testing.T, d *daemon, cases []tenantCase) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range cases {
		if _, err := d.tenants.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: tc.name, Plan: tc.plan}); err != nil {
			t.Fatalf("create tenant %s on plan %s: %v", tc.name, tc.plan, err)
		}
		if _, err := d.tenants.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: tc.name, Set: tc.set}); err != nil {
			t.Fatalf("set quotas of tenant %s: %v", tc.name, err)
		}
	}
}

// tenantRun is the result of one tenant's callers.
type tenantRun struct {
	tally *tally
	// long counts the calls made with a timeout above callTimeout.
	long atomic.Int64
}

func TestTenantLoad(t *testing.T) {
	t.Parallel()
	p := currentProfile()
	d := startDaemon(t)
	d.install(bins.noop, "noop", "")
	d.waitPlugin("noop", apiv1.PluginState_PLUGIN_STATE_RUNNING, 30*time.Second, nil)
	cases := loadTenants()
	setUpTenants(t, d, cases)
	baseFDs := takeFDBaseline(t, d)

	// One connection per tenant, as separate client programs would have.
	conns := make([]*grpc.ClientConn, len(cases))
	clients := make([]apiv1.DaemonClient, len(cases))
	for i := range cases {
		conn, err := dialDaemon(d.socket)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conns[i], clients[i] = conn, apiv1.NewDaemonClient(conn)
	}

	runs := make([]*tenantRun, len(cases))
	for i := range runs {
		runs[i] = &tenantRun{tally: newTally()}
	}
	maxRunning := sampleRunning(d, "concurrency", p.Duration)

	start := time.Now()
	var wg sync.WaitGroup
	for c := range p.Clients {
		i := c % len(cases)
		tc, run := cases[i], runs[i]
		deadline := start.Add(p.Duration)
		if tc.stopAfter > 0 && tc.stopAfter < p.Duration {
			deadline = start.Add(tc.stopAfter)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				timeout := tc.timeout(n)
				if timeout > callTimeout {
					run.long.Add(1)
				}
				t0 := time.Now()
				resp, err := callOnce(clients[i], noopID, tc.name, []byte(tc.param), timeout)
				run.tally.add(resp, err, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Latencies are reported for the no-op calls only, without those of
	// the tenant whose calls sleep 5 ms.
	total, noopCalls := newTally(), newTally()
	for i, tc := range cases {
		got := runs[i].tally
		total.merge(got)
		if tc.name != "concurrency" {
			noopCalls.merge(got)
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Logf("plan %s: %d calls, %d admitted, %d rate-limited, quota rejections %v",
				tc.plan, got.attempts, got.ok, got.rateLimit, got.quota)
			if got.failed != 0 {
				t.Errorf("%d calls failed with errors other than the plan's rejections; first: %v", got.failed, got.firstError)
			}
			tc.check(t, got, runs[i].long.Load())
		})
	}
	running := <-maxRunning
	if running.samples == 0 {
		t.Error("no reading of the running calls of tenant concurrency succeeded")
	}
	if running.peak > concurrencyQuota {
		t.Errorf("tenant concurrency had %d calls running at once, above its quota of %d", running.peak, concurrencyQuota)
	}
	p50, p99, p999 := noopCalls.latencySummary()
	t.Logf("profile %s: %d clients, %d tenants, %s: %d calls (%.0f/s), %d admitted (%.0f/s), %d rate-limited, quota rejections %v; latency of admitted no-op calls p50 %s, p99 %s, p99.9 %s",
		p.Name, p.Clients, len(cases), elapsed.Round(time.Millisecond),
		total.attempts, float64(total.attempts)/elapsed.Seconds(),
		total.ok, float64(total.ok)/elapsed.Seconds(),
		total.rateLimit, total.quota, p50, p99, p999)

	for _, conn := range conns {
		conn.Close()
	}
	checkFDsReturn(t, d, baseFDs)
}

// runningPeak is the highest count of running calls seen, and the number
// of readings that succeeded.
type runningPeak struct {
	peak    int64
	samples int
}

// sampleRunning reads the running calls of tenant name every 10 ms for
// duration and sends the highest count seen.
func sampleRunning(d *daemon, name string, duration time.Duration) <-chan runningPeak {
	out := make(chan runningPeak, 1)
	go func() {
		var got runningPeak
		deadline := time.Now().Add(duration)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			resp, err := d.tenants.GetUsage(ctx, &apiv1.GetUsageRequest{Name: name})
			cancel()
			if err == nil {
				got.peak = max(got.peak, resp.GetUsage().GetConcurrentExecutions())
				got.samples++
			}
			time.Sleep(10 * time.Millisecond)
		}
		out <- got
	}()
	return out
}

func mustFDCount(t *testing.T, pid int) int {
	t.Helper()
	n, err := fdCount(pid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// fdSettle is how long the daemon may take to close the descriptors of
// connections and processes that ended.
const fdSettle = 10 * time.Second

// fdBaseline is the daemon's descriptor count and what they refer to.
type fdBaseline struct {
	count   int
	targets map[string]int
}

// takeFDBaseline waits until the daemon's plugins settled and records its
// descriptors.
func takeFDBaseline(t *testing.T, d *daemon) fdBaseline {
	t.Helper()
	d.waitSettled()
	return fdBaseline{count: mustFDCount(t, d.pid()), targets: fdTargets(d.pid())}
}

// checkFDsReturn waits until the daemon's descriptor count is back at or
// below the baseline, and fails the test when it stays above, listing the
// targets that gained descriptors.
func checkFDsReturn(t *testing.T, d *daemon, base fdBaseline) {
	t.Helper()
	d.waitSettled()
	deadline := time.Now().Add(fdSettle)
	for {
		n, err := fdCount(d.pid())
		if err != nil {
			t.Error(err)
			return
		}
		if n <= base.count {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("daemon holds %d descriptors %s after the load ended, want at most %d as before it; gained: %v; plugins: %v",
				n, fdSettle, base.count, fdGains(base.targets, fdTargets(d.pid())), pluginStates(d.list()))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fdGains returns the targets that have more descriptors in now than in
// before, with the difference.
func fdGains(before, now map[string]int) map[string]int {
	gains := map[string]int{}
	for target, n := range now {
		if n > before[target] {
			gains[target] = n - before[target]
		}
	}
	return gains
}

// pluginStates returns "id=state/pid" for every plugin, for messages.
func pluginStates(plugins []*apiv1.PluginInfo) []string {
	var out []string
	for _, p := range plugins {
		out = append(out, fmt.Sprintf("%s=%s/%d", p.Id, strings.TrimPrefix(p.State.String(), "PLUGIN_STATE_"), p.Pid))
	}
	return out
}
