package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/mockforge/mockforged/builtin/chaosmesh/chaosmeshtest"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// chaosEnv is the API server, the daemon and a client of the server shared
// by the Chaos Mesh tests.
type chaosEnv struct {
	d      *daemon
	client dynamic.Interface
}

const chaosNamespace = "chaos-test"

// TestChaosMesh runs the Chaos Mesh plugin through the daemon against one
// real API server with Chaos Mesh's CRDs, started once for all subtests.
func TestChaosMesh(t *testing.T) {
	srv, err := chaosmeshtest.Start(t)
	t.Cleanup(srv.Stop)
	if err != nil {
		t.Fatalf("start API server with Chaos Mesh CRDs: %v", err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := srv.WriteKubeconfig(kubeconfig, "chaos", chaosNamespace); err != nil {
		t.Fatal(err)
	}
	client, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t)
	d.waitState("builtin:chaosmesh", running, 30*time.Second)
	config := fmt.Sprintf(`{"kubeconfig": %q, "context": "chaos", "default_duration": "45s"}`, kubeconfig)
	if out, errOut, code := d.cli(strings.NewReader(config), "plugins", "configure", "chaos-mesh", "--file", "-"); code != 0 {
		t.Fatalf("configure chaos-mesh: exit %d\n%s%s", code, out, errOut)
	}
	env := &chaosEnv{d: d, client: client}

	t.Run("create read back", env.testCreateReadBack)
	t.Run("rejections", env.testRejections)
	t.Run("pause resume", env.testPauseResume)
	t.Run("status from controller", env.testStatus)
	t.Run("list foreign", env.testListForeign)
	t.Run("delete cleanup", env.testDeleteCleanup)
	t.Run("cli", env.testCLI)
	t.Run("cli network shortcuts", env.testCLINetwork)
	t.Run("cli dry run name", env.testCLIDryRunName)
	t.Run("cli wait", env.testCLIWait)
	t.Run("plan max duration", env.testPlanMaxDuration)
}

// call runs one operation and returns the result's data; it fails the
// test when the call fails.
func (e *chaosEnv) call(t *testing.T, params map[string]any) map[string]any {
	t.Helper()
	resp := e.exec(t, params)
	if !resp.Success {
		t.Fatalf("call %v failed: %s: %s", params["operation"], resp.GetError().GetCode(), resp.GetError().GetMessage())
	}
	var data map[string]any
	if err := json.Unmarshal(resp.DataJson, &data); err != nil {
		t.Fatalf("decode result data: %v", err)
	}
	return data
}

func (e *chaosEnv) exec(t *testing.T, params map[string]any) *apiv1.ExecuteResponse {
	t.Helper()
	raw, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := e.d.exec(ctx, "chaos-mesh", string(raw))
	if err != nil {
		t.Fatalf("exec chaos-mesh: %v", err)
	}
	return resp
}

func gvr(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: resource}
}

func (e *chaosEnv) get(t *testing.T, resource, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := e.client.Resource(gvr(resource)).Namespace(chaosNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s %s: %v", resource, name, err)
	}
	return u
}

func selectorSpec(mode, value string) map[string]any {
	spec := map[string]any{
		"mode": mode,
		"selector": map[string]any{
			"namespaces":          []any{"shop"},
			"labelSelectors":      map[string]any{"app": "web"},
			"expressionSelectors": []any{map[string]any{"key": "tier", "operator": "In", "values": []any{"front", "back"}}},
			"annotationSelectors": map[string]any{"team": "a"},
			"fieldSelectors":      map[string]any{"metadata.name": "web-0"},
			"podPhaseSelectors":   []any{"Running"},
			"nodeSelectors":       map[string]any{"zone": "z1"},
			"nodes":               []any{"node-1"},
			"pods":                map[string]any{"shop": []any{"web-0", "web-1"}},
		},
	}
	if value != "" {
		spec["value"] = value
	}
	return spec
}

func with(base map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func (e *chaosEnv) testCreateReadBack(t *testing.T) {
	sel := selectorSpec("one", "")
	cases := []struct {
		name, kind, resource string
		spec                 map[string]any
	}{
		{"pod-kill one", "PodChaos", "podchaos", with(sel, map[string]any{"action": "pod-kill", "gracePeriod": int64(5)})},
		{"pod-failure all", "PodChaos", "podchaos", with(selectorSpec("all", ""), map[string]any{"action": "pod-failure"})},
		{"container-kill fixed", "PodChaos", "podchaos", with(selectorSpec("fixed", "2"), map[string]any{"action": "container-kill", "containerNames": []any{"app", "sidecar"}})},
		{"delay fixed-percent", "NetworkChaos", "networkchaos", with(selectorSpec("fixed-percent", "50"), map[string]any{"action": "delay", "delay": map[string]any{"latency": "200ms", "jitter": "20ms", "correlation": "25"}})},
		{"loss random-max-percent", "NetworkChaos", "networkchaos", with(selectorSpec("random-max-percent", "30"), map[string]any{"action": "loss", "loss": map[string]any{"loss": "30", "correlation": "10"}})},
		{"duplicate", "NetworkChaos", "networkchaos", with(sel, map[string]any{"action": "duplicate", "duplicate": map[string]any{"duplicate": "5", "correlation": "0"}})},
		{"corrupt", "NetworkChaos", "networkchaos", with(sel, map[string]any{"action": "corrupt", "corrupt": map[string]any{"corrupt": "5", "correlation": "0"}})},
		{"partition", "NetworkChaos", "networkchaos", with(sel, map[string]any{"action": "partition", "direction": "both", "target": map[string]any{"mode": "all", "selector": map[string]any{"namespaces": []any{"db"}}}})},
		{"bandwidth", "NetworkChaos", "networkchaos", with(sel, map[string]any{"action": "bandwidth", "bandwidth": map[string]any{"rate": "1mbps", "limit": int64(20971520), "buffer": int64(10000), "peakrate": int64(2000000), "minburst": int64(1500)}})},
		{"stress cpu memory", "StressChaos", "stresschaos", with(sel, map[string]any{"containerNames": []any{"app"}, "stressors": map[string]any{"cpu": map[string]any{"workers": int64(2), "load": int64(80)}, "memory": map[string]any{"workers": int64(1), "size": "256MB"}}})},
		{"io latency", "IOChaos", "iochaos", with(sel, map[string]any{"action": "latency", "volumePath": "/data", "path": "/data/**", "methods": []any{"read", "write"}, "percent": int64(50), "delay": "100ms"})},
		{"io fault", "IOChaos", "iochaos", with(sel, map[string]any{"action": "fault", "volumePath": "/data", "errno": int64(5)})},
		{"io attrOverride", "IOChaos", "iochaos", with(sel, map[string]any{"action": "attrOverride", "volumePath": "/data", "attr": map[string]any{"perm": int64(72)}})},
		{"io mistake", "IOChaos", "iochaos", with(sel, map[string]any{"action": "mistake", "volumePath": "/data", "mistake": map[string]any{"filling": "zero", "maxOccurrences": int64(1), "maxLength": int64(10)}})},
		{"time offset", "TimeChaos", "timechaos", with(sel, map[string]any{"timeOffset": "-5m", "clockIds": []any{"CLOCK_REALTIME"}, "containerNames": []any{"app"}})},
		{"dns error", "DNSChaos", "dnschaos", with(sel, map[string]any{"action": "error", "patterns": []any{"example.com"}})},
		{"http abort", "HTTPChaos", "httpchaos", with(sel, map[string]any{"target": "Request", "port": int64(80), "path": "/api/*", "method": "GET", "abort": true})},
		{"jvm latency", "JVMChaos", "jvmchaos", with(sel, map[string]any{"action": "latency", "class": "Main", "method": "run", "latency": int64(100), "port": int64(9277)})},
		{"kernel", "KernelChaos", "kernelchaos", with(sel, map[string]any{"failKernRequest": map[string]any{"callchain": []any{map[string]any{"funcname": "__x64_sys_mount"}}, "failtype": int64(0), "probability": int64(1), "times": int64(1)}})},
		{"schedule", "Schedule", "schedules", map[string]any{"schedule": "@every 5m", "type": "PodChaos", "historyLimit": int64(2), "concurrencyPolicy": "Forbid", "podChaos": with(sel, map[string]any{"action": "pod-kill"})}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("read-back-%d", i)
			data := e.call(t, map[string]any{"operation": "create", "kind": tc.kind, "name": name, "spec": tc.spec, "duration": "2m"})
			if _, ok := data["experiment"]; !ok {
				t.Fatalf("result data lacks experiment: %v", data)
			}
			got := e.get(t, tc.resource, name)
			spec, _, _ := unstructured.NestedMap(got.Object, "spec")
			assertSubset(t, "spec", tc.spec, spec)
			durationField := []string{"spec", "duration"}
			if tc.kind == "Schedule" {
				durationField = []string{"spec", "podChaos", "duration"}
			}
			if d, _, _ := unstructured.NestedString(got.Object, durationField...); d != "2m0s" {
				t.Errorf("%s = %q, want 2m0s", strings.Join(durationField, "."), d)
			}
			labels := got.GetLabels()
			if labels["app.kubernetes.io/managed-by"] != "mockforged" {
				t.Errorf("managed-by label = %q, want mockforged", labels["app.kubernetes.io/managed-by"])
			}
			if _, ok := labels["mockforged.io/tenant"]; !ok {
				t.Errorf("tenant label missing: %v", labels)
			}
		})
	}
	t.Run("default duration", func(t *testing.T) {
		e.call(t, map[string]any{"operation": "create", "kind": "podchaos", "name": "default-duration", "spec": with(sel, map[string]any{"action": "pod-kill"})})
		got := e.get(t, "podchaos", "default-duration")
		if d, _, _ := unstructured.NestedString(got.Object, "spec", "duration"); d != "45s" {
			t.Errorf("spec.duration = %q, want the config default 45s", d)
		}
	})
}

// assertSubset checks that every field of want is in got with the same
// value; numbers compare by value.
func assertSubset(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s = %v, want an object", path, got)
			return
		}
		for k, v := range w {
			assertSubset(t, path+"."+k, v, g[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s = %v, want %v", path, got, want)
			return
		}
		for i := range w {
			assertSubset(t, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) || !reflect.DeepEqual(fmt.Sprint(want), fmt.Sprint(got)) {
			t.Errorf("%s = %v (%T), want %v", path, got, got, want)
		}
	}
}

func (e *chaosEnv) testRejections(t *testing.T) {
	sel := selectorSpec("one", "")
	cases := []struct {
		name, kind string
		spec       map[string]any
		extra      map[string]any
		code, want string
	}{
		{"bad action", "PodChaos", with(sel, map[string]any{"action": "pod-explode"}), nil, "invalid_argument", "/spec/action"},
		{"latency does not parse", "NetworkChaos", with(sel, map[string]any{"action": "delay", "delay": map[string]any{"latency": "fast"}}), nil, "invalid_argument", "/spec/delay/latency"},
		{"latency pattern", "NetworkChaos", with(sel, map[string]any{"action": "delay", "delay": map[string]any{"latency": "1.5.ms"}}), nil, "invalid_argument", "/spec/delay/latency"},
		{"cpu load over 100", "StressChaos", with(sel, map[string]any{"stressors": map[string]any{"cpu": map[string]any{"workers": 1, "load": 150}}}), nil, "invalid_argument", "/spec/stressors/cpu/load"},
		{"missing volumePath", "IOChaos", with(sel, map[string]any{"action": "latency", "delay": "10ms"}), nil, "invalid_argument", "volumePath"},
		{"misspelled field", "NetworkChaos", with(sel, map[string]any{"action": "delay", "delay": map[string]any{"latncy": "10ms"}}), nil, "invalid_argument", "/spec/delay/latncy"},
		{"misspelled selector field", "PodChaos", with(sel, map[string]any{"action": "pod-kill", "selector": map[string]any{"labels": map[string]any{"app": "web"}}}), nil, "invalid_argument", "/spec/selector/labels"},
		{"container-kill without containers", "PodChaos", with(sel, map[string]any{"action": "container-kill"}), nil, "invalid_argument", "containerNames"},
		{"fixed without value", "PodChaos", with(selectorSpec("fixed", ""), map[string]any{"action": "pod-kill"}), nil, "invalid_argument", "spec.value"},
		{"percent over 100", "PodChaos", with(selectorSpec("fixed-percent", "150"), map[string]any{"action": "pod-kill"}), nil, "invalid_argument", "spec.value"},
		{"duration does not parse", "PodChaos", with(sel, map[string]any{"action": "pod-kill"}), map[string]any{"duration": "soon"}, "invalid_argument", "soon"},
		{"invalid name", "PodChaos", with(sel, map[string]any{"action": "pod-kill"}), map[string]any{"name": "Bad_Name"}, "invalid_argument", "/name"},
		{"empty selector", "PodChaos", with(sel, map[string]any{"action": "pod-kill", "selector": map[string]any{}}), nil, "invalid_argument", "/spec/selector selects no pods"},
		{"loss over 100", "NetworkChaos", with(sel, map[string]any{"action": "loss", "loss": map[string]any{"loss": "130"}}), nil, "invalid_argument", `/spec/loss/loss: "130" is out of range`},
		{"correlation not a number", "NetworkChaos", with(sel, map[string]any{"action": "duplicate", "duplicate": map[string]any{"duplicate": "5", "correlation": "high"}}), nil, "invalid_argument", "/spec/duplicate/correlation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]any{"operation": "create", "kind": tc.kind, "spec": tc.spec}
			for k, v := range tc.extra {
				params[k] = v
			}
			resp := e.exec(t, params)
			if resp.Success {
				t.Fatalf("create succeeded, want %s naming %s", tc.code, tc.want)
			}
			if resp.GetError().GetCode() != tc.code {
				t.Errorf("error code = %q, want %q (message %q)", resp.GetError().GetCode(), tc.code, resp.GetError().GetMessage())
			}
			if !strings.Contains(resp.GetError().GetMessage(), tc.want) {
				t.Errorf("error message %q does not name %q", resp.GetError().GetMessage(), tc.want)
			}
		})
	}
}

func (e *chaosEnv) testPauseResume(t *testing.T) {
	e.call(t, map[string]any{"operation": "create", "kind": "PodChaos", "name": "pausable", "spec": with(selectorSpec("one", ""), map[string]any{"action": "pod-failure"})})
	target := map[string]any{"kind": "podchaos", "name": "pausable"}
	e.call(t, with(target, map[string]any{"operation": "pause"}))
	if v := e.get(t, "podchaos", "pausable").GetAnnotations()["experiment.chaos-mesh.org/pause"]; v != "true" {
		t.Fatalf("pause annotation after pause = %q, want true", v)
	}
	e.call(t, with(target, map[string]any{"operation": "resume"}))
	if v, ok := e.get(t, "podchaos", "pausable").GetAnnotations()["experiment.chaos-mesh.org/pause"]; ok {
		t.Fatalf("pause annotation after resume = %q, want none", v)
	}
}

// writeStatus writes a status the way Chaos Mesh's controller does: through
// the object itself, because these CRDs have no status subresource.
func (e *chaosEnv) writeStatus(t *testing.T, resource, name string, conditions []any, desired string) {
	t.Helper()
	u := e.get(t, resource, name)
	status := map[string]any{"conditions": conditions, "experiment": map[string]any{"desiredPhase": desired}}
	if err := unstructured.SetNestedField(u.Object, status, "status"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Resource(gvr(resource)).Namespace(chaosNamespace).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("write status: %v", err)
	}
}

func cond(typ, status string) map[string]any {
	return map[string]any{"type": typ, "status": status}
}

func (e *chaosEnv) testStatus(t *testing.T) {
	e.call(t, map[string]any{"operation": "create", "kind": "NetworkChaos", "name": "observed", "spec": with(selectorSpec("all", ""), map[string]any{"action": "delay", "delay": map[string]any{"latency": "10ms"}})})
	target := map[string]any{"operation": "status", "kind": "NetworkChaos", "name": "observed"}
	phase := func() (string, map[string]any) {
		data := e.call(t, target)
		exp := data["experiment"].(map[string]any)
		return exp["phase"].(string), exp
	}
	if got, _ := phase(); got != "pending" {
		t.Errorf("phase without status = %q, want pending", got)
	}

	wait := e.exec(t, map[string]any{"operation": "wait", "kind": "NetworkChaos", "name": "observed", "for": "injected", "timeout": "300ms"})
	if wait.Success || wait.GetError().GetCode() != "timeout" {
		t.Errorf("wait without injection: success %v code %q, want timeout", wait.Success, wait.GetError().GetCode())
	}

	e.writeStatus(t, "networkchaos", "observed", []any{cond("Selected", "True"), cond("AllInjected", "True"), cond("AllRecovered", "False"), cond("Paused", "False")}, "Run")
	got, exp := phase()
	if got != "injected" {
		t.Errorf("phase = %q, want injected", got)
	}
	if conds, _ := exp["conditions"].([]any); len(conds) != 4 || exp["desired_phase"] != "Run" {
		t.Errorf("conditions %v desired %v, want the 4 written and Run", exp["conditions"], exp["desired_phase"])
	}
	e.call(t, map[string]any{"operation": "wait", "kind": "NetworkChaos", "name": "observed", "for": "injected", "timeout": "5s"})

	e.writeStatus(t, "networkchaos", "observed", []any{cond("Selected", "True"), cond("AllInjected", "False"), cond("AllRecovered", "True"), cond("Paused", "False")}, "Stop")
	if got, _ := phase(); got != "recovered" {
		t.Errorf("phase = %q, want recovered", got)
	}
	e.writeStatus(t, "networkchaos", "observed", []any{cond("Selected", "True"), cond("Paused", "True")}, "Stop")
	if got, _ := phase(); got != "paused" {
		t.Errorf("phase = %q, want paused", got)
	}
}

func (e *chaosEnv) testListForeign(t *testing.T) {
	foreign := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos",
		"metadata": map[string]any{"name": "someone-elses", "namespace": chaosNamespace},
		"spec":     map[string]any{"action": "pod-kill", "mode": "one", "selector": map[string]any{}},
	}}
	if _, err := e.client.Resource(gvr("podchaos")).Namespace(chaosNamespace).Create(context.Background(), foreign, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create foreign object: %v", err)
	}
	names := func(data map[string]any) map[string]bool {
		out := map[string]bool{}
		for _, x := range data["experiments"].([]any) {
			out[x.(map[string]any)["name"].(string)] = true
		}
		return out
	}
	mine := names(e.call(t, map[string]any{"operation": "list", "kind": "PodChaos"}))
	if mine["someone-elses"] || !mine["pausable"] {
		t.Errorf("list = %v, want pausable and not someone-elses", mine)
	}
	all := names(e.call(t, map[string]any{"operation": "list", "include_foreign": true}))
	if !all["someone-elses"] || !all["observed"] {
		t.Errorf("list with include_foreign = %v, want someone-elses and observed", all)
	}
	resp := e.exec(t, map[string]any{"operation": "delete", "kind": "PodChaos", "name": "someone-elses"})
	if resp.Success || resp.GetError().GetCode() != "not_found" {
		t.Errorf("delete of a foreign object: success %v code %q, want not_found", resp.Success, resp.GetError().GetCode())
	}
}

func (e *chaosEnv) testDeleteCleanup(t *testing.T) {
	e.call(t, map[string]any{"operation": "delete", "kind": "PodChaos", "name": "pausable"})
	if _, err := e.client.Resource(gvr("podchaos")).Namespace(chaosNamespace).Get(context.Background(), "pausable", metav1.GetOptions{}); err == nil {
		t.Errorf("pausable still exists after delete")
	}
	data := e.call(t, map[string]any{"operation": "cleanup"})
	if n := len(data["deleted"].([]any)); n == 0 {
		t.Errorf("cleanup deleted nothing")
	}
	left := e.call(t, map[string]any{"operation": "list", "all_namespaces": true})
	if n := len(left["experiments"].([]any)); n != 0 {
		t.Errorf("list after cleanup has %d experiments, want 0", n)
	}
	if _, err := e.client.Resource(gvr("podchaos")).Namespace(chaosNamespace).Get(context.Background(), "someone-elses", metav1.GetOptions{}); err != nil {
		t.Errorf("cleanup removed the foreign object: %v", err)
	}
}

func (e *chaosEnv) testCLI(t *testing.T) {
	out, errOut, code := e.d.cli(nil, "chaos", "network-delay", "--name", "cli-delay", "--selector", "app=api", "--latency", "200ms", "--jitter", "20ms", "--duration", "1m", "--dry-run")
	if code != 0 {
		t.Fatalf("chaos network-delay --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	var manifest map[string]any
	if err := yaml.UnmarshalStrict([]byte(out), &manifest); err != nil {
		t.Fatalf("dry-run output is not YAML: %v\n%s", err, out)
	}
	obj := &unstructured.Unstructured{Object: manifest}
	if obj.GetKind() != "NetworkChaos" || obj.GetName() != "cli-delay" {
		t.Errorf("manifest kind %q name %q, want NetworkChaos cli-delay", obj.GetKind(), obj.GetName())
	}
	if _, err := e.client.Resource(gvr("networkchaos")).Namespace(chaosNamespace).Get(context.Background(), "cli-delay", metav1.GetOptions{}); err == nil {
		t.Errorf("dry run created the object")
	}
	// The manifest is what kubectl apply would send: the server accepts it.
	if _, err := e.client.Resource(gvr("networkchaos")).Namespace(chaosNamespace).Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
		t.Errorf("server rejected the dry-run manifest: %v", err)
	}

	commands := [][]string{
		{"chaos", "pod-kill", "--name", "cli-kill", "--selector", "app=web", "--mode", "fixed", "--value", "1", "--duration", "30s"},
		{"chaos", "container-kill", "--name", "cli-ckill", "--selector", "app=web", "--container", "app"},
		{"chaos", "network-loss", "--name", "cli-loss", "--selector", "app=web", "--loss", "30"},
		{"chaos", "network-bandwidth", "--name", "cli-bw", "--selector", "app=web", "--rate", "1mbps", "--limit", "100", "--buffer", "10000"},
		{"chaos", "network-partition", "--name", "cli-part", "--selector", "app=web", "--direction", "both", "--target-selector", "app=db"},
		{"chaos", "stress-cpu", "--name", "cli-cpu", "--selector", "app=web", "--workers", "2", "--load", "50"},
		{"chaos", "stress-memory", "--name", "cli-mem", "--selector", "app=web", "--size", "64MB"},
		{"chaos", "io-latency", "--name", "cli-io", "--selector", "app=web", "--volume-path", "/data", "--delay", "10ms"},
		{"chaos", "io-fault", "--name", "cli-iof", "--selector", "app=web", "--volume-path", "/data", "--errno", "5"},
		{"chaos", "time-offset", "--name", "cli-time", "--selector", "app=web", "--time-offset", "-5m"},
		{"chaos", "pause", "podchaos", "cli-kill"},
		{"chaos", "resume", "podchaos", "cli-kill"},
		{"chaos", "status", "podchaos", "cli-kill"},
		{"chaos", "list"},
		{"chaos", "delete", "podchaos", "cli-kill"},
		{"chaos", "cleanup"},
	}
	for _, args := range commands {
		if out, errOut, code := e.d.cli(nil, args...); code != 0 {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	out, _, code = e.d.cli(nil, "chaos", "stress-cpu", "--selector", "app=web", "--load", "150")
	if code == 0 || !strings.Contains(out, "/spec/stressors/cpu/load") {
		t.Errorf("stress-cpu --load 150: exit %d, output %q, want a failure naming /spec/stressors/cpu/load", code, out)
	}
}

// testCLIDryRunName checks that a dry run without --name prints the same
// name each time, so that kubectl apply of its output is idempotent.
func (e *chaosEnv) testCLIDryRunName(t *testing.T) {
	manifestName := func() string {
		t.Helper()
		out, errOut, code := e.d.cli(nil, "chaos", "network-loss", "--selector", "app=api", "--loss", "30", "--duration", "1m", "--dry-run")
		if code != 0 {
			t.Fatalf("chaos network-loss --dry-run: exit %d\n%s%s", code, out, errOut)
		}
		var manifest map[string]any
		if err := yaml.UnmarshalStrict([]byte(out), &manifest); err != nil {
			t.Fatalf("dry-run output is not YAML: %v\n%s", err, out)
		}
		return (&unstructured.Unstructured{Object: manifest}).GetName()
	}
	first, second := manifestName(), manifestName()
	if first != second {
		t.Errorf("two dry runs named %q and %q, want one name", first, second)
	}
	if !strings.HasPrefix(first, "mockforged-networkchaos-") || len(first) != len("mockforged-networkchaos-")+10 {
		t.Errorf("dry-run name = %q, want mockforged-networkchaos- and a 10-letter hash", first)
	}

	out, errOut, code := e.d.cli(nil, "chaos", "pod-kill", "--dry-run")
	if code == 0 || !strings.Contains(errOut, "--selector") || !strings.Contains(errOut, "--target-namespace") {
		t.Errorf("pod-kill --dry-run without a selector: exit %d, output %q%q, want a failure naming --selector and --target-namespace", code, out, errOut)
	}
	out, errOut, code = e.d.cli(nil, "chaos", "network-loss", "--selector", "app=api", "--loss", "130", "--dry-run")
	if code == 0 || !strings.Contains(out+errOut, "/spec/loss/loss") {
		t.Errorf("network-loss --loss 130: exit %d, output %q%q, want a failure naming /spec/loss/loss", code, out, errOut)
	}
}

// testCLINetwork checks that the network shortcuts put each flag into the
// object that reaches the API server.
func (e *chaosEnv) testCLINetwork(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		field []string
		want  map[string]any
	}{
		{"cli-delay-corr", []string{"network-delay", "--latency", "200ms", "--jitter", "20ms", "--correlation", "25"},
			[]string{"spec", "delay"}, map[string]any{"latency": "200ms", "jitter": "20ms", "correlation": "25"}},
		{"cli-loss-corr", []string{"network-loss", "--loss", "30", "--correlation", "40"},
			[]string{"spec", "loss"}, map[string]any{"loss": "30", "correlation": "40"}},
		{"cli-duplicate", []string{"network-duplicate", "--duplicate", "5", "--correlation", "10"},
			[]string{"spec", "duplicate"}, map[string]any{"duplicate": "5", "correlation": "10"}},
		{"cli-corrupt", []string{"network-corrupt", "--corrupt", "7", "--correlation", "15"},
			[]string{"spec", "corrupt"}, map[string]any{"corrupt": "7", "correlation": "15"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"chaos"}, tc.args...)
			args = append(args, "--name", tc.name, "--selector", "app=api", "--duration", "1m")
			e.d.mustCLI(args...)
			got, _, _ := unstructured.NestedMap(e.get(t, "networkchaos", tc.name).Object, tc.field...)
			assertSubset(t, strings.Join(tc.field, "."), tc.want, got)
		})
	}
}

// testCLIWait waits for conditions that the test writes as Chaos Mesh's
// controller would.
func (e *chaosEnv) testCLIWait(t *testing.T) {
	e.d.mustCLI("chaos", "pod-failure", "--name", "cli-wait", "--selector", "app=web", "--duration", "1m")
	out, errOut, code := e.d.cli(nil, "chaos", "wait", "podchaos", "cli-wait", "--for", "injected", "--timeout", "300ms")
	if code == 0 || !strings.Contains(out+errOut, "timed out after 300ms") {
		t.Errorf("wait before injection: exit %d, output %q, want a failure saying it timed out after 300ms", code, out+errOut)
	}
	e.writeStatus(t, "podchaos", "cli-wait", []any{cond("Selected", "True"), cond("AllInjected", "True")}, "Run")
	out = e.d.mustCLI("chaos", "wait", "podchaos", "cli-wait", "--for", "injected", "--timeout", "5s", "-o", "json")
	if !strings.Contains(out, `"phase": "injected"`) && !strings.Contains(out, `"phase":"injected"`) {
		t.Errorf("wait output %q does not show phase injected", out)
	}
	if _, errOut, code := e.d.cli(nil, "chaos", "wait", "podchaos", "cli-wait", "--for", "gone"); code == 0 || !strings.Contains(errOut, `invalid --for "gone"`) {
		t.Errorf("wait --for gone: exit %d, stderr %q, want a usage error naming the value", code, errOut)
	}
}

// testPlanMaxDuration calls the plugin as a tenant on the free plan, whose
// experiments may last 10 minutes, and requests 20.
func (e *chaosEnv) testPlanMaxDuration(t *testing.T) {
	e.d.mustCLI("tenants", "create", "chaos-free", "--plan", "free")
	// The plugin's integration capability needs integrate_external, which
	// the free plan lacks.
	e.d.mustCLI("tenants", "grant", "chaos-free", "integrate_external")
	params := func(duration string) string {
		raw, err := json.Marshal(map[string]any{"operation": "create", "kind": "PodChaos", "name": "free-" + strings.TrimSuffix(duration, "m"),
			"duration": duration, "spec": with(selectorSpec("one", ""), map[string]any{"action": "pod-kill"})})
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	resp, err := e.d.execFor("chaos-free", "chaos-mesh", params("20m"), 30*time.Second)
	if err != nil {
		t.Fatalf("exec as chaos-free: %v", err)
	}
	if resp.Success || resp.GetError().GetCode() != "limit_exceeded" {
		t.Fatalf("20m experiment on the free plan: success %v code %q, want limit_exceeded", resp.Success, resp.GetError().GetCode())
	}
	for _, want := range []string{"20m0s", "10m0s", `"chaos-free"`} {
		if !strings.Contains(resp.GetError().GetMessage(), want) {
			t.Errorf("message %q does not name %s", resp.GetError().GetMessage(), want)
		}
	}
	if _, err := e.client.Resource(gvr("podchaos")).Namespace(chaosNamespace).Get(context.Background(), "free-20", metav1.GetOptions{}); err == nil {
		t.Errorf("the rejected experiment was created")
	}
	resp, err = e.d.execFor("chaos-free", "chaos-mesh", params("10m"), 30*time.Second)
	if err != nil || !resp.Success {
		t.Fatalf("10m experiment on the free plan: %v %v, want success", resp, err)
	}
}
