package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// TestExecuteDeadlines runs a call that would take 5 s under each source
// of its deadline: the request's timeout, the server's default (1 s in
// startAPI) and the caller's own deadline when it comes first. Each must
// end with DeadlineExceeded long before the plugin would have finished,
// and leave the plugin ready for the next call.
func TestExecuteDeadlines(t *testing.T) {
	fx := startAPI(t)
	client := apiv1.NewDaemonClient(fx.conn)
	slow := []byte(`{"fault_type":"slow_query","latency_ms":5000}`)
	tests := []struct {
		name           string
		callerDeadline time.Duration
		timeout        *durationpb.Duration
		// wantDaemonMessage is set when the daemon, not the client,
		// ends the call, so the error carries the daemon's message.
		wantDaemonMessage bool
	}{
		{name: "request timeout", callerDeadline: 10 * time.Second, timeout: durationpb.New(200 * time.Millisecond), wantDaemonMessage: true},
		{name: "default timeout", callerDeadline: 10 * time.Second, wantDaemonMessage: true},
		{name: "caller deadline first", callerDeadline: 300 * time.Millisecond},
		{name: "caller deadline before request timeout", callerDeadline: 300 * time.Millisecond, timeout: durationpb.New(3 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.callerDeadline)
			defer cancel()
			start := time.Now()
			resp, err := client.Execute(ctx, &apiv1.ExecuteRequest{PluginId: "db-fault-simulator", ParametersJson: slow, Timeout: tt.timeout})
			elapsed := time.Since(start)

			if elapsed >= 4*time.Second {
				t.Errorf("call ended after %s, want it cut short well before the plugin's 5 s", elapsed)
			}
			// The plugin's deadline comes slightly before the daemon's, so
			// the plugin's own failure with code deadline_exceeded can
			// arrive before the daemon's deadline ends the call. Either
			// outcome shows that the deadline reached the plugin.
			if err == nil {
				if resp.GetSuccess() || resp.GetError().GetCode() != "deadline_exceeded" {
					t.Fatalf("result %v, want DeadlineExceeded or a failure with code deadline_exceeded", resp)
				}
			} else {
				if code := status.Code(err); code != codes.DeadlineExceeded {
					t.Fatalf("code %s (%v), want DeadlineExceeded", code, err)
				}
				if tt.wantDaemonMessage && !strings.Contains(err.Error(), "exceeded its deadline") {
					t.Errorf("error %q does not carry the daemon's deadline message", err)
				}
			}

			next, cancelNext := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancelNext()
			resp, err = client.Execute(next, &apiv1.ExecuteRequest{PluginId: "db-fault-simulator", ParametersJson: []byte(`{"fault_type":"slow_query","latency_ms":1}`)})
			if err != nil || !resp.GetSuccess() {
				t.Errorf("call after the deadline: %v %v, want success", resp, err)
			}
		})
	}
}
