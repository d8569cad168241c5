package tenant

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

func TestAdmitCheckOrder(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := openTestManager(t, clock)

	// Tenant "full" has every later check failing at once: no permission for
	// metrics on free, one running call, and an exhausted rate limit.
	mustCreate(t, m, "full", PlanFree)
	one := LimitOf(1)
	if _, _, err := m.SetQuotas(ctx, "full", QuotaOverrides{RequestsPerMinute: &one}, nil); err != nil {
		t.Fatal(err)
	}
	release, err := m.Admit(ctx, "full", []string{"fault_injection"}, time.Minute)
	if err != nil {
		t.Fatalf("first Admit: %v", err)
	}
	defer release()

	t.Run("not found first", func(t *testing.T) {
		_, err := m.Admit(ctx, "missing", []string{"metrics"}, time.Hour)
		s := wantCode(t, err, codes.NotFound)
		if !strings.Contains(s.Message(), `"missing"`) {
			t.Errorf("message %q does not name the tenant", s.Message())
		}
	})
	t.Run("permission before rate limit", func(t *testing.T) {
		_, err := m.Admit(ctx, "full", []string{"metrics"}, time.Hour)
		wantCode(t, err, codes.PermissionDenied)
	})
	t.Run("rate limit before duration and concurrency", func(t *testing.T) {
		_, err := m.Admit(ctx, "full", []string{"fault_injection"}, time.Hour)
		s := wantCode(t, err, codes.ResourceExhausted)
		if _, ok := retryInfo(s); !ok {
			t.Errorf("rate-limit error has no RetryInfo: %s", s.Message())
		}
	})
	t.Run("duration before concurrency", func(t *testing.T) {
		clock.Advance(rateWindow)
		_, err := m.Admit(ctx, "full", []string{"fault_injection"}, time.Hour)
		s := wantCode(t, err, codes.ResourceExhausted)
		if ei, _ := errorInfo(s); ei == nil || ei.Metadata["quota"] != string(QuotaMaxDuration) {
			t.Errorf("error info = %v, want quota %s; message: %s", ei, QuotaMaxDuration, s.Message())
		}
	})
	t.Run("concurrency last", func(t *testing.T) {
		clock.Advance(rateWindow)
		_, err := m.Admit(ctx, "full", []string{"fault_injection"}, time.Minute)
		s := wantCode(t, err, codes.ResourceExhausted)
		if ei, _ := errorInfo(s); ei == nil || ei.Metadata["quota"] != string(QuotaConcurrentExecutions) {
			t.Errorf("error info = %v, want quota %s; message: %s", ei, QuotaConcurrentExecutions, s.Message())
		}
	})
	t.Run("disabled before permission", func(t *testing.T) {
		if _, err := m.SetDisabled(ctx, "full", true); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = m.SetDisabled(ctx, "full", false) }()
		_, err := m.Admit(ctx, "full", []string{"metrics"}, time.Hour)
		s := wantCode(t, err, codes.FailedPrecondition)
		if !strings.Contains(s.Message(), "tenants enable full") {
			t.Errorf("message %q does not say how to enable the tenant", s.Message())
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := m.Admit(cctx, "full", nil, time.Minute)
		wantCode(t, err, codes.Canceled)
	})
	t.Run("non-positive timeout", func(t *testing.T) {
		clock.Advance(rateWindow)
		_, err := m.Admit(ctx, "full", nil, 0)
		wantCode(t, err, codes.InvalidArgument)
	})
}

func TestAdmitPlanLimits(t *testing.T) {
	ctx := context.Background()
	for _, spec := range Plans() {
		t.Run(string(spec.Name), func(t *testing.T) {
			clock := newFakeClock()
			m := openTestManager(t, clock)
			name := "t-" + string(spec.Name)
			mustCreate(t, m, name, spec.Name)
			q := spec.Quotas
			maxDur := q.MaxDuration.Max()

			// Duration: the maximum passes, one nanosecond more does not.
			release, err := m.Admit(ctx, name, nil, maxDur)
			if err != nil {
				t.Fatalf("Admit with the max duration %s: %v", maxDur, err)
			}
			release()
			_, err = m.Admit(ctx, name, nil, maxDur+time.Nanosecond)
			s := wantCode(t, err, codes.ResourceExhausted)
			if !strings.Contains(s.Message(), maxDur.String()) {
				t.Errorf("message %q does not name the max duration %s", s.Message(), maxDur)
			}

			// Concurrency: exactly the limit runs at once.
			var releases []func()
			for i := range q.ConcurrentExecutions.Max() {
				r, err := m.Admit(ctx, name, nil, time.Second)
				if err != nil {
					t.Fatalf("Admit %d of %s concurrent: %v", i+1, q.ConcurrentExecutions, err)
				}
				releases = append(releases, r)
			}
			_, err = m.Admit(ctx, name, nil, time.Second)
			s = wantCode(t, err, codes.ResourceExhausted)
			if want := fmt.Sprintf("running %d of %d", q.ConcurrentExecutions.Max(), q.ConcurrentExecutions.Max()); !strings.Contains(s.Message(), want) {
				t.Errorf("message %q does not contain %q", s.Message(), want)
			}
			releases[0]()
			r, err := m.Admit(ctx, name, nil, time.Second)
			if err != nil {
				t.Fatalf("Admit after a release: %v", err)
			}
			r()
			for _, r := range releases {
				r()
			}

			// Rate: the window is fresh after a minute; exactly the limit
			// passes within it.
			clock.Advance(rateWindow)
			for i := range q.RequestsPerMinute.Max() {
				r, err := m.Admit(ctx, name, nil, time.Second)
				if err != nil {
					t.Fatalf("Admit %d of %s per minute: %v", i+1, q.RequestsPerMinute, err)
				}
				r()
			}
			_, err = m.Admit(ctx, name, nil, time.Second)
			s = wantCode(t, err, codes.ResourceExhausted)
			if _, ok := retryInfo(s); !ok {
				t.Errorf("no RetryInfo in %q", s.Message())
			}
			if u, _ := m.Usage(name); u.ConcurrentExecutions != 0 {
				t.Errorf("concurrent executions = %d after every release, want 0", u.ConcurrentExecutions)
			}
		})
	}
}

func TestAdmitPermissionMapping(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	unlimited := Unlimited()
	for _, spec := range Plans() {
		name := "p-" + string(spec.Name)
		mustCreate(t, m, name, spec.Name)
		if _, _, err := m.SetQuotas(ctx, name, QuotaOverrides{RequestsPerMinute: &unlimited}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, spec := range Plans() {
		name := "p-" + string(spec.Name)
		for capability, perm := range CapabilityPermissions() {
			t.Run(string(spec.Name)+"/"+capability, func(t *testing.T) {
				release, err := m.Admit(ctx, name, []string{"hook", capability}, time.Second)
				if spec.Name.grants(perm) {
					if err != nil {
						t.Fatalf("Admit: %v, want success because %s has %s", err, spec.Name, perm)
					}
					release()
					return
				}
				s := wantCode(t, err, codes.PermissionDenied)
				lowest, _ := LowestPlanWith(perm)
				for _, want := range []string{string(perm), "plan " + string(spec.Name), "lowest plan with it is " + string(lowest)} {
					if !strings.Contains(s.Message(), want) {
						t.Errorf("message %q does not contain %q", s.Message(), want)
					}
				}
				ei, ok := errorInfo(s)
				if !ok || ei.Reason != ReasonPermissionMissing || ei.Metadata["lowest_plan"] != string(lowest) || ei.Metadata["permission"] != string(perm) {
					t.Errorf("error info = %v, want reason %s with permission %s and lowest plan %s", ei, ReasonPermissionMissing, perm, lowest)
				}
			})
		}
	}
}

func TestAdmitGrantedPermission(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	_, err := m.Admit(ctx, "acme", []string{"anomaly_detection"}, time.Second)
	wantCode(t, err, codes.PermissionDenied)

	if _, err := m.Grant(ctx, "acme", PermissionUseMLFeatures); err != nil {
		t.Fatalf("Grant: %v", err)
	}
	release, err := m.Admit(ctx, "acme", []string{"anomaly_detection"}, time.Second)
	if err != nil {
		t.Fatalf("Admit after Grant: %v", err)
	}
	release()

	if _, err := m.Revoke(ctx, "acme", PermissionUseMLFeatures); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	_, err = m.Admit(ctx, "acme", []string{"anomaly_detection"}, time.Second)
	wantCode(t, err, codes.PermissionDenied)
}

func TestAdmitReleaseIdempotent(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanStarter)
	r1, err := m.Admit(ctx, "acme", nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := m.Admit(ctx, "acme", nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r1()
	r1()
	r1()
	if u, _ := m.Usage("acme"); u.ConcurrentExecutions != 1 {
		t.Errorf("concurrent executions = %d after releasing one of two thrice, want 1", u.ConcurrentExecutions)
	}
	r2()
	if u, _ := m.Usage("acme"); u.ConcurrentExecutions != 0 {
		t.Errorf("concurrent executions = %d after releasing both, want 0", u.ConcurrentExecutions)
	}
}

// TestAdmitConcurrentCounters runs thousands of concurrent admissions
// against small limits, with calls that fail, panic, get cancelled or
// release twice, and checks that no limit is ever exceeded and that every
// counter ends at zero.
func TestAdmitConcurrentCounters(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	unlimited := Unlimited()
	tenants := []struct {
		name  string
		limit int64
	}{{"c1", 1}, {"c3", 3}, {"c7", 7}, {"c20", 20}}
	states := map[string]*tenantState{}
	for _, tt := range tenants {
		mustCreate(t, m, tt.name, PlanEnterprise)
		limit := LimitOf(tt.limit)
		if _, _, err := m.SetQuotas(ctx, tt.name, QuotaOverrides{ConcurrentExecutions: &limit, RequestsPerMinute: &unlimited}, nil); err != nil {
			t.Fatal(err)
		}
		states[tt.name], _ = m.state(tt.name)
	}

	const workers, callsPerWorker = 2000, 4
	var (
		wg       sync.WaitGroup
		admitted atomic.Int64
		rejected atomic.Int64
		over     atomic.Int64
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range callsPerWorker {
				tt := tenants[rng.IntN(len(tenants))]
				runCall(ctx, m, tt.name, tt.limit, states[tt.name], rng, &admitted, &rejected, &over)
			}
		}()
	}
	wg.Wait()

	if over.Load() > 0 {
		t.Errorf("a running count went above its limit %d times", over.Load())
	}
	if admitted.Load() == 0 || rejected.Load() == 0 {
		t.Errorf("admitted %d and rejected %d calls; the test needs both to mean anything", admitted.Load(), rejected.Load())
	}
	for _, tt := range tenants {
		u, err := m.Usage(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if u.ConcurrentExecutions != 0 {
			t.Errorf("tenant %s: concurrent executions = %d at the end, want 0", tt.name, u.ConcurrentExecutions)
		}
	}
	t.Logf("admitted %d, rejected %d", admitted.Load(), rejected.Load())
}

// runCall makes one call the way the daemon does, ending in one of several
// random ways, and counts any moment at which the tenant runs more calls
// than its limit.
func runCall(ctx context.Context, m *Manager, name string, limit int64, st *tenantState, rng *rand.Rand,
	admitted, rejected, over *atomic.Int64) {
	callCtx := ctx
	if rng.IntN(20) == 0 {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		callCtx = cctx
	}
	release, err := m.Admit(callCtx, name, []string{"fault_injection"}, time.Minute)
	if err != nil {
		rejected.Add(1)
		return
	}
	admitted.Add(1)
	if st.running.Load() > limit {
		over.Add(1)
	}
	switch rng.IntN(5) {
	case 0: // the plugin panics; the daemon recovers and releases in a defer
		func() {
			defer func() { _ = recover() }()
			defer release()
			panic(errInjected)
		}()
	case 1: // the call fails and the release runs twice
		release()
		release()
	case 2: // the client goes away and another goroutine releases
		done := make(chan struct{})
		go func() { defer close(done); release() }()
		<-done
	case 3: // the call takes a while
		time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
		release()
	default:
		release()
	}
}

func TestDisableEnableKeepsUsage(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanStarter)
	if _, err := m.AddScenario(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := m.StoragePut(ctx, "acme", "kv", "key", []byte("value")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.CreateToken(ctx, "acme", ""); err != nil {
		t.Fatal(err)
	}
	running, err := m.Admit(ctx, "acme", nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := m.Usage("acme")

	if _, err := m.SetDisabled(ctx, "acme", true); err != nil {
		t.Fatalf("disable: %v", err)
	}
	refused := map[string]error{}
	_, refused["Admit"] = m.Admit(ctx, "acme", nil, time.Second)
	_, refused["AddScenario"] = m.AddScenario(ctx, "acme")
	refused["StoragePut"] = m.StoragePut(ctx, "acme", "kv", "key2", []byte("v"))
	_, _, refused["StorageGet"] = m.StorageGet("acme", "kv", "key")
	_, refused["StorageDelete"] = m.StorageDelete(ctx, "acme", "kv", "key")
	_, refused["StorageList"] = m.StorageList("acme", "kv", "")
	for op, err := range refused {
		t.Run(op, func(t *testing.T) { wantCode(t, err, codes.FailedPrecondition) })
	}
	if got, err := m.Get("acme"); err != nil || !got.Disabled {
		t.Errorf("Get of a disabled tenant = %+v, %v; want the record with Disabled", got, err)
	}
	if u, err := m.Usage("acme"); err != nil || u != withDisabled(before, true) {
		t.Errorf("Usage of a disabled tenant = %+v, %v; want %+v", u, err, withDisabled(before, true))
	}

	if _, err := m.SetDisabled(ctx, "acme", false); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if u, _ := m.Usage("acme"); u != before {
		t.Errorf("usage after enable = %+v, want %+v", u, before)
	}
	if v, found, err := m.StorageGet("acme", "kv", "key"); err != nil || !found || string(v) != "value" {
		t.Errorf("StorageGet after enable = %q, %v, %v", v, found, err)
	}
	running()
	release, err := m.Admit(ctx, "acme", nil, time.Second)
	if err != nil {
		t.Fatalf("Admit after enable: %v", err)
	}
	release()
}

func withDisabled(u Usage, disabled bool) Usage {
	u.Disabled = disabled
	return u
}
