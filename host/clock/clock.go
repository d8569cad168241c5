// Package clock is the daemon's source of wall-clock time.
//
// The daemon reads time in two ways, and keeps them apart so that a step of
// the system clock (by an operator, or by NTP correcting a large error)
// moves nothing but the timestamps:
//
//   - Elapsed time, timeouts, backoff, rate-limit windows and expiry come
//     from time.Now and time.Since. Their monotonic reading does not move
//     when the wall clock is stepped.
//   - Timestamps that are stored, shown to a user, or compared with times
//     from another process come from Now. They carry no monotonic reading,
//     so code cannot measure elapsed time with them by mistake and work
//     only until the clock steps.
//
// A wall-clock time from another process, such as a plugin's expiry time,
// becomes a local deadline by measuring the time left until it against Now
// once, and adding that to time.Now.
//
// A binary built with the faultclock build tag adds an offset to Now, read
// from a file, so that tests can step the daemon's wall clock while it runs
// without changing the machine's clock. See FaultFileEnv.
package clock

import (
	"sync"
	"time"
)

// FaultFileEnv names the environment variable that, in a binary built with
// the faultclock build tag, holds the path of a file with the offset to add
// to Now, as a Go duration such as "-2h" or "25h". The file is read again
// every few milliseconds, so that writing it steps the clock of a running
// process. A missing or unparsable file leaves the offset as it was. Other
// builds ignore the variable.
const FaultFileEnv = "MOCKFORGE_FAULT_CLOCK_FILE"

// Now returns the current wall-clock time, without a monotonic reading.
func Now() time.Time {
	return time.Now().Round(0).Add(offset())
}

// Sequence hands out wall-clock times that only move forward: each is
// later than the one before by at least the resolution, even when the wall
// clock steps back. Identifiers that must sort in creation order take
// their time from a Sequence. The zero value is not ready; use NewSequence.
type Sequence struct {
	mu         sync.Mutex
	last       time.Time
	resolution time.Duration
}

// NewSequence returns a Sequence whose times are multiples of resolution,
// which must be positive.
func NewSequence(resolution time.Duration) *Sequence {
	if resolution <= 0 {
		resolution = time.Nanosecond
	}
	return &Sequence{resolution: resolution}
}

// Next returns Now truncated to the resolution, or the last time handed
// out plus the resolution when that is later.
func (s *Sequence) Next() time.Time {
	now := Now().Truncate(s.resolution)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !now.After(s.last) {
		now = s.last.Add(s.resolution)
	}
	s.last = now
	return now
}

// Observe records a time handed out before, for example by an earlier run
// of the daemon, so that Next returns only later times.
func (s *Sequence) Observe(t time.Time) {
	t = t.Round(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.After(s.last) {
		s.last = t
	}
}
