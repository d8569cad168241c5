package tenant

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

// admitN admits n calls at the clock's current time, releasing each, and
// returns how many passed.
func admitN(m *Manager, name string, n int) int {
	passed := 0
	for range n {
		release, err := m.Admit(context.Background(), name, nil, time.Second)
		if err == nil {
			release()
			passed++
		}
	}
	return passed
}

func TestRateLimitNoDoubleBurstAtMinuteBoundary(t *testing.T) {
	clock := newFakeClock()
	m := openTestManager(t, clock)
	mustCreate(t, m, "acme", PlanFree) // 50 requests per minute

	// A full burst in the last second before a minute boundary, then another
	// attempt right after it: a fixed per-minute counter would admit both.
	clock.Advance(59 * time.Second)
	if got := admitN(m, "acme", 50); got != 50 {
		t.Fatalf("first burst admitted %d, want 50", got)
	}
	clock.Advance(time.Second)
	if got := admitN(m, "acme", 50); got != 0 {
		t.Fatalf("burst right after the minute boundary admitted %d, want 0", got)
	}

	_, err := m.Admit(context.Background(), "acme", nil, time.Second)
	s := wantCode(t, err, codes.ResourceExhausted)
	retry, ok := retryInfo(s)
	if !ok {
		t.Fatalf("no RetryInfo in %q", s.Message())
	}
	if retry != 59*time.Second {
		t.Errorf("retry after %s, want 59s", retry)
	}
	for _, want := range []string{"50 requests per minute", "retry in 59s", "plan free"} {
		if !strings.Contains(s.Message(), want) {
			t.Errorf("message %q does not contain %q", s.Message(), want)
		}
	}

	// One nanosecond before the burst leaves the window nothing passes; at
	// the advertised time the whole burst's worth does.
	clock.Advance(retry - time.Nanosecond)
	if got := admitN(m, "acme", 1); got != 0 {
		t.Errorf("1ns before the retry time admitted %d, want 0", got)
	}
	clock.Advance(time.Nanosecond)
	if got := admitN(m, "acme", 51); got != 50 {
		t.Errorf("at the retry time admitted %d, want 50", got)
	}
}

func TestRateLimitSlidesWithCalls(t *testing.T) {
	clock := newFakeClock()
	m := openTestManager(t, clock)
	mustCreate(t, m, "acme", PlanFree)

	admitN(m, "acme", 25)
	clock.Advance(40 * time.Second)
	admitN(m, "acme", 25)
	clock.Advance(20 * time.Second)
	// The first 25 have left the window, the second 25 have not.
	if got := admitN(m, "acme", 30); got != 25 {
		t.Errorf("admitted %d after the first 25 left the window, want 25", got)
	}
	if u, _ := m.Usage("acme"); u.RequestsLastMinute != 50 {
		t.Errorf("requests in the last minute = %d, want 50", u.RequestsLastMinute)
	}
	_, err := m.Admit(context.Background(), "acme", nil, time.Second)
	retry, _ := retryInfo(wantCode(t, err, codes.ResourceExhausted))
	if retry != 40*time.Second {
		t.Errorf("retry after %s, want 40s, when the calls made 20s ago leave", retry)
	}
}

func TestRateLimitLoweredRetry(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	m := openTestManager(t, clock)
	mustCreate(t, m, "acme", PlanFree)
	for range 5 {
		admitN(m, "acme", 2)
		clock.Advance(10 * time.Second)
	}
	// Ten calls at 0s, 10s, ..., 40s; now is 50s. With a limit of 3, seven
	// calls must leave before one more fits: the pair made at 30s.
	three := LimitOf(3)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{RequestsPerMinute: &three}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := m.Admit(ctx, "acme", nil, time.Second)
	retry, _ := retryInfo(wantCode(t, err, codes.ResourceExhausted))
	if retry != 40*time.Second {
		t.Errorf("retry after %s, want 40s", retry)
	}
	clock.Advance(retry)
	if got := admitN(m, "acme", 3); got != 1 {
		t.Errorf("admitted %d at the retry time, want 1", got)
	}
}

func TestRateLimitZeroAndUnlimited(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "zero", PlanFree)
	zero, unlimited := LimitOf(0), Unlimited()
	if _, _, err := m.SetQuotas(ctx, "zero", QuotaOverrides{RequestsPerMinute: &zero}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := m.Admit(ctx, "zero", nil, time.Second)
	s := wantCode(t, err, codes.ResourceExhausted)
	if _, ok := retryInfo(s); ok {
		t.Errorf("a limit of 0 gives RetryInfo, but no retry can succeed: %s", s.Message())
	}

	mustCreate(t, m, "open", PlanFree)
	if _, _, err := m.SetQuotas(ctx, "open", QuotaOverrides{RequestsPerMinute: &unlimited}, nil); err != nil {
		t.Fatal(err)
	}
	if got := admitN(m, "open", 500); got != 500 {
		t.Errorf("unlimited rate admitted %d of 500", got)
	}
}

func TestSlidingWindowCompacts(t *testing.T) {
	var w slidingWindow
	now := time.Duration(0)
	for range 10 * compactThreshold {
		if _, ok := w.allow(now, 1000); !ok {
			t.Fatal("allow failed below the limit")
		}
		now += 100 * time.Millisecond
	}
	// Calls are 100ms apart and the last one was 100ms ago, so the window
	// (now-60s, now] contains 599 of them: the one at exactly now-60s has left.
	if got := w.count(now); got != 599 {
		t.Errorf("count = %d, want 599", got)
	}
	if len(w.times) > 2*compactThreshold+600 {
		t.Errorf("window keeps %d entries for 600 live ones", len(w.times))
	}
}
