package clock

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNowHasNoMonotonicReading(t *testing.T) {
	now := Now()
	if strings.Contains(now.String(), "m=") {
		t.Fatalf("Now() = %s carries a monotonic reading", now)
	}
	if d := time.Since(now); d < -time.Second || d > time.Second {
		t.Fatalf("Now() is %s away from time.Now", d)
	}
}

func TestSequenceMovesForward(t *testing.T) {
	s := NewSequence(time.Millisecond)
	future := Now().Add(time.Hour).Truncate(time.Millisecond)
	s.Observe(future)
	first := s.Next()
	if want := future.Add(time.Millisecond); !first.Equal(want) {
		t.Fatalf("Next after Observe(%s) = %s, want %s", future, first, want)
	}
	s.Observe(future.Add(-time.Minute))
	if got := s.Next(); !got.Equal(first.Add(time.Millisecond)) {
		t.Fatalf("Next after an earlier Observe = %s, want %s", got, first.Add(time.Millisecond))
	}
}

func TestSequenceIsUniqueAcrossGoroutines(t *testing.T) {
	s := NewSequence(time.Millisecond)
	const goroutines, each = 8, 200
	var (
		mu   sync.Mutex
		seen = map[time.Time]bool{}
		wg   sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			for range each {
				v := s.Next()
				mu.Lock()
				seen[v] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != goroutines*each {
		t.Fatalf("%d distinct times from %d calls", len(seen), goroutines*each)
	}
	for v := range seen {
		if v != v.Truncate(time.Millisecond) {
			t.Fatalf("time %s is not a multiple of the resolution", v)
		}
	}
}
