package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// chaosParams returns the parameters of the last call the fake daemon
// received.
func chaosParams(t *testing.T, fake *fakeDaemon) map[string]any {
	t.Helper()
	req := fake.lastExecute()
	if req == nil {
		t.Fatal("the fake daemon received no Execute request")
	}
	if req.GetPluginId() != chaosPluginID {
		t.Errorf("plugin = %q, want %s", req.GetPluginId(), chaosPluginID)
	}
	var params map[string]any
	if err := json.Unmarshal(req.GetParametersJson(), &params); err != nil {
		t.Fatalf("decode parameters: %v", err)
	}
	return params
}

func TestChaosNetworkShortcuts(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		field string
		want  map[string]any
	}{
		{"delay correlation", []string{"network-delay", "--latency", "200ms", "--correlation", "25"}, "delay", map[string]any{"latency": "200ms", "correlation": "25"}},
		{"loss correlation", []string{"network-loss", "--loss", "30", "--correlation", "40"}, "loss", map[string]any{"loss": "30", "correlation": "40"}},
		{"duplicate", []string{"network-duplicate", "--duplicate", "5", "--correlation", "10"}, "duplicate", map[string]any{"duplicate": "5", "correlation": "10"}},
		{"corrupt", []string{"network-corrupt", "--corrupt", "7"}, "corrupt", map[string]any{"corrupt": "7"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			fake.executeResult = &apiv1.ExecuteResponse{Success: true, DataJson: []byte(`{}`)}
			args := append([]string{"--socket", socket, "chaos"}, tc.args...)
			if res := runCLI(t, "", append(args, "--selector", "app=api")...); res.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			spec, _ := chaosParams(t, fake)["spec"].(map[string]any)
			if spec["action"] != tc.field {
				t.Errorf("spec.action = %v, want %s", spec["action"], tc.field)
			}
			if got := spec[tc.field]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("spec.%s = %v, want %v", tc.field, got, tc.want)
			}
		})
	}
}

func TestChaosWaitParameters(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	fake.executeResult = &apiv1.ExecuteResponse{Success: true, DataJson: []byte(`{}`)}
	res := runCLI(t, "", "--socket", socket, "chaos", "wait", "networkchaos", "api-delay", "--for", "recovered", "--timeout", "2m", "--namespace", "shop")
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	want := map[string]any{"operation": "wait", "kind": "networkchaos", "name": "api-delay", "for": "recovered", "timeout": "2m0s", "namespace": "shop"}
	if got := chaosParams(t, fake); !reflect.DeepEqual(got, want) {
		t.Errorf("parameters = %v, want %v", got, want)
	}
	if got := fake.lastExecute().GetTimeout().AsDuration(); got != 2*time.Minute+chaosWaitMargin {
		t.Errorf("call deadline = %s, want the wait's timeout plus %s", got, chaosWaitMargin)
	}
}

func TestChaosWaitRejectsBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing for", []string{}, `invalid --for ""`},
		{"unknown for", []string{"--for", "gone"}, `invalid --for "gone"`},
		{"zero timeout", []string{"--for", "injected", "--timeout", "0s"}, "invalid --timeout 0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			res := runCLI(t, "", append([]string{"--socket", socket, "chaos", "wait", "podchaos", "web-kill"}, tc.args...)...)
			if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want a failure containing %q", res.code, res.stderr, tc.want)
			}
			if fake.requestCount() != 0 {
				t.Errorf("%d requests sent, want none", fake.requestCount())
			}
		})
	}
}

func TestChaosCreateRequiresTarget(t *testing.T) {
	rejected := []struct {
		name string
		args []string
	}{
		{"no selector", []string{"pod-kill", "--dry-run"}},
		{"experiment namespace only", []string{"pod-kill", "--namespace", "shop"}},
		{"mode only", []string{"network-loss", "--loss", "30", "--mode", "all"}},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			res := runCLI(t, "", append([]string{"--socket", socket, "chaos"}, tc.args...)...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d (usage)", res.code, exitUsage)
			}
			for _, flag := range []string{"no target pods selected", "--selector", "--pod", "--target-namespace"} {
				if !strings.Contains(res.stderr, flag) {
					t.Errorf("stderr %q does not contain %q", res.stderr, flag)
				}
			}
			if fake.requestCount() != 0 {
				t.Errorf("%d requests sent, want none", fake.requestCount())
			}
		})
	}

	accepted := []struct {
		name  string
		args  []string
		field string
		want  any
	}{
		{"target namespace", []string{"--target-namespace", "shop"}, "namespaces", []any{"shop"}},
		{"pod", []string{"--pod", "shop/web-0"}, "pods", map[string]any{"shop": []any{"web-0"}}},
		{"phase", []string{"--phase", "Running"}, "podPhaseSelectors", []any{"Running"}},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			fake.executeResult = &apiv1.ExecuteResponse{Success: true, DataJson: []byte(`{}`)}
			res := runCLI(t, "", append([]string{"--socket", socket, "chaos", "pod-kill"}, tc.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			spec, _ := chaosParams(t, fake)["spec"].(map[string]any)
			selector, _ := spec["selector"].(map[string]any)
			if got := selector[tc.field]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("spec.selector.%s = %v, want %v", tc.field, got, tc.want)
			}
		})
	}
}
