package tenant

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeClock is a clock that tests move by hand. Its times keep the
// monotonic reading of the time.Now it started from.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTestManager opens a manager on a new store in a temporary directory
// and closes it when the test ends.
func openTestManager(t *testing.T, clock *fakeClock) *Manager {
	t.Helper()
	return openManagerAt(t, filepath.Join(t.TempDir(), StoreFileName), clock)
}

func openManagerAt(t *testing.T, path string, clock *fakeClock) *Manager {
	t.Helper()
	opts := Options{LockTimeout: 200 * time.Millisecond}
	if clock != nil {
		opts.Now = clock.Now
	}
	m, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func mustCreate(t *testing.T, m *Manager, name string, plan Plan) Tenant {
	t.Helper()
	ten, err := m.Create(context.Background(), name, plan)
	if err != nil {
		t.Fatalf("Create(%q, %s): %v", name, plan, err)
	}
	return ten
}

// wantCode fails the test unless err is a status error with code want.
func wantCode(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want code %s", want)
	}
	s, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %q is not a gRPC status error, want code %s", err, want)
	}
	if s.Code() != want {
		t.Fatalf("code = %s, want %s; message: %s", s.Code(), want, s.Message())
	}
	return s
}

func retryInfo(s *status.Status) (time.Duration, bool) {
	for _, d := range s.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.RetryDelay.AsDuration(), true
		}
	}
	return 0, false
}

func errorInfo(s *status.Status) (*errdetails.ErrorInfo, bool) {
	for _, d := range s.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei, true
		}
	}
	return nil, false
}

var errInjected = errors.New("injected failure")
