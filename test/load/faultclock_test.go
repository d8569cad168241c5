package load

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/clock"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Tenants of the clock row: clockTenant runs scenarios and clockRateTenant
// holds a full rate-limit window while the clock steps.
const (
	clockTenant     = "clocked"
	clockRateTenant = "clock-rate"
	clockRateLimit  = 20
)

// clockScenario is a scenario of one call to the no-op plugin.
const clockScenario = "name: tick\nsteps:\n  - plugin: noop\n"

// useFaultClock makes the daemon run the faultclock build with its wall
// clock offset read from a file in its root, at zero until stepClock.
func (d *daemon) useFaultClock() {
	binary, err := faultClockDaemon()
	if err != nil {
		d.t.Fatal(err)
	}
	d.binary = binary
	d.clockFile = filepath.Join(d.root, "clock-offset")
	if err := os.WriteFile(d.clockFile, []byte("0s"), 0o600); err != nil {
		d.t.Fatal(err)
	}
	d.env = append(os.Environ(), clock.FaultFileEnv+"="+d.clockFile)
}

// stepClock sets the daemon's wall clock to the machine's plus offset and
// waits until a timestamp the daemon records shows it.
func (d *daemon) stepClock(offset time.Duration) {
	t := d.t
	t.Helper()
	if err := os.WriteFile(d.clockFile, []byte(offset.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each probe changes a quota of clockTenant, so that its update time
	// is written anew.
	users := int64(100)
	waitFor(t, 10*time.Second, "the daemon's wall clock to step by "+offset.String(), func() bool {
		users++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := d.tenants.SetQuotas(ctx, &apiv1.SetQuotasRequest{Name: clockTenant,
			Set: &apiv1.Quotas{Users: limitOf(users)}})
		if err != nil {
			t.Fatalf("set quotas of %s: %v", clockTenant, err)
		}
		skew := time.Until(resp.GetTenant().GetUpdatedAt().AsTime()) - offset
		return skew > -time.Second && skew < time.Second
	})
}

func clockStepped() faultCase {
	return faultCase{
		name:       "daemon's wall clock stepped",
		faultClock: true,
		setup: func(t *testing.T, d *daemon) {
			setUpTenants(t, d, []tenantCase{
				{name: clockTenant, plan: "enterprise", set: &apiv1.Quotas{RequestsPerMinute: unlimited()}},
				{name: clockRateTenant, plan: "enterprise", set: &apiv1.Quotas{RequestsPerMinute: limitOf(clockRateLimit)}},
			})
			createScenario(t, d, clockScenario)
		},
		inject: func(t *testing.T, d *daemon, _ *background) {
			started := time.Now()
			uptime := d.uptime()
			for i := range clockRateLimit {
				resp, err := callOnce(d.client, noopID, clockRateTenant, []byte(`{}`), callTimeout)
				if got, _ := classify(resp, err); got != outcomeOK {
					t.Fatalf("call %d of %d within the rate limit: %v", i+1, clockRateLimit, err)
				}
			}
			checkRateLimited(t, d, "before the clock step")
			first := runScenario(t, d)

			// A day forward: the rate-limit window must not empty, and
			// uptime must not jump.
			d.stepClock(25 * time.Hour)
			checkRateLimited(t, d, "after the wall clock stepped a day forward")
			ahead := runScenario(t, d)
			tokenAhead := createToken(t, d, "made a day ahead")

			// Back to two hours behind the machine.
			d.stepClock(-2 * time.Hour)
			checkRateLimited(t, d, "after the wall clock stepped back")
			behind := runScenario(t, d)
			tokenBehind := createToken(t, d, "made two hours behind")

			if got, limit := d.uptime()-uptime, time.Since(started)+time.Second; got < 0 || got > limit {
				t.Errorf("uptime moved by %s across the clock steps, want between 0 and %s", got, limit)
			}
			// The timestamps follow the wall clock, and the ids follow
			// the order of the runs.
			if gap := ahead.GetStartedAt().AsTime().Sub(first.GetStartedAt().AsTime()); gap < 24*time.Hour {
				t.Errorf("started_at moved by %s when the clock stepped a day forward", gap)
			}
			if gap := ahead.GetStartedAt().AsTime().Sub(behind.GetStartedAt().AsTime()); gap < 26*time.Hour {
				t.Errorf("started_at moved back by %s when the clock stepped 27 hours back", gap)
			}
			checkExecutionOrder(t, d, first.GetId(), ahead.GetId(), behind.GetId())
			checkTokenOrder(t, d, tokenAhead, tokenBehind)
			checkAuditAcrossSteps(t, filepath.Join(d.dataDir, "audit.log"))
		},
		afterStop: func(t *testing.T, d *daemon) {
			// Restarted on the machine's clock, which is now behind the id
			// of the run made a day ahead: new ids still sort last.
			if err := os.WriteFile(d.clockFile, []byte("0s"), 0o600); err != nil {
				t.Fatal(err)
			}
			d.start()
			before := listExecutionIDs(t, d)
			after := runScenario(t, d)
			checkExecutionOrder(t, d, append(before, after.GetId())...)
		},
	}
}

// uptime returns the daemon's uptime from its Status RPC.
func (d *daemon) uptime() time.Duration {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := d.client.Status(ctx, &apiv1.StatusRequest{})
	if err != nil {
		d.t.Fatalf("status: %v", err)
	}
	return resp.GetUptime().AsDuration()
}

// checkRateLimited checks that a call of clockRateTenant, which used its
// whole window, is rejected with a retry delay within the minute.
func checkRateLimited(t *testing.T, d *daemon, when string) {
	t.Helper()
	resp, err := callOnce(d.client, noopID, clockRateTenant, []byte(`{}`), callTimeout)
	if got, _ := classify(resp, err); got != outcomeRateLimited {
		t.Errorf("%s: a call over the rate limit got %v (success %v), want a rate-limit rejection", when, err, resp.GetSuccess())
		return
	}
	var retry time.Duration
	for _, detail := range status.Convert(err).Details() {
		if info, ok := detail.(*errdetails.RetryInfo); ok {
			retry = info.GetRetryDelay().AsDuration()
		}
	}
	if retry <= 0 || retry > time.Minute {
		t.Errorf("%s: retry delay %s, want within the 60-second window", when, retry)
	}
}

// createScenario stores src as a scenario of clockTenant.
func createScenario(t *testing.T, d *daemon, src string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := apiv1.NewScenariosClient(d.conn).CreateScenario(ctx, &apiv1.PutScenarioRequest{
		TenantId: clockTenant, Source: []byte(src), SourceName: "tick.yaml"})
	if err != nil {
		t.Fatalf("create scenario: %v", err)
	}
}

// runScenario runs the scenario "tick" of clockTenant and waits for it to
// complete.
func runScenario(t *testing.T, d *daemon) *apiv1.Execution {
	t.Helper()
	client := apiv1.NewScenariosClient(d.conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	run, err := client.RunScenario(ctx, &apiv1.RunScenarioRequest{TenantId: clockTenant, Name: "tick"})
	if err != nil {
		t.Fatalf("run scenario: %v", err)
	}
	id := run.GetExecution().GetId()
	var exec *apiv1.Execution
	waitFor(t, 20*time.Second, "execution "+id+" to end", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := client.GetExecution(ctx, &apiv1.GetExecutionRequest{TenantId: clockTenant, Id: id})
		if err != nil {
			t.Fatalf("get execution %s: %v", id, err)
		}
		exec = resp.GetExecution()
		return exec.GetState() != "running"
	})
	if exec.GetState() != "completed" {
		t.Fatalf("execution %s ended %s (%s), want completed", id, exec.GetState(), exec.GetReason())
	}
	return exec
}

// listExecutionIDs returns the ids of clockTenant's executions as listed.
func listExecutionIDs(t *testing.T, d *daemon) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := apiv1.NewScenariosClient(d.conn).ListExecutions(ctx, &apiv1.ListExecutionsRequest{TenantId: clockTenant})
	if err != nil {
		t.Fatalf("list executions: %v", err)
	}
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetId())
	}
	return ids
}

// checkExecutionOrder checks that clockTenant's executions are listed in
// the order of want, the order in which they were run.
func checkExecutionOrder(t *testing.T, d *daemon, want ...string) {
	t.Helper()
	got := listExecutionIDs(t, d)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("executions listed as %v, want the order of the runs %v", got, want)
	}
}

// createToken creates a token of clockTenant and returns its id.
func createToken(t *testing.T, d *daemon, description string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := d.tenants.CreateToken(ctx, &apiv1.CreateTokenRequest{Name: clockTenant, Description: description})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return resp.GetInfo().GetId()
}

// checkTokenOrder checks that clockTenant's tokens are listed in the order
// of want, the order in which they were created.
func checkTokenOrder(t *testing.T, d *daemon, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := d.tenants.ListTokens(ctx, &apiv1.ListTokensRequest{Name: clockTenant})
	if err != nil {
		t.Fatalf("list tokens: %v", err)
	}
	var got []string
	for _, info := range resp.GetTokens() {
		got = append(got, info.GetId())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tokens listed as %v, want the order of creation %v", got, want)
	}
}

// checkAuditAcrossSteps checks the audit log of a daemon whose clock
// stepped a day forward and then back: every line is a record with a
// duration within the call timeout, and the times show both steps.
func checkAuditAcrossSteps(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Now()
	var lines, ahead, behind int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines++
		var rec struct {
			Time       time.Time `json:"time"`
			DurationMS float64   `json:"duration_ms"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("audit line %d: %v", lines, err)
			continue
		}
		if rec.DurationMS < 0 || rec.DurationMS > float64(callTimeout.Milliseconds()) {
			t.Errorf("audit line %d: duration %.3f ms, want between 0 and the call timeout", lines, rec.DurationMS)
		}
		switch {
		case rec.Time.After(now.Add(24 * time.Hour)):
			ahead++
		case rec.Time.Before(now.Add(-time.Hour)):
			behind++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if ahead == 0 || behind == 0 {
		t.Errorf("of %d audit records, %d are a day ahead and %d two hours behind; want some of each", lines, ahead, behind)
	}
}
