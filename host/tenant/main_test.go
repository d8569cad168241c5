package tenant

import (
	"os"
	"testing"
)

// TestMain lets the crash test re-run this test binary as a child process
// that writes to a store until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashWriterEnv); path != "" {
		os.Exit(runCrashWriter(path))
	}
	os.Exit(m.Run())
}
