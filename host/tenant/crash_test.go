package tenant

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// crashWriterEnv names the store file that the child process writes to.
const crashWriterEnv = "MOCKFORGED_TEST_CRASH_WRITER_STORE"

// Bounds of the child's write loop, so that it stops by itself when the
// test does not kill it.
const (
	crashWriters       = 4
	crashMaxIterations = 5000
	crashMaxRuntime    = 30 * time.Second
)

// runCrashWriter opens the store at path and writes tenants, plugin storage
// entries, tokens and scenario counts from several goroutines, printing one
// line to stdout after each write returns. A printed line is an
// acknowledged write.
func runCrashWriter(path string) int {
	m, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), crashMaxRuntime)
	defer cancel()
	var (
		out sync.Mutex
		wg  sync.WaitGroup
	)
	ack := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	for w := range crashWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < crashMaxIterations && ctx.Err() == nil; i += crashWriters {
				if err := crashWriteOne(ctx, m, i, ack); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return 0
}

func crashWriteOne(ctx context.Context, m *Manager, i int, ack func(string, ...any)) error {
	name := fmt.Sprintf("w-%d", i)
	plan := []Plan{PlanStarter, PlanProfessional, PlanEnterprise}[i%3]
	if _, err := m.Create(ctx, name, plan); err != nil {
		return err
	}
	ack("tenant %s %s", name, plan)
	size := i % 200
	if err := m.StoragePut(ctx, name, "crash-plugin", "key", make([]byte, size)); err != nil {
		return err
	}
	ack("storage %s %d", name, size)
	token, _, err := m.CreateToken(ctx, name, "")
	if err != nil {
		return err
	}
	ack("token %s %s", name, token)
	if _, err := m.AddScenario(ctx, name); err != nil {
		return err
	}
	ack("scenario %s", name)
	return nil
}

// TestSIGKILLKeepsAcknowledgedWrites kills a process in the middle of a
// burst of writes and checks that every write it acknowledged is in the
// store when it is opened again, and that the store is consistent.
func TestSIGKILLKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), StoreFileName)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	acks := make(chan string, 1024)
	go func() {
		defer close(acks)
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			acks <- scanner.Text()
		}
	}()
	// Kill the writer after 400 acknowledgements, or after 15 seconds if it
	// is slower than that.
	var lines []string
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	killed := false
	kill := func() {
		if !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("SIGKILL: %v", err)
			}
			killed = true
		}
	}
	for acks != nil {
		select {
		case line, ok := <-acks:
			if !ok {
				acks = nil
				continue
			}
			lines = append(lines, line)
			if len(lines) >= 400 {
				kill()
			}
		case <-timeout.C:
			kill()
		}
	}
	waitErr := cmd.Wait()
	if !killed {
		t.Fatalf("the writer exited before it was killed (%v); stderr:\n%s", waitErr, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended with %v, want SIGKILL; stderr:\n%s", cmd.ProcessState, stderr.String())
	}
	if len(lines) < 100 {
		t.Fatalf("only %d writes were acknowledged before the kill; stderr:\n%s", len(lines), stderr.String())
	}

	var logs strings.Builder
	m, err := Open(path, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})})
	if err != nil {
		t.Fatalf("Open after SIGKILL: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if logs.Len() > 0 {
		t.Errorf("Open after SIGKILL logged warnings, so the store was inconsistent:\n%s", logs.String())
	}
	checkAcknowledged(t, m, lines)
	t.Logf("%d acknowledged writes, %d tenants in the store", len(lines), len(m.List()))
}

// checkAcknowledged checks that every acknowledged write is in the store.
func checkAcknowledged(t *testing.T, m *Manager, lines []string) {
	t.Helper()
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Errorf("malformed acknowledgement %q", line)
			continue
		}
		kind, name := f[0], f[1]
		ten, err := m.Get(name)
		if err != nil {
			t.Errorf("acknowledged %q, but the tenant is missing: %v", line, err)
			continue
		}
		switch kind {
		case "tenant":
			if string(ten.Plan) != f[2] {
				t.Errorf("acknowledged %q, but the plan is %s", line, ten.Plan)
			}
		case "storage":
			size, _ := strconv.Atoi(f[2])
			v, found, err := m.StorageGet(name, "crash-plugin", "key")
			if err != nil || !found || len(v) != size {
				t.Errorf("acknowledged %q, but the entry is %d bytes, found %v, %v", line, len(v), found, err)
			}
			if ten.StorageBytes != int64(len("key")+size) {
				t.Errorf("acknowledged %q, but the tenant records %d storage bytes", line, ten.StorageBytes)
			}
		case "token":
			if got, _, err := m.VerifyToken(f[2]); err != nil || got != name {
				t.Errorf("acknowledged %q, but the token verifies as %q, %v", line, got, err)
			}
		case "scenario":
			if ten.Scenarios != 1 {
				t.Errorf("acknowledged %q, but the count is %d", line, ten.Scenarios)
			}
		default:
			t.Errorf("unknown acknowledgement %q", line)
		}
	}
}
