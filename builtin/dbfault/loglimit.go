package dbfault

import (
	"sync"
	"time"
)

// logLimiter lets one log line through per interval and counts the lines
// it held back, so that an error repeated for every connection does not
// flood the log.
type logLimiter struct {
	interval time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval}
}

// allow reports whether a line may be logged now, and counts it as
// suppressed when not.
func (l *logLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		return false
	}
	l.last = now
	return true
}

// takeSuppressed returns the number of lines held back since the last call
// and resets it.
func (l *logLimiter) takeSuppressed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.suppressed
	l.suppressed = 0
	return n
}
