//go:build faultclock

package clock

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// faultPoll is how often the offset file is read.
const faultPoll = 5 * time.Millisecond

var (
	faultOffset atomic.Int64
	faultOnce   sync.Once
)

// offset returns the offset last read from the file named by FaultFileEnv.
func offset() time.Duration {
	faultOnce.Do(startFaultPolling)
	return time.Duration(faultOffset.Load())
}

func startFaultPolling() {
	path := os.Getenv(FaultFileEnv)
	if path == "" {
		return
	}
	readFaultOffset(path)
	go func() {
		tick := time.NewTicker(faultPoll)
		defer tick.Stop()
		for range tick.C {
			readFaultOffset(path)
		}
	}()
}

func readFaultOffset(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return
	}
	faultOffset.Store(int64(d))
}
