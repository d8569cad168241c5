//go:build faultclock

package clock

import (
	"fmt"
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
	// faultContent is the content of the offset file as last read, so
	// that an invalid offset is reported once per change.
	faultContent string
)

// FaultFile returns the offset file named by FaultFileEnv. The daemon logs
// it at start, so that a faultclock build is never mistaken for a
// production one.
func FaultFile() string { return os.Getenv(FaultFileEnv) }

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

// readFaultOffset reads the offset file. It runs on one goroutine at a
// time: once before the poller starts, then in the poller.
func readFaultOffset(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	content := strings.TrimSpace(string(b))
	if content == faultContent {
		return
	}
	faultContent = content
	d, err := time.ParseDuration(content)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fault clock: invalid offset %q in %s: write a Go duration such as -2h or 25h; the offset stays %s\n",
			content, path, time.Duration(faultOffset.Load()))
		return
	}
	faultOffset.Store(int64(d))
}
