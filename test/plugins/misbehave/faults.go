package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/mockforge/mockforged/sdk"
)

// idMarker precedes the plugin id in the trailer that the load tests
// append to copies of the selfid binary.
const idMarker = "mockforged-test-id="

// trailerBytes is how much of the end of its executable selfid searches.
const trailerBytes = 4096

// idFromExecutable reads the plugin id from the trailer of the running
// executable. The daemon runs a content-addressed copy of the file, and the
// copy carries the trailer too. It exits with status 5 when there is none.
func idFromExecutable() string {
	id, err := readTrailerID()
	if err != nil {
		fmt.Fprintln(os.Stderr, "selfid:", err)
		os.Exit(5)
	}
	return id
}

func readTrailerID() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own executable: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open own executable: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat own executable: %w", err)
	}
	start := max(info.Size()-trailerBytes, 0)
	tail := make([]byte, info.Size()-start)
	if _, err := f.ReadAt(tail, start); err != nil && err != io.EOF {
		return "", fmt.Errorf("read own executable: %w", err)
	}
	i := bytes.LastIndex(tail, []byte(idMarker))
	if i < 0 {
		return "", fmt.Errorf("no %q trailer in %s", idMarker, path)
	}
	id, _, _ := bytes.Cut(tail[i+len(idMarker):], []byte("\n"))
	if len(id) == 0 {
		return "", fmt.Errorf("empty %q trailer in %s", idMarker, path)
	}
	return string(id), nil
}

// cleanupExit exits in the middle of Cleanup, before it can answer.
type cleanupExit struct {
	noop
}

func (c *cleanupExit) Cleanup(context.Context) error {
	os.Exit(4)
	return nil
}

// flood writes long lines to stderr on every call.
type flood struct {
	noop
}

func (f *flood) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	p := struct {
		Lines   int `json:"lines"`
		LineKiB int `json:"line_kib"`
	}{Lines: 4, LineKiB: 200}
	if err := json.Unmarshal(req.Parameters, &p); err != nil {
		return nil, fmt.Errorf("decode parameters: %w", err)
	}
	line := bytes.Repeat([]byte("x"), p.LineKiB<<10)
	line = append(line, '\n')
	for range p.Lines {
		if _, err := os.Stderr.Write(line); err != nil {
			return nil, fmt.Errorf("write stderr: %w", err)
		}
	}
	return sdk.OK("flooded", nil), nil
}

// allocateLimitBytes caps the allocate mode's address space, so that the
// process dies of its own limit long before it can press on the machine.
const allocateLimitBytes = 1 << 30

// allocator allocates until the runtime fails to get more memory, which
// ends the process with a fatal "out of memory" error.
type allocator struct {
	noop
	kept [][]byte
}

func (a *allocator) Execute(context.Context, *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	limit := syscall.Rlimit{Cur: allocateLimitBytes, Max: allocateLimitBytes}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &limit); err != nil {
		return nil, fmt.Errorf("set RLIMIT_AS to %d bytes: %w", allocateLimitBytes, err)
	}
	// Bounded: 1 TiB in 8 MiB steps. The address-space limit stops the
	// process long before the end.
	for range 1 << 17 {
		chunk := make([]byte, 8<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		a.kept = append(a.kept, chunk)
	}
	return nil, fmt.Errorf("allocated %d chunks without dying", len(a.kept))
}
