package hooks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// runAudited runs one call with request ID id through chain. The plugin's
// result is a failure with message as its text unless message is empty.
func runAudited(chain Chain, id, message string) error {
	call := &Call{PluginID: "p", PluginVersion: "1.0.0", Request: &pluginv1.ExecuteRequest{TenantId: "acme", RequestId: id}}
	_, failures, err := chain.Run(context.Background(), hclog.NewNullLogger(), call, func(context.Context) (*pluginv1.ExecuteResponse, error) {
		if message != "" {
			return &pluginv1.ExecuteResponse{Success: false, Message: message}, nil
		}
		return &pluginv1.ExecuteResponse{Success: true}, nil
	})
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		return failures[0].Err
	}
	return nil
}

func TestAuditConcurrentCalls(t *testing.T) {
	const goroutines, callsEach = 8, 50
	path := filepath.Join(t.TempDir(), "audit.log")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	chain := Chain{NewAudit(file)}

	var wg sync.WaitGroup
	errs := make(chan error, goroutines*callsEach)
	for g := range goroutines {
		wg.Go(func() {
			for i := range callsEach {
				if err := runAudited(chain, fmt.Sprintf("g%d-%d", g, i), ""); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call failed: %v", err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, invalid := requestIDs(t, string(data))
	if invalid != 0 {
		t.Errorf("%d lines are not records, want 0: records written at the same time were mixed up", invalid)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != goroutines*callsEach {
		t.Errorf("%d distinct records, want %d", len(ids), goroutines*callsEach)
	}
}

func TestAuditLongRecordThenShortOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	audit := NewAudit(file)
	chain := Chain{audit}
	long := strings.Repeat("x", 4*maxKeptLineBuffer)

	if err := runAudited(chain, "long", long); err != nil {
		t.Fatal(err)
	}
	if cap(audit.buf) > maxKeptLineBuffer {
		t.Errorf("audit kept a %d-byte buffer after a long record, want at most %d", cap(audit.buf), maxKeptLineBuffer)
	}
	if err := runAudited(chain, "short", "nope"); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	if !strings.Contains(lines[0], `"error":"`+long+`"`) {
		t.Errorf("first record lacks its %d-byte error message", len(long))
	}
	if !strings.HasSuffix(lines[1], `"outcome":"failure","error":"nope"}`) {
		t.Errorf("second record = %s, want it to end with its own outcome and error", lines[1])
	}
}
