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
	"sync"
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
}

// faultClockDaemon is the daemon built with the faultclock tag, whose wall
// clock a test can step (see package host/clock). Only the rows that need
// it build it, once.
var faultClockDaemon = sync.OnceValues(func() (string, error) {
	out := filepath.Join(bins.dir, "mockforged-faultclock")
	return out, goBuild(out, daemonPackage, "", "faultclock")
})

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
	builds := []struct {
		out     *string
		name    string
		pkg     string
		ldflags string
	}{
		{&bins.daemon, "mockforged", daemonPackage, ""},
		{&bins.noop, "noop", misbehave, ""},
		{&bins.selfid, "selfid", misbehave, "-X main.mode=selfid"},
		{&bins.storage, "storage", misbehave, "-X main.mode=storage"},
		{&bins.cleanupExit, "cleanup-exit", misbehave, "-X main.mode=cleanupexit"},
		{&bins.flood, "flood", misbehave, "-X main.mode=flood"},
		{&bins.allocate, "allocate", misbehave, "-X main.mode=allocate"},
	}
	for _, b := range builds {
		*b.out = filepath.Join(dir, b.name)
		if err := goBuild(*b.out, b.pkg, b.ldflags, ""); err != nil {
			return err
		}
	}
	return nil
}

// daemonPackage is the package of the mockforged binary.
const daemonPackage = "github.com/mockforge/mockforged/cmd/mockforged"

// goBuild builds pkg into out with optional linker flags and build tags.
func goBuild(out, pkg, ldflags, tags string) error {
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s (%s %s): %w\n%s", pkg, ldflags, tags, err, stderr.String())
	}
	return nil
}
