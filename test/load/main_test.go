// Package load runs the daemon under bounded load and injects faults while
// it serves. Every test starts the real daemon and real plugin binaries on
// unix sockets in temporary directories.
//
// `go test ./test/load/` runs the short profile, which checks every
// invariant in well under a minute. MOCKFORGE_LOAD=full runs the long one:
// 200 clients for 60 s and a 10-minute soak (see profile).
package load

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bins are the binaries built once for the package.
var bins struct {
	dir         string
	daemon      string
	noop        string
	selfid      string
	storage     string
	cleanupExit string
	flood       string
	allocate    string
	// faultClockDaemon is the daemon built with the faultclock tag, whose
	// wall clock a test can step; see package host/clock.
	faultClockDaemon string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mockforged-load-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := buildAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildAll(dir string) error {
	bins.dir = dir
	const misbehave = "github.com/mockforge/mockforged/test/plugins/misbehave"
	const daemon = "github.com/mockforge/mockforged/cmd/mockforged"
	builds := []struct {
		out     *string
		name    string
		pkg     string
		ldflags string
		tags    string
	}{
		{&bins.daemon, "mockforged", daemon, "", ""},
		{&bins.faultClockDaemon, "mockforged-faultclock", daemon, "", "faultclock"},
		{&bins.noop, "noop", misbehave, "", ""},
		{&bins.selfid, "selfid", misbehave, "-X main.mode=selfid", ""},
		{&bins.storage, "storage", misbehave, "-X main.mode=storage", ""},
		{&bins.cleanupExit, "cleanup-exit", misbehave, "-X main.mode=cleanupexit", ""},
		{&bins.flood, "flood", misbehave, "-X main.mode=flood", ""},
		{&bins.allocate, "allocate", misbehave, "-X main.mode=allocate", ""},
	}
	for _, b := range builds {
		*b.out = filepath.Join(dir, b.name)
		args := []string{"build", "-o", *b.out}
		if b.ldflags != "" {
			args = append(args, "-ldflags", b.ldflags)
		}
		if b.tags != "" {
			args = append(args, "-tags", b.tags)
		}
		cmd := exec.Command("go", append(args, b.pkg)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s (%s): %w\n%s", b.pkg, b.ldflags, err, stderr.String())
		}
	}
	return nil
}
