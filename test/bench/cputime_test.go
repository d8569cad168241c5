package bench

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the CPU time, user and system, that process pid and
// all its threads have used so far, with nanosecond resolution. It reads
// the process's CPU-time clock, whose id Linux derives from the pid as
// clock_getcpuclockid(3) does: (^pid << 3) | CPUCLOCK_SCHED.
func processCPU(pid int) (time.Duration, error) {
	const cpuClockSched = 2
	if pid <= 0 || pid >= 1<<28 {
		return 0, fmt.Errorf("read CPU time of process %d: pid out of range", pid)
	}
	clock := int32(^pid<<3 | cpuClockSched)
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return time.Duration(ts.Nano()), nil
}

// cpuMeter adds up the CPU time that named processes use during the
// measured parts of a run.
type cpuMeter struct {
	names []string
	pids  []int
	used  []time.Duration
	start []time.Duration
}

// watch adds process pid to the meter under name.
func (m *cpuMeter) watch(name string, pid int) {
	m.names = append(m.names, name)
	m.pids = append(m.pids, pid)
	m.used = append(m.used, 0)
	m.start = append(m.start, 0)
}

// begin marks the start of a measured part.
func (m *cpuMeter) begin() error {
	for i, pid := range m.pids {
		cpu, err := processCPU(pid)
		if err != nil {
			return err
		}
		m.start[i] = cpu
	}
	return nil
}

// end adds the CPU time used since begin.
func (m *cpuMeter) end() error {
	for i, pid := range m.pids {
		cpu, err := processCPU(pid)
		if err != nil {
			return err
		}
		m.used[i] += cpu - m.start[i]
	}
	return nil
}

func TestProcessCPU(t *testing.T) {
	// The process's CPU time must lie between two getrusage readings taken
	// around it, which measure the same time in microseconds. A tolerance of
	// a millisecond still rejects a wrong clock, such as wall time.
	const tolerance = time.Millisecond
	before := ownRusage(t)
	cpu, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatalf("processCPU(own pid): %v", err)
	}
	after := ownRusage(t)
	if cpu < before-tolerance || cpu > after+tolerance {
		t.Errorf("processCPU(own pid) = %v, want between the getrusage readings %v and %v", cpu, before, after)
	}

	// Linux never hands out pids above 2^22 (PID_MAX_LIMIT).
	if _, err := processCPU(1 << 23); err == nil {
		t.Error("processCPU of a pid that does not exist returned no error")
	}
}

// ownRusage returns the user and system CPU time of this process.
func ownRusage(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
