package hooks

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Audit writes one JSON line per call when the call ends, whatever the
// outcome, including calls rejected by a later before_execute hook.
//
// A write that fails part-way, as on a full disk, leaves the start of a
// record behind. Audit removes it when w can be truncated (an *os.File
// can), and otherwise starts the next record on a new line, so that a
// failed record never corrupts the one after it.
type Audit struct {
	mu sync.Mutex
	w  io.Writer
	// partial is set while the output ends with an unfinished record that
	// could not be removed.
	partial bool
	// buf is the encoding buffer of the last line, kept for the next.
	buf []byte
}

// maxKeptLineBuffer is the largest encoding buffer that Audit keeps for
// the next line, so that one record with a long error message does not pin
// its memory.
const maxKeptLineBuffer = 16 << 10

// truncater is the part of *os.File that removes an unfinished record.
type truncater interface {
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
}

var _ Hook = (*Audit)(nil)

// NewAudit returns an audit hook writing to w.
func NewAudit(w io.Writer) *Audit {
	return &Audit{w: w}
}

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Time          time.Time `json:"time"`
	RequestID     string    `json:"request_id"`
	Tenant        string    `json:"tenant"`
	Scenario      string    `json:"scenario,omitempty"`
	Execution     string    `json:"execution,omitempty"`
	PluginID      string    `json:"plugin_id"`
	PluginVersion string    `json:"plugin_version"`
	DurationMS    float64   `json:"duration_ms"`
	// Outcome is "success", "failure" or "error".
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// Name returns "audit".
func (a *Audit) Name() string { return "audit" }

// Before does nothing; the audit line is written when the call ends.
func (a *Audit) Before(context.Context, *Call) error { return nil }

// After records a successful call.
func (a *Audit) After(_ context.Context, call *Call) error {
	return a.write(call)
}

// OnError records a failed call.
func (a *Audit) OnError(_ context.Context, call *Call) error {
	return a.write(call)
}

func (a *Audit) write(call *Call) error {
	rec := AuditRecord{
		Time:          call.Time.UTC(),
		RequestID:     call.Request.GetRequestId(),
		Tenant:        call.Request.GetTenantId(),
		Scenario:      call.Request.GetScenarioId(),
		Execution:     call.Request.GetExecutionId(),
		PluginID:      call.PluginID,
		PluginVersion: call.PluginVersion,
		DurationMS:    float64(call.Duration.Microseconds()) / 1000,
		Outcome:       "success",
	}
	switch {
	case call.Err != nil:
		rec.Outcome = "error"
		rec.Error = call.Err.Error()
	case call.Failed():
		rec.Outcome = "failure"
		rec.Error = call.FailureMessage()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// The line is encoded into a buffer reused from call to call. Its
	// first byte is a newline, written only after an unfinished record.
	line, err := appendAuditLine(append(a.buf[:0], '\n'), &rec)
	if err != nil {
		return err
	}
	if cap(line) <= maxKeptLineBuffer {
		a.buf = line
	}
	if !a.partial {
		line = line[1:]
	}
	n, err := a.w.Write(line)
	if err != nil {
		if n > 0 {
			a.partial = !a.dropPartial(int64(n))
		}
		return fmt.Errorf("write audit record: %w", err)
	}
	a.partial = false
	return nil
}

// dropPartial removes the last n bytes, which a failed write left, and
// reports whether it could.
func (a *Audit) dropPartial(n int64) bool {
	f, ok := a.w.(truncater)
	if !ok {
		return false
	}
	info, err := f.Stat()
	if err != nil || info.Size() < n {
		return false
	}
	return f.Truncate(info.Size()-n) == nil
}
