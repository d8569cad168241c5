package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// failingWriter writes half of the failAt-th write, counting from 1, and
// returns ENOSPC for it, as a full disk does.
type failingWriter struct {
	w      interface{ Write([]byte) (int, error) }
	writes int
	failAt int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes != f.failAt {
		return f.w.Write(p)
	}
	n, err := f.w.Write(p[:len(p)/2])
	if err != nil {
		return n, err
	}
	return n, syscall.ENOSPC
}

// failingFile is a failingWriter on a real file that can also be
// truncated, as the daemon's *os.File audit log can.
type failingFile struct {
	failingWriter
	file *os.File
}

func (f *failingFile) Stat() (os.FileInfo, error) { return f.file.Stat() }

func (f *failingFile) Truncate(size int64) error { return f.file.Truncate(size) }

// auditCalls runs three calls through an audit hook on w, with request
// ids r1, r2 and r3, and returns the error of each.
func auditCalls(t *testing.T, w interface{ Write([]byte) (int, error) }) []error {
	t.Helper()
	chain := Chain{NewAudit(w)}
	var errs []error
	for _, id := range []string{"r1", "r2", "r3"} {
		call := &Call{PluginID: "p", PluginVersion: "1.0.0", Request: &pluginv1.ExecuteRequest{TenantId: "acme", RequestId: id}}
		_, failures, err := chain.Run(context.Background(), hclog.NewNullLogger(), call, func(context.Context) (*pluginv1.ExecuteResponse, error) {
			return &pluginv1.ExecuteResponse{Success: true}, nil
		})
		if err != nil {
			t.Fatalf("call %s: %v", id, err)
		}
		var failed error
		for _, f := range failures {
			failed = errors.Join(failed, f.Err)
		}
		errs = append(errs, failed)
	}
	return errs
}

// requestIDs returns the request id of every line that is a record, and
// the number of lines that are not.
func requestIDs(t *testing.T, output string) (ids []string, invalid int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(output, "\n"), "\n") {
		var rec AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			invalid++
			continue
		}
		ids = append(ids, rec.RequestID)
	}
	return ids, invalid
}

func TestAuditPartialWriteRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	w := &failingFile{failingWriter: failingWriter{w: file, failAt: 2}, file: file}

	errs := auditCalls(t, w)

	if errs[0] != nil || errs[2] != nil {
		t.Errorf("writes 1 and 3 failed: %v, %v", errs[0], errs[2])
	}
	if !errors.Is(errs[1], syscall.ENOSPC) {
		t.Errorf("write 2 returned %v, want ENOSPC", errs[1])
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, invalid := requestIDs(t, string(data))
	if invalid != 0 {
		t.Errorf("%d lines are not records, want 0: the unfinished record stayed in the file:\n%s", invalid, data)
	}
	if strings.Join(ids, ",") != "r1,r3" {
		t.Errorf("records %v, want r1,r3", ids)
	}
}

func TestAuditPartialWriteEndedWithNewline(t *testing.T) {
	var buf bytes.Buffer
	w := &failingWriter{w: &buf, failAt: 2}

	errs := auditCalls(t, w)

	if !errors.Is(errs[1], syscall.ENOSPC) {
		t.Errorf("write 2 returned %v, want ENOSPC", errs[1])
	}
	ids, invalid := requestIDs(t, buf.String())
	if invalid != 1 {
		t.Errorf("%d lines are not records, want 1, the unfinished one:\n%s", invalid, buf.String())
	}
	if strings.Join(ids, ",") != "r1,r3" {
		t.Errorf("records %v, want r1,r3: the record after the failed write was joined to it:\n%s", ids, buf.String())
	}
}
