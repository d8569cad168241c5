// Package prometheus tests the daemon's metrics and the prometheus-metrics
// plugin against a real Prometheus server: Debian's prometheus package,
// run by the test on loopback with a temporary config and storage.
package prometheus

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// daemonBinary is the mockforged binary built once for the package.
var daemonBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mockforged-prometheus-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	daemonBinary = filepath.Join(dir, "mockforged")
	cmd := exec.Command("go", "build", "-o", daemonBinary, "github.com/mockforge/mockforged/cmd/mockforged")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build mockforged: %v\n%s", err, stderr.String())
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireCommand returns the path of a program the test runs, failing the
// test with the way to install it when it is missing.
func requireCommand(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: install Debian's prometheus package with `sudo apt-get install prometheus` or `sudo bash .ci/prometheus.sh`", name)
	}
	return path
}
