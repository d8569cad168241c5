//go:build faultclock

package clock

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childEnv marks the child process of TestFaultOffsetSteps.
const childEnv = "MOCKFORGE_CLOCK_TEST_CHILD"

// TestFaultOffsetSteps runs in a child process, because the offset file is
// read once per process from the environment.
func TestFaultOffsetSteps(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		file := filepath.Join(t.TempDir(), "offset")
		if err := os.WriteFile(file, []byte("0s"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultOffsetSteps$", "-test.v")
		cmd.Env = append(os.Environ(), FaultFileEnv+"="+file, childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "--- PASS: TestFaultOffsetSteps") {
			t.Fatalf("the child ran no test:\n%s", out)
		}
		if !strings.Contains(string(out), `invalid offset "soon"`) {
			t.Errorf("the child did not report the invalid offset:\n%s", out)
		}
		return
	}
	file := os.Getenv(FaultFileEnv)
	if d := time.Since(Now()); d > time.Second || d < -time.Second {
		t.Fatalf("offset file 0s: Now() is %s away from time.Now", d)
	}
	deadline := time.Now().Add(time.Hour)
	seq := NewSequence(time.Millisecond)
	before := seq.Next()

	if err := os.WriteFile(file, []byte("-2h"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitOffset(t, -2*time.Hour)
	if got := time.Until(deadline); got < 59*time.Minute || got > time.Hour {
		t.Errorf("a deadline on the monotonic clock one hour ahead is %s away after the wall clock stepped back", got)
	}
	if after := seq.Next(); !after.After(before) {
		t.Errorf("Sequence went back with the clock: %s after %s", after, before)
	}

	// An unparsable file keeps the last offset.
	if err := os.WriteFile(file, []byte("soon"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * faultPoll)
	if got := offset(); got != -2*time.Hour {
		t.Errorf("offset after an unparsable file = %s, want -2h", got)
	}
}

// waitOffset waits until the poller has read want.
func waitOffset(t *testing.T, want time.Duration) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(faultPoll) {
		if d := time.Since(Now()); d > -want-time.Second && d < -want+time.Second {
			return
		}
	}
	t.Fatalf("Now() did not step by %s within 5s", want)
}
