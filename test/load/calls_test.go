package load

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk"
)

// outcome is the class of one call's result.
type outcome int

const (
	outcomeOK outcome = iota
	// outcomeRateLimited is a ResourceExhausted rejection from the rate limit.
	outcomeRateLimited
	// outcomeQuota is a ResourceExhausted rejection from another quota.
	outcomeQuota
	// outcomeFailed is every other error, and a response without success.
	outcomeFailed
)

// classify returns the class of a call's result and, for a quota rejection,
// the quota's name.
func classify(resp *apiv1.ExecuteResponse, err error) (outcome, string) {
	if err == nil {
		if resp.GetSuccess() {
			return outcomeOK, ""
		}
		return outcomeFailed, ""
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.ResourceExhausted {
		return outcomeFailed, ""
	}
	for _, detail := range st.Details() {
		info, ok := detail.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		switch info.Reason {
		case tenant.ReasonRateLimited:
			return outcomeRateLimited, info.Metadata["quota"]
		case tenant.ReasonQuotaExceeded:
			return outcomeQuota, info.Metadata["quota"]
		}
	}
	return outcomeFailed, ""
}

// tally counts the results of one group of calls. It is safe for
// concurrent use.
type tally struct {
	mu         sync.Mutex
	attempts   int64
	ok         int64
	rateLimit  int64
	quota      map[string]int64
	failed     int64
	firstError error
	latencies  []time.Duration
	// hookFailures counts responses that list a failed after_execute or
	// on_error hook, such as an audit record that could not be written.
	hookFailures     int64
	firstHookFailure string
}

func newTally() *tally { return &tally{quota: map[string]int64{}} }

// add records one call that took elapsed.
func (t *tally) add(resp *apiv1.ExecuteResponse, err error, elapsed time.Duration) outcome {
	class, quota := classify(resp, err)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.attempts++
	if failures := resp.GetHookFailures(); len(failures) > 0 {
		t.hookFailures++
		if t.firstHookFailure == "" {
			t.firstHookFailure = failures[0].GetHook() + ": " + failures[0].GetError()
		}
	}
	switch class {
	case outcomeOK:
		t.ok++
		t.latencies = append(t.latencies, elapsed)
	case outcomeRateLimited:
		t.rateLimit++
	case outcomeQuota:
		t.quota[quota]++
	default:
		t.failed++
		if t.firstError == nil {
			if err == nil {
				err = fmt.Errorf("call failed: %s", resp.GetMessage())
			}
			t.firstError = err
		}
	}
	return class
}

// merge adds the counts and latencies of other to t.
func (t *tally) merge(other *tally) {
	t.attempts += other.attempts
	t.ok += other.ok
	t.rateLimit += other.rateLimit
	t.failed += other.failed
	for q, n := range other.quota {
		t.quota[q] += n
	}
	if t.firstError == nil {
		t.firstError = other.firstError
	}
	t.latencies = append(t.latencies, other.latencies...)
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method, or 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencySummary returns p50, p99 and p99.9 of the successful calls.
func (t *tally) latencySummary() (p50, p99, p999 time.Duration) {
	sorted := slices.Clone(t.latencies)
	slices.Sort(sorted)
	return percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 99.9)
}

// dialDaemon returns a new client connection to the daemon's socket.
func dialDaemon(socket string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("unix://"+socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes)))
	if err != nil {
		return nil, fmt.Errorf("dial daemon socket %s: %w", socket, err)
	}
	return conn, nil
}

// callOnce makes one Execute call for tenantID with the call timeout
// timeout. The gRPC deadline is 10 s later, so that the daemon receives
// the requested timeout rather than a shorter deadline.
func callOnce(client apiv1.DaemonClient, pluginID, tenantID string, params []byte, timeout time.Duration) (*apiv1.ExecuteResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	return client.Execute(ctx, &apiv1.ExecuteRequest{
		PluginId:       pluginID,
		TenantId:       tenantID,
		ParametersJson: params,
		Timeout:        durationpb.New(timeout),
	})
}

// snapshot returns a copy of the counts, without the latencies.
func (t *tally) snapshot() tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tally{
		attempts: t.attempts, ok: t.ok, rateLimit: t.rateLimit, failed: t.failed, firstError: t.firstError,
		hookFailures: t.hookFailures, firstHookFailure: t.firstHookFailure,
	}
}
