package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// capabilityPermissions is the mapping from plugin capability to tenant
// permission, with the lowest plan that has each permission.
var capabilityPermissions = []struct {
	capability, permission, lowestPlan string
}{
	{"fault_injection", "execute_scenarios", "free"},
	{"traffic_shaping", "execute_scenarios", "free"},
	{"scenario", "execute_scenarios", "free"},
	{"metrics", "view_observability", "starter"},
	{"observability", "view_observability", "starter"},
	{"anomaly_detection", "use_ml_features", "professional"},
	{"integration", "integrate_external", "professional"},
	{"resilience", "manage_resilience", "starter"},
}

var planOrder = []string{"free", "starter", "professional", "enterprise"}

func planIndex(plan string) int {
	for i, p := range planOrder {
		if p == plan {
			return i
		}
	}
	return -1
}

func TestTenantPermissionPerCapabilityAndPlan(t *testing.T) {
	d := startDaemon(t)
	for _, c := range capabilityPermissions {
		bin := buildPlugin(t, "cap-"+c.capability, fmt.Sprintf("-X main.id=cap-%s -X main.caps=%s", c.capability, c.capability))
		d.install(bin, "cap-"+c.capability)
	}
	for _, plan := range planOrder {
		d.mustCLI("tenants", "create", "t-"+plan, "--plan", plan)
	}
	for _, c := range capabilityPermissions {
		d.waitRunning("cap-" + c.capability)
	}

	for _, c := range capabilityPermissions {
		for _, plan := range planOrder {
			t.Run(c.capability+"/"+plan, func(t *testing.T) {
				_, err := d.execFor("t-"+plan, "cap-"+c.capability, `{}`, 0)
				allowed := planIndex(plan) >= planIndex(c.lowestPlan)
				if allowed {
					if err != nil {
						t.Fatalf("call denied: %s; want plan %s to have %s", describe(err), plan, c.permission)
					}
					return
				}
				if status.Code(err) != codes.PermissionDenied {
					t.Fatalf("call = %s, want PermissionDenied", describe(err))
				}
				msg := status.Convert(err).Message()
				for _, want := range []string{c.permission, "plan " + plan, "lowest plan with it is " + c.lowestPlan} {
					if !strings.Contains(msg, want) {
						t.Errorf("message %q lacks %q", msg, want)
					}
				}
				info := errorInfo(err)
				if info == nil || info.GetMetadata()["lowest_plan"] != c.lowestPlan || info.GetMetadata()["permission"] != c.permission {
					t.Errorf("error info = %v, want permission %s and lowest_plan %s", info, c.permission, c.lowestPlan)
				}
			})
		}
	}

	t.Run("grant beyond plan", func(t *testing.T) {
		d.mustCLI("tenants", "grant", "t-free", "use_ml_features")
		if _, err := d.execFor("t-free", "cap-anomaly_detection", `{}`, 0); err != nil {
			t.Fatalf("call after grant: %s", describe(err))
		}
		d.mustCLI("tenants", "revoke", "t-free", "use_ml_features")
		if _, err := d.execFor("t-free", "cap-anomaly_detection", `{}`, 0); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("call after revoke = %s, want PermissionDenied", describe(err))
		}
	})
	t.Run("custom permission only on enterprise", func(t *testing.T) {
		if _, errOut, code := d.cli(nil, "tenants", "grant", "t-professional", "chaos_gameday"); code == 0 {
			t.Errorf("custom grant on professional succeeded, want a rejection")
		} else if !strings.Contains(errOut, "enterprise") {
			t.Errorf("stderr %q, want it to name the enterprise plan", errOut)
		}
		out := d.mustCLI("tenants", "grant", "t-enterprise", "chaos_gameday", "-o", "json")
		if !strings.Contains(out, "chaos_gameday") {
			t.Errorf("tenant after grant = %s, want chaos_gameday among its permissions", out)
		}
	})
}

func TestTenantPlanLimitsAsDocumented(t *testing.T) {
	d := startDaemon(t)
	want := map[string]map[string]string{
		"free":         {"scenarios": "5", "concurrent_executions": "1", "requests_per_minute": "50", "storage_bytes": "50000000", "max_duration": "10m0s", "users": "1"},
		"starter":      {"scenarios": "20", "concurrent_executions": "5", "requests_per_minute": "200", "storage_bytes": "500000000", "max_duration": "1h0m0s", "users": "5"},
		"professional": {"scenarios": "100", "concurrent_executions": "20", "requests_per_minute": "1000", "storage_bytes": "5000000000", "max_duration": "4h0m0s", "users": "25"},
		"enterprise":   {"scenarios": "unlimited", "concurrent_executions": "100", "requests_per_minute": "10000", "storage_bytes": "50000000000", "max_duration": "24h0m0s", "users": "unlimited"},
	}
	for _, plan := range planOrder {
		t.Run(plan, func(t *testing.T) {
			d.mustCLI("tenants", "create", "p-"+plan, "--plan", plan)
			var got struct {
				Plan   string            `json:"plan"`
				Quotas map[string]string `json:"quotas"`
			}
			if err := json.Unmarshal([]byte(d.mustCLI("tenants", "get", "p-"+plan, "-o", "json")), &got); err != nil {
				t.Fatalf("tenants get -o json: %v", err)
			}
			for quota, limit := range want[plan] {
				if got.Quotas[quota] != limit {
					t.Errorf("%s = %q, want %q", quota, got.Quotas[quota], limit)
				}
			}
		})
	}
}

func TestTenantLimitsEnforced(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.noop, "noop")
	d.install(bins.panicky, "panicky")
	d.mustCLI("tenants", "create", "acme", "--plan", "starter")
	d.mustCLI("tenants", "create", "other", "--plan", "starter")
	d.waitRunning("noop")
	d.waitRunning("panicky")
	tenants := d.tenants()

	t.Run("rate limit", func(t *testing.T) {
		d.mustCLI("tenants", "set-quota", "acme", "--requests-per-minute", "3")
		for i := range 3 {
			if _, err := d.execFor("acme", "noop", `{}`, 0); err != nil {
				t.Fatalf("call %d of 3: %s", i+1, describe(err))
			}
		}
		start := time.Now()
		_, err := d.execFor("acme", "noop", `{}`, 0)
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("4th call = %s, want ResourceExhausted", describe(err))
		}
		delay, ok := retryDelay(err)
		if !ok {
			t.Fatalf("4th call error carries no RetryInfo: %s", describe(err))
		}
		if delay <= 0 || delay > time.Minute-time.Since(start)+time.Second {
			t.Errorf("retry delay = %s, want between 0 and the rest of the 60s window", delay)
		}
		if !strings.Contains(status.Convert(err).Message(), "retry in") {
			t.Errorf("message %q does not say when to retry", status.Convert(err).Message())
		}
		if _, err := d.execFor("other", "noop", `{}`, 0); err != nil {
			t.Errorf("another tenant's call = %s, want it unaffected", describe(err))
		}
		d.mustCLI("tenants", "set-quota", "acme", "--requests-per-minute", "4")
		if _, err := d.execFor("acme", "noop", `{}`, 0); err != nil {
			t.Errorf("call after raising the limit to 4 = %s, want it admitted", describe(err))
		}
		d.mustCLI("tenants", "set-quota", "acme", "--requests-per-minute", "unlimited")
	})

	t.Run("concurrent executions released however the call ends", func(t *testing.T) {
		d.mustCLI("tenants", "set-quota", "acme", "--max-concurrent", "1")
		slow := make(chan error, 1)
		go func() {
			_, err := d.execFor("acme", "noop", `{"sleep_ms": 1500}`, 0)
			slow <- err
		}()
		waitFor(t, 5*time.Second, "one call in flight", func() bool {
			u, err := tenants.GetUsage(ctxTimeout(t), &apiv1.GetUsageRequest{Name: "acme"})
			return err == nil && u.GetUsage().GetConcurrentExecutions() == 1
		})
		if _, err := d.execFor("acme", "noop", `{}`, 0); status.Code(err) != codes.ResourceExhausted {
			t.Errorf("second concurrent call = %s, want ResourceExhausted", describe(err))
		}
		if err := <-slow; err != nil {
			t.Fatalf("slow call: %s", describe(err))
		}
		resp, err := d.execFor("acme", "panicky", `{}`, 0)
		if err == nil && resp.GetSuccess() {
			t.Fatalf("panicking plugin call succeeded, want a failure")
		}
		if _, err := d.execFor("acme", "noop", `{"sleep_ms": 5000}`, 200*time.Millisecond); err != nil {
			t.Logf("timed-out call: %s", describe(err))
		}
		u, err := tenants.GetUsage(ctxTimeout(t), &apiv1.GetUsageRequest{Name: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		if got := u.GetUsage().GetConcurrentExecutions(); got != 0 {
			t.Errorf("concurrent executions after success, panic and timeout = %d, want 0", got)
		}
		if _, err := d.execFor("acme", "noop", `{}`, 0); err != nil {
			t.Errorf("call after the others ended = %s, want it admitted", describe(err))
		}
	})

	t.Run("max duration", func(t *testing.T) {
		d.mustCLI("tenants", "set-quota", "acme", "--max-duration", "2s")
		_, err := d.execFor("acme", "noop", `{}`, 3*time.Second)
		if err == nil || !strings.Contains(status.Convert(err).Message(), "--max-duration") {
			t.Errorf("call with 3s timeout over a 2s limit = %s, want a rejection naming --max-duration", describe(err))
		}
		if _, err := d.execFor("acme", "noop", `{}`, time.Second); err != nil {
			t.Errorf("call with 1s timeout = %s, want it admitted", describe(err))
		}
	})

	t.Run("users", func(t *testing.T) {
		d.mustCLI("tenants", "set-quota", "acme", "--max-users", "1")
		d.mustCLI("tenants", "token", "create", "acme")
		_, errOut, code := d.cli(nil, "tenants", "token", "create", "acme")
		if code == 0 || !strings.Contains(errOut, "--max-users") {
			t.Errorf("second token: exit %d, stderr %q; want a rejection naming --max-users", code, errOut)
		}
	})

	t.Run("plan change keeps overrides and reports exceeded", func(t *testing.T) {
		d.mustCLI("tenants", "set-quota", "acme", "--max-users", "3")
		d.mustCLI("tenants", "token", "create", "acme")
		d.mustCLI("tenants", "token", "create", "acme")
		d.mustCLI("tenants", "set-quota", "acme", "--reset", "max-users")
		out, errOut, code := d.cli(nil, "tenants", "upgrade", "acme", "--plan", "free")
		if code != 0 {
			t.Fatalf("downgrade: exit %d, stderr %s", code, errOut)
		}
		if !strings.Contains(errOut, "users limit (usage 3, limit 1)") {
			t.Errorf("downgrade stderr %q, want a warning that 3 tokens exceed the free plan's 1", errOut)
		}
		if !strings.Contains(out, "2s (override)") {
			t.Errorf("tenant after downgrade:\n%s\nwant the max duration override of 2s kept", out)
		}
		var change struct {
			Exceeded []struct {
				Quota string `json:"quota"`
			} `json:"exceeded"`
		}
		if err := json.Unmarshal([]byte(d.mustCLI("tenants", "upgrade", "acme", "--plan", "starter", "-o", "json")), &change); err != nil {
			t.Fatal(err)
		}
		if len(change.Exceeded) != 0 {
			t.Errorf("exceeded after upgrade to starter = %v, want none", change.Exceeded)
		}
	})
}

func TestTenantStorageQuotaThroughPlugin(t *testing.T) {
	d := startDaemon(t)
	d.install(buildPlugin(t, "storage", "-X main.mode=storage"), "storage")
	d.mustCLI("tenants", "create", "store-a", "--plan", "free")
	d.mustCLI("tenants", "create", "store-b", "--plan", "free")
	d.mustCLI("tenants", "set-quota", "store-a", "--max-storage", "100B")
	d.waitRunning("storage")

	call := func(tenant, params string) *apiv1.ExecuteResponse {
		t.Helper()
		resp, err := d.execFor(tenant, "storage", params, 0)
		if err != nil {
			t.Fatalf("storage call %s: %s", params, describe(err))
		}
		return resp
	}
	usage := func() int64 {
		t.Helper()
		u, err := d.tenants().GetUsage(ctxTimeout(t), &apiv1.GetUsageRequest{Name: "store-a"})
		if err != nil {
			t.Fatal(err)
		}
		return u.GetUsage().GetStorageBytes()
	}

	if resp := call("store-a", `{"op":"put","key":"a","value":"`+strings.Repeat("x", 40)+`"}`); !resp.GetSuccess() {
		t.Fatalf("put of 41 bytes failed: %s", resp.GetMessage())
	}
	if got := usage(); got != 41 {
		t.Errorf("storage bytes = %d, want 41 (key plus value)", got)
	}
	resp := call("store-a", `{"op":"put","key":"b","value":"`+strings.Repeat("y", 70)+`"}`)
	if resp.GetSuccess() {
		t.Fatalf("put over the 100-byte quota succeeded")
	}
	if msg := resp.GetError().GetMessage() + resp.GetMessage(); !strings.Contains(msg, "--max-storage") {
		t.Errorf("failed put message %q, want it to name --max-storage", msg)
	}
	if got := usage(); got != 41 {
		t.Errorf("storage bytes after the rejected put = %d, want 41", got)
	}
	got := call("store-a", `{"op":"get","key":"b"}`)
	if !strings.Contains(string(got.GetDataJson()), `"found":false`) {
		t.Errorf("get of the rejected key = %s, want not found", got.GetDataJson())
	}
	if got := call("store-b", `{"op":"get","key":"a"}`); !strings.Contains(string(got.GetDataJson()), `"found":false`) {
		t.Errorf("another tenant reads %s, want its own empty storage", got.GetDataJson())
	}
	list := call("store-a", `{"op":"list","key":""}`)
	if !strings.Contains(string(list.GetDataJson()), `["a"]`) {
		t.Errorf("list = %s, want [\"a\"]", list.GetDataJson())
	}
	call("store-a", `{"op":"delete","key":"a"}`)
	if got := usage(); got != 0 {
		t.Errorf("storage bytes after delete = %d, want 0", got)
	}
	if resp := call("store-a", `{"op":"put","key":"b","value":"`+strings.Repeat("y", 70)+`"}`); !resp.GetSuccess() {
		t.Errorf("put of 71 bytes after the delete failed: %s", resp.GetMessage())
	}
}

func TestTenantDisableAndEnable(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.noop, "noop")
	d.mustCLI("tenants", "create", "paused", "--plan", "starter")
	d.mustCLI("tenants", "token", "create", "paused")
	d.waitRunning("noop")
	if _, err := d.execFor("paused", "noop", `{}`, 0); err != nil {
		t.Fatalf("call before disable: %s", describe(err))
	}

	d.mustCLI("tenants", "disable", "paused")
	if _, err := d.execFor("paused", "noop", `{}`, 0); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("call of a disabled tenant = %s, want FailedPrecondition", describe(err))
	}
	out := d.mustCLI("tenants", "get", "paused", "-o", "json")
	if !strings.Contains(out, `"disabled": true`) {
		t.Errorf("disabled tenant's record = %s, want disabled true", out)
	}

	d.mustCLI("tenants", "enable", "paused")
	if _, err := d.execFor("paused", "noop", `{}`, 0); err != nil {
		t.Errorf("call after enable: %s", describe(err))
	}
	var u struct {
		Tokens             int64 `json:"tokens"`
		RequestsLastMinute int64 `json:"requests_last_minute"`
	}
	if err := json.Unmarshal([]byte(d.mustCLI("tenants", "usage", "paused", "-o", "json")), &u); err != nil {
		t.Fatal(err)
	}
	if u.Tokens != 1 || u.RequestsLastMinute < 2 {
		t.Errorf("usage after enable = %+v, want 1 token and at least 2 requests in the last minute", u)
	}
}

func TestTenantsFileAtStart(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(good, []byte("tenants:\n  - name: filed\n    plan: professional\n    quotas:\n      concurrent_executions: 7\n    permissions: [manage_users]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--tenants-file", good)
	out := d.mustCLI("tenants", "get", "filed")
	if !strings.Contains(out, "professional") || !strings.Contains(out, "7 (override)") {
		t.Errorf("tenant from file:\n%s\nwant plan professional and 7 concurrent executions", out)
	}
	if strings.Contains(d.output.String(), "created the default tenant") {
		t.Errorf("daemon created the default tenant although the tenants file configured one")
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("tenants:\n  - name: x\n    plan: free\n    colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	output, code := runServeExpectingFailure(t, "--socket", filepath.Join(dir, "bad.sock"), "--data-dir", filepath.Join(dir, "data2"),
		"--plugins-dir", dir, "--tenants-file", bad)
	if code == 0 || !strings.Contains(output, "colour") {
		t.Errorf("serve with an unknown field: exit %d, output:\n%s\nwant a rejection naming the field", code, output)
	}
}

func TestTenantDefaultWithoutConfiguration(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.noop, "noop")
	d.waitRunning("noop")
	if !strings.Contains(d.output.String(), "created the default tenant on the enterprise plan") {
		t.Errorf("daemon log does not say it created the default tenant")
	}
	if _, _, code := d.cli(nil, "exec", "noop"); code != 0 {
		t.Errorf("exec without --tenant failed, want it to run as the default tenant")
	}
}

func TestTenantStateSurvivesRestart(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.noop, "noop")
	tenants := d.tenants()
	d.mustCLI("tenants", "create", "keep", "--plan", "starter")
	d.mustCLI("tenants", "set-quota", "keep", "--max-concurrent", "1", "--max-storage", "1MB")
	d.mustCLI("tenants", "grant", "keep", "use_ml_features")
	token := strings.TrimSpace(d.mustCLI("tenants", "token", "create", "keep"))
	before := d.mustCLI("tenants", "get", "keep", "-o", "json")

	d.stop(syscall.SIGTERM)
	d.start()
	if after := d.mustCLI("tenants", "get", "keep", "-o", "json"); after != before {
		t.Errorf("tenant after SIGTERM restart:\n%s\nwant as before:\n%s", after, before)
	}
	if _, _, code := d.cli(nil, "--token", token, "tenants", "get", "keep"); code != 0 {
		t.Errorf("token does not work after restart")
	}

	t.Run("SIGKILL mid-burst", func(t *testing.T) {
		d.waitRunning("noop")
		slow := make(chan struct{})
		go func() {
			defer close(slow)
			_, _ = d.execFor("keep", "noop", `{"sleep_ms": 10000}`, 0)
		}()
		waitFor(t, 5*time.Second, "one call in flight", func() bool {
			u, err := tenants.GetUsage(ctxTimeout(t), &apiv1.GetUsageRequest{Name: "keep"})
			return err == nil && u.GetUsage().GetConcurrentExecutions() == 1
		})

		acked := make(chan string, 200)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(acked)
			for i := range 200 {
				name := fmt.Sprintf("burst-%03d", i)
				ctx := ctxTimeout(t)
				if _, err := tenants.CreateTenant(ctx, &apiv1.CreateTenantRequest{Name: name, Plan: "free"}); err != nil {
					return
				}
				acked <- name
			}
		}()
		waitFor(t, 10*time.Second, "20 acknowledged writes", func() bool { return len(acked) >= 20 })
		d.stop(syscall.SIGKILL)
		<-done
		<-slow
		var names []string
		for n := range acked {
			names = append(names, n)
		}

		d.start()
		listed, err := tenants.ListTenants(ctxTimeout(t), &apiv1.ListTenantsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, tn := range listed.GetTenants() {
			have[tn.GetName()] = true
		}
		for _, n := range names {
			if !have[n] {
				t.Errorf("acknowledged tenant %s lost after SIGKILL", n)
			}
		}
		t.Logf("%d acknowledged writes before SIGKILL", len(names))
		u, err := tenants.GetUsage(ctxTimeout(t), &apiv1.GetUsageRequest{Name: "keep"})
		if err != nil {
			t.Fatal(err)
		}
		if got := u.GetUsage().GetConcurrentExecutions(); got != 0 {
			t.Errorf("concurrent executions after restart = %d, want 0", got)
		}
		d.waitRunning("noop")
		if _, err := d.execFor("keep", "noop", `{}`, 0); err != nil {
			t.Errorf("call after restart with max-concurrent 1 = %s, want it admitted", describe(err))
		}
	})
}

func TestTenantStoreCorruptOrLocked(t *testing.T) {
	t.Run("corrupt", func(t *testing.T) {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatal(err)
		}
		store := filepath.Join(data, "tenants.db")
		if err := os.WriteFile(store, []byte(strings.Repeat("not a bbolt file\n", 512)), 0o600); err != nil {
			t.Fatal(err)
		}
		output, code := runServeExpectingFailure(t, "--socket", filepath.Join(dir, "s.sock"), "--data-dir", data, "--plugins-dir", dir)
		if code == 0 || !strings.Contains(output, store) {
			t.Errorf("serve on a corrupt store: exit %d, output:\n%s\nwant an error naming %s", code, output, store)
		}
		if content, _ := os.ReadFile(store); !strings.HasPrefix(string(content), "not a bbolt file") {
			t.Errorf("the corrupt store file was changed")
		}
	})
	t.Run("locked", func(t *testing.T) {
		d := startDaemon(t)
		sockDir := t.TempDir()
		output, code := runServeExpectingFailure(t, "--socket", filepath.Join(sockDir, "s.sock"), "--data-dir", d.dataDir, "--plugins-dir", d.pluginsDir)
		if code == 0 || !strings.Contains(output, "lock") {
			t.Errorf("second daemon on the same data dir: exit %d, output:\n%s\nwant an error about the locked store", code, output)
		}
		d.mustCLI("tenants", "get", "default")
	})
}
