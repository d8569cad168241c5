package tenant

import (
	"sync"
	"time"
)

// rateWindow is the length of the rate limit's sliding window.
const rateWindow = time.Minute

// compactThreshold is how many expired entries a window keeps before it
// moves the live ones to the front of its slice.
const compactThreshold = 256

// slidingWindow is a sliding-window log: it keeps the time of every call it
// admitted during the last rateWindow and admits a new call only while fewer
// than the limit fall inside that window. So no 60-second span ever contains
// more than the limit of admitted calls, neither across a minute boundary,
// as a fixed per-minute counter allows, nor after a full bucket, as a token
// bucket of the same size allows. It costs 8 bytes per admitted call in the
// window, at most 8 times the limit.
type slidingWindow struct {
	mu sync.Mutex
	// times are admission times as offsets on the monotonic clock, oldest
	// first, starting at index head.
	times []time.Duration
	head  int
}

// allow admits a call at now when the window contains fewer than limit calls.
// Otherwise it returns how long until enough calls leave the window for one
// more to fit. A call exactly rateWindow old has left the window.
func (w *slidingWindow) allow(now time.Duration, limit int64) (retryAfter time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(now)
	live := int64(len(w.times) - w.head)
	if live < limit {
		w.times = append(w.times, now)
		return 0, true
	}
	if limit <= 0 {
		return 0, false
	}
	// After a lowered limit, live may exceed limit: live-limit+1 calls must
	// leave before one more fits, so the wait is for the call at that rank.
	leaving := w.times[w.head+int(live-limit)]
	return leaving + rateWindow - now, false
}

// count returns the number of calls admitted in the window ending at now.
func (w *slidingWindow) count(now time.Duration) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(now)
	return int64(len(w.times) - w.head)
}

// expire drops the calls that have left the window ending at now.
func (w *slidingWindow) expire(now time.Duration) {
	cutoff := now - rateWindow
	for w.head < len(w.times) && w.times[w.head] <= cutoff {
		w.head++
	}
	switch {
	case w.head == len(w.times):
		w.times, w.head = w.times[:0], 0
	case w.head >= compactThreshold && w.head*2 >= len(w.times):
		n := copy(w.times, w.times[w.head:])
		w.times, w.head = w.times[:n], 0
	}
}

// offset returns the current time as an offset from the manager's epoch.
// It follows the monotonic clock, so wall-clock changes do not move it.
func (m *Manager) offset() time.Duration {
	return m.now().Sub(m.epoch)
}
