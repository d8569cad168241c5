// Package bench measures the plugin host. It times one no-op plugin call on
// each path: in process, over go-plugin's gRPC, and through the daemon's
// socket API. A plain grpc-go call to another process over a unix socket is
// the floor they are compared with. It also times plugin launch, and the
// time from dropping a plugin into the plugins directory to its first call.
//
// The package has benchmarks only, and builds its binaries only when
// benchmarks run, so `go test ./...` just compiles it:
//
//	go test -run '^$' -bench . -count 6 ./test/bench/ | tee bench.txt
//	benchstat bench.txt
package bench

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// bins holds the binaries built once for the whole package.
var bins struct {
	dir    string
	daemon string
	noop   string
	echo   string
}

// closers stops the fixtures shared by several benchmarks once all have run.
var closers struct {
	mu    sync.Mutex
	funcs []func()
}

// atExit registers f to run after every benchmark, in reverse order.
func atExit(f func()) {
	closers.mu.Lock()
	defer closers.mu.Unlock()
	closers.funcs = append(closers.funcs, f)
}

func runClosers() {
	closers.mu.Lock()
	defer closers.mu.Unlock()
	for i := len(closers.funcs) - 1; i >= 0; i-- {
		closers.funcs[i]()
	}
	closers.funcs = nil
}

func TestMain(m *testing.M) {
	flag.Parse()
	if !benchmarksRequested() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "mockforged-bench-bin-")
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
	runClosers()
	os.RemoveAll(dir)
	os.Exit(code)
}

// benchmarksRequested reports whether -test.bench selects any benchmark.
func benchmarksRequested() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

func buildAll(dir string) error {
	bins.dir = dir
	builds := []struct {
		out  *string
		name string
		pkg  string
	}{
		{&bins.daemon, "mockforged", "github.com/mockforge/mockforged/cmd/mockforged"},
		// The misbehave test plugin's default mode is a no-op plugin with
		// id "noop" that returns its parameters as data.
		{&bins.noop, "noop", "github.com/mockforge/mockforged/test/plugins/misbehave"},
		{&bins.echo, "echoserver", "github.com/mockforge/mockforged/test/bench/internal/echoserver"},
	}
	for _, b := range builds {
		*b.out = filepath.Join(dir, b.name)
		cmd := exec.Command("go", "build", "-o", *b.out, b.pkg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w\n%s", b.pkg, err, stderr.String())
		}
	}
	return nil
}
