package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// recorder is a hook that records the points it ran at and fails at its
// configured point.
type recorder struct {
	name   string
	log    *[]string
	failAt Point
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) do(p Point) error {
	*r.log = append(*r.log, r.name+":"+string(p))
	if r.failAt == p {
		return errors.New(r.name + " failed at " + string(p))
	}
	return nil
}

func (r *recorder) Before(context.Context, *Call) error  { return r.do(BeforeExecute) }
func (r *recorder) After(context.Context, *Call) error   { return r.do(AfterExecute) }
func (r *recorder) OnError(context.Context, *Call) error { return r.do(OnError) }

func TestChainOrder(t *testing.T) {
	ok := func(context.Context) (*pluginv1.ExecuteResponse, error) {
		return &pluginv1.ExecuteResponse{Success: true}, nil
	}
	failedResult := func(context.Context) (*pluginv1.ExecuteResponse, error) {
		return &pluginv1.ExecuteResponse{Success: false, Message: "nope"}, nil
	}
	transportErr := func(context.Context) (*pluginv1.ExecuteResponse, error) {
		return nil, errors.New("plugin gone")
	}
	tests := []struct {
		name         string
		failAt       map[string]Point
		invoke       func(context.Context) (*pluginv1.ExecuteResponse, error)
		wantLog      []string
		wantInvoked  bool
		wantErr      string
		wantFailures int
	}{
		{
			name:        "success runs after hooks in reverse",
			invoke:      ok,
			wantLog:     []string{"a:before_execute", "b:before_execute", "invoke", "b:after_execute", "a:after_execute"},
			wantInvoked: true,
		},
		{
			name:        "failed result runs on_error",
			invoke:      failedResult,
			wantLog:     []string{"a:before_execute", "b:before_execute", "invoke", "b:on_error", "a:on_error"},
			wantInvoked: true,
		},
		{
			name:        "transport error runs on_error",
			invoke:      transportErr,
			wantLog:     []string{"a:before_execute", "b:before_execute", "invoke", "b:on_error", "a:on_error"},
			wantInvoked: true,
			wantErr:     "plugin gone",
		},
		{
			name:    "before failure aborts and unwinds earlier hooks",
			failAt:  map[string]Point{"b": BeforeExecute},
			invoke:  ok,
			wantLog: []string{"a:before_execute", "b:before_execute", "a:on_error"},
			wantErr: "call rejected by before_execute hook b: b failed at before_execute",
		},
		{
			name:         "after failure is reported, not returned",
			failAt:       map[string]Point{"b": AfterExecute},
			invoke:       ok,
			wantLog:      []string{"a:before_execute", "b:before_execute", "invoke", "b:after_execute", "a:after_execute"},
			wantInvoked:  true,
			wantFailures: 1,
		},
		{
			name:         "on_error failure keeps the original error",
			failAt:       map[string]Point{"a": OnError},
			invoke:       transportErr,
			wantLog:      []string{"a:before_execute", "b:before_execute", "invoke", "b:on_error", "a:on_error"},
			wantInvoked:  true,
			wantErr:      "plugin gone",
			wantFailures: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			chain := Chain{
				&recorder{name: "a", log: &log, failAt: tc.failAt["a"]},
				&recorder{name: "b", log: &log, failAt: tc.failAt["b"]},
			}
			invoked := false
			_, failures, err := chain.Run(context.Background(), hclog.NewNullLogger(), &Call{Request: &pluginv1.ExecuteRequest{}},
				func(ctx context.Context) (*pluginv1.ExecuteResponse, error) {
					invoked = true
					log = append(log, "invoke")
					return tc.invoke(ctx)
				})
			if !reflect.DeepEqual(log, tc.wantLog) {
				t.Errorf("order = %v, want %v", log, tc.wantLog)
			}
			if invoked != tc.wantInvoked {
				t.Errorf("plugin invoked = %v, want %v", invoked, tc.wantInvoked)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Errorf("error = %q, want %q", gotErr, tc.wantErr)
			}
			if len(failures) != tc.wantFailures {
				t.Errorf("failures = %v, want %d", failures, tc.wantFailures)
			}
		})
	}
}

func TestAuditRecordsOutcome(t *testing.T) {
	var buf bytes.Buffer
	chain := Chain{NewAudit(&buf)}
	req := &pluginv1.ExecuteRequest{TenantId: "acme", RequestId: "r1"}
	call := &Call{PluginID: "p", PluginVersion: "1.0.0", Request: req}
	_, _, err := chain.Run(context.Background(), hclog.NewNullLogger(), call, func(context.Context) (*pluginv1.ExecuteResponse, error) {
		return &pluginv1.ExecuteResponse{Success: false, Error: &pluginv1.ErrorDetail{Message: "db down"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var rec AuditRecord
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("audit line %q: %v", buf.String(), err)
	}
	if rec.Tenant != "acme" || rec.PluginID != "p" || rec.PluginVersion != "1.0.0" || rec.Outcome != "failure" || rec.Error != "db down" {
		t.Errorf("record = %+v", rec)
	}
	if !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("want exactly one line, got %q", buf.String())
	}
}
