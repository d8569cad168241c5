// Package hooks runs hooks around plugin calls in a fixed order.
//
// For a chain [h1, h2, ..., hn]:
//
//  1. before_execute runs h1, h2, ..., hn in order. The first error aborts
//     the call: the plugin is not called, on_error runs on the hooks whose
//     before_execute had succeeded, in reverse order, and the error is
//     returned to the caller.
//  2. The plugin is called.
//  3. On success after_execute runs hn, ..., h1; on failure (an error, or a
//     result whose success is false) on_error runs hn, ..., h1.
//
// Failures of after_execute and on_error are logged and returned beside the
// result; they never replace the plugin's own result or error. Every hook
// runs with the call's context, so its deadline bounds the hooks too.
package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/clock"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// Point names where in a call a hook runs.
type Point string

// Hook points.
const (
	BeforeExecute Point = "before_execute"
	AfterExecute  Point = "after_execute"
	OnError       Point = "on_error"
)

// Call is the call a chain runs around. Hooks may read it and must not
// change it.
type Call struct {
	PluginID      string
	PluginVersion string
	Request       *pluginv1.ExecuteRequest
	// Start is when the call entered the chain, for measuring its
	// duration on the monotonic clock.
	Start time.Time
	// Time is the wall-clock time at which the call entered the chain,
	// as recorded in the audit log. Run sets it when it is zero.
	Time time.Time
	// Response and Err are set once the plugin returned; Err is also set
	// when a before_execute hook aborted the call.
	Response *pluginv1.ExecuteResponse
	Err      error
	// Duration is set before after_execute and on_error run.
	Duration time.Duration
}

// Failed reports whether the call failed, either with an error or with a
// result whose success is false.
func (c *Call) Failed() bool {
	return c.Err != nil || c.Response == nil || !c.Response.Success
}

// FailureMessage returns a one-line description of the call's failure.
func (c *Call) FailureMessage() string {
	switch {
	case c.Err != nil:
		return c.Err.Error()
	case c.Response == nil:
		return "no response"
	case c.Response.Error != nil && c.Response.Error.Message != "":
		return c.Response.Error.Message
	}
	return c.Response.GetMessage()
}

// Hook runs code around calls.
type Hook interface {
	// Name identifies the hook in logs and failure reports.
	Name() string
	Before(ctx context.Context, call *Call) error
	After(ctx context.Context, call *Call) error
	OnError(ctx context.Context, call *Call) error
}

// Failure is a failed after_execute or on_error hook.
type Failure struct {
	Hook  string
	Point Point
	Err   error
}

// AbortedError is returned when a before_execute hook rejected a call.
type AbortedError struct {
	Hook string
	Err  error
}

func (e *AbortedError) Error() string {
	return fmt.Sprintf("call rejected by before_execute hook %s: %v", e.Hook, e.Err)
}

func (e *AbortedError) Unwrap() error { return e.Err }

// Chain is an ordered list of hooks.
type Chain []Hook

// Run runs the chain around invoke and returns invoke's result, or the
// aborting hook's error, together with the failures of later hooks.
func (c Chain) Run(ctx context.Context, log hclog.Logger, call *Call, invoke func(context.Context) (*pluginv1.ExecuteResponse, error)) (*pluginv1.ExecuteResponse, []Failure, error) {
	if call.Start.IsZero() {
		call.Start = time.Now()
	}
	if call.Time.IsZero() {
		call.Time = clock.Now()
	}
	for i, h := range c {
		if err := h.Before(ctx, call); err != nil {
			call.Err = &AbortedError{Hook: h.Name(), Err: err}
			call.Duration = time.Since(call.Start)
			failures := c[:i].unwind(ctx, log, call, OnError)
			return nil, failures, call.Err
		}
	}
	call.Response, call.Err = invoke(ctx)
	call.Duration = time.Since(call.Start)
	point := AfterExecute
	if call.Failed() {
		point = OnError
	}
	failures := c.unwind(ctx, log, call, point)
	return call.Response, failures, call.Err
}

// unwind runs point on the hooks in reverse order and collects failures.
func (c Chain) unwind(ctx context.Context, log hclog.Logger, call *Call, point Point) []Failure {
	var failures []Failure
	for i := len(c) - 1; i >= 0; i-- {
		h := c[i]
		var err error
		if point == AfterExecute {
			err = h.After(ctx, call)
		} else {
			err = h.OnError(ctx, call)
		}
		if err != nil {
			log.Warn("hook failed", "hook", h.Name(), "point", string(point), "plugin", call.PluginID, "request_id", call.Request.GetRequestId(), "error", err)
			failures = append(failures, Failure{Hook: h.Name(), Point: point, Err: err})
		}
	}
	return failures
}
