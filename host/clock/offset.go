//go:build !faultclock

package clock

import "time"

// offset is zero outside of fault-injection builds.
func offset() time.Duration { return 0 }

// FaultFile returns "" outside of fault-injection builds.
func FaultFile() string { return "" }
