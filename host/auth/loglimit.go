package auth

import (
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"
)

// Refusals are logged at most refusalLogRate times a second on average,
// with bursts of refusalLogBurst, so that a client retrying in a loop
// cannot flood the log.
const (
	refusalLogRate  = 5
	refusalLogBurst = 20
)

// logLimiter rate-limits warnings and reports how many it dropped.
type logLimiter struct {
	limiter    *rate.Limiter
	suppressed atomic.Int64
}

func newLogLimiter() *logLimiter {
	return &logLimiter{limiter: rate.NewLimiter(refusalLogRate, refusalLogBurst)}
}

// warn logs msg unless the rate is exceeded. The next message that is
// logged carries the number dropped since the last one.
func (l *logLimiter) warn(log hclog.Logger, msg string, args ...any) {
	if !l.limiter.Allow() {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed_refusals", n)
	}
	log.Warn(msg, args...)
}
