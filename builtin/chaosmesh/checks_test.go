package chaosmesh

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/go-hclog"
	"sigs.k8s.io/yaml"

	"github.com/mockforge/mockforged/sdk"
)

// networkSpec returns a NetworkChaos spec of action with its parameters
// under the field of the same name, targeting pods labelled app=api.
func networkSpec(action string, fields map[string]any) map[string]any {
	return map[string]any{"action": action, "mode": "one",
		"selector": map[string]any{"labelSelectors": map[string]any{"app": "api"}}, action: fields}
}

func TestCreateRequiresTarget(t *testing.T) {
	partition := func(target map[string]any) map[string]any {
		spec := networkSpec("partition", nil)
		delete(spec, "partition")
		spec["direction"] = "both"
		spec["target"] = map[string]any{"mode": "all", "selector": target}
		return spec
	}
	cases := []struct {
		name    string
		kind    string
		spec    map[string]any
		pointer string // empty when the create succeeds
	}{
		{"empty selector", "PodChaos", podKill(map[string]any{"selector": map[string]any{}}), "/spec/selector"},
		{"empty lists and maps", "PodChaos", podKill(map[string]any{"selector": map[string]any{"namespaces": []any{}, "labelSelectors": map[string]any{}, "nodes": []any{""}}}), "/spec/selector"},
		{"schedule inner", "Schedule", map[string]any{"schedule": "@every 1h", "type": "PodChaos", "podChaos": podKill(map[string]any{"selector": map[string]any{}})}, "/spec/podChaos/selector"},
		{"partition target", "NetworkChaos", partition(map[string]any{}), "/spec/target/selector"},
		{"namespace named", "PodChaos", podKill(map[string]any{"selector": map[string]any{"namespaces": []any{"shop"}}}), ""},
		{"labels", "PodChaos", podKill(nil), ""},
		{"pods", "PodChaos", podKill(map[string]any{"selector": map[string]any{"pods": map[string]any{"shop": []any{"web-0"}}}}), ""},
		{"pod phase", "PodChaos", podKill(map[string]any{"selector": map[string]any{"podPhaseSelectors": []any{"Running"}}}), ""},
		{"nodes", "PodChaos", podKill(map[string]any{"selector": map[string]any{"nodes": []any{"node-1"}}}), ""},
		{"partition target named", "NetworkChaos", partition(map[string]any{"namespaces": []any{"db"}}), ""},
	}
	for _, tc := range cases {
		for _, dryRun := range []bool{true, false} {
			name := tc.name
			if dryRun {
				name += " dry run"
			}
			t.Run(name, func(t *testing.T) {
				client := newFakeClient(t)
				p := newTestPlugin(client)
				_, err := execute(t, p, nil, map[string]any{"operation": "create", "kind": tc.kind, "name": "target", "dry_run": dryRun, "spec": tc.spec})
				if tc.pointer == "" {
					if err != nil {
						t.Errorf("create: %v, want success", err)
					}
					return
				}
				wantCallError(t, err, CodeInvalidArgument, tc.pointer+" selects no pods", `namespace "default"`, "labelSelectors", "--selector", "--target-namespace")
				if n := len(client.Actions()); n != 0 {
					t.Errorf("%d requests sent to the API server, want none", n)
				}
			})
		}
	}
}

func TestCreateChecksNumericStrings(t *testing.T) {
	stress := func(stressor string, workers int) map[string]any {
		fields := map[string]any{"workers": workers}
		if stressor == "memory" {
			fields["size"] = "64MB"
		}
		return map[string]any{"mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "api"}},
			"stressors": map[string]any{stressor: fields}}
	}
	cases := []struct {
		name  string
		kind  string
		spec  map[string]any
		parts []string // nil when the create succeeds
	}{
		{"loss over 100", "NetworkChaos", networkSpec("loss", map[string]any{"loss": "130"}), []string{`/spec/loss/loss: "130" is out of range`, "from 0 to 100"}},
		{"loss not a number", "NetworkChaos", networkSpec("loss", map[string]any{"loss": "lots"}), []string{`/spec/loss/loss: "lots" is not a number`}},
		{"loss NaN", "NetworkChaos", networkSpec("loss", map[string]any{"loss": "NaN"}), []string{`/spec/loss/loss: "NaN" is not a number`}},
		{"loss empty", "NetworkChaos", networkSpec("loss", map[string]any{"loss": ""}), []string{`/spec/loss/loss: "" is not a number`}},
		{"loss correlation negative", "NetworkChaos", networkSpec("loss", map[string]any{"loss": "30", "correlation": "-1"}), []string{`/spec/loss/correlation: "-1" is out of range`}},
		{"duplicate over 100", "NetworkChaos", networkSpec("duplicate", map[string]any{"duplicate": "100.5"}), []string{`/spec/duplicate/duplicate: "100.5" is out of range`}},
		{"corrupt correlation text", "NetworkChaos", networkSpec("corrupt", map[string]any{"corrupt": "5", "correlation": "high"}), []string{`/spec/corrupt/correlation: "high" is not a number`}},
		{"delay correlation", "NetworkChaos", networkSpec("delay", map[string]any{"latency": "10ms", "correlation": "101"}), []string{`/spec/delay/correlation: "101" is out of range`}},
		{"reorder", "NetworkChaos", networkSpec("delay", map[string]any{"latency": "10ms", "reorder": map[string]any{"reorder": "200", "correlation": "x", "gap": -1}}),
			[]string{`/spec/delay/reorder/reorder: "200" is out of range`, `/spec/delay/reorder/correlation: "x" is not a number`, "/spec/delay/reorder/gap: -1 is negative"}},
		{"schedule inner loss", "Schedule", map[string]any{"schedule": "@every 1h", "type": "NetworkChaos", "networkChaos": networkSpec("loss", map[string]any{"loss": "130"})},
			[]string{`/spec/networkChaos/loss/loss: "130" is out of range`}},
		{"bandwidth rate unit", "NetworkChaos", networkSpec("bandwidth", map[string]any{"rate": "fast", "limit": 1, "buffer": 1}), []string{"spec.bandwidth.rate", `"fast"`}},
		{"io percent", "IOChaos", map[string]any{"action": "fault", "mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "db"}}, "volumePath": "/data", "errno": 5, "percent": 150},
			[]string{"spec.percent", "0-100"}},
		{"cpu workers zero", "StressChaos", stress("cpu", 0), []string{"/spec/stressors/cpu/workers: 0 is less than 1"}},
		{"memory workers negative", "StressChaos", stress("memory", -2), []string{"/spec/stressors/memory/workers: -2 is less than 1"}},
		{"memory size percent", "StressChaos", map[string]any{"mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "api"}},
			"stressors": map[string]any{"memory": map[string]any{"workers": 1, "size": "150%"}}}, []string{"spec.stressors.memory.size", "150%"}},
		{"bounds accepted", "NetworkChaos", networkSpec("loss", map[string]any{"loss": "100", "correlation": "0"}), nil},
		{"fraction accepted", "NetworkChaos", networkSpec("duplicate", map[string]any{"duplicate": "0.5"}), nil},
		{"correlation omitted", "NetworkChaos", networkSpec("corrupt", map[string]any{"corrupt": "5"}), nil},
		{"reorder accepted", "NetworkChaos", networkSpec("delay", map[string]any{"latency": "10ms", "reorder": map[string]any{"reorder": "25", "gap": 5}}), nil},
		{"one worker accepted", "StressChaos", stress("cpu", 1), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := newFakeClient(t)
			p := newTestPlugin(client)
			_, err := execute(t, p, nil, map[string]any{"operation": "create", "kind": tc.kind, "name": "numbers", "dry_run": true, "spec": tc.spec})
			if tc.parts == nil {
				if err != nil {
					t.Errorf("create: %v, want success", err)
				}
				return
			}
			wantCallError(t, err, CodeInvalidArgument, tc.parts...)
		})
	}
}

// dryRunNamePattern matches the names that dry runs derive from the
// manifest.
var dryRunNamePattern = regexp.MustCompile(`^mockforged-networkchaos-[bcdfghjklmnpqrstvwxz2456789]{10}$`)

// dryRunName returns the name in the manifest of a dry-run create.
func dryRunName(t *testing.T, p *Plugin, params map[string]any) string {
	t.Helper()
	call := map[string]any{"operation": "create", "dry_run": true}
	for k, v := range params {
		call[k] = v
	}
	res, err := execute(t, p, nil, call)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	var out struct {
		Manifest string `json:"manifest"`
	}
	if err := json.Unmarshal(res.Data, &out); err != nil {
		t.Fatalf("decode result: %v", err)
	}
	var manifest struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(out.Manifest), &manifest); err != nil {
		t.Fatalf("decode manifest: %v\n%s", err, out.Manifest)
	}
	return manifest.Metadata.Name
}

func TestDryRunNameFromManifest(t *testing.T) {
	p := newTestPlugin(newFakeClient(t))
	base := map[string]any{"kind": "NetworkChaos", "spec": networkSpec("loss", map[string]any{"loss": "30"})}
	first := dryRunName(t, p, base)
	if !dryRunNamePattern.MatchString(first) {
		t.Errorf("name = %q, want mockforged-networkchaos- and 10 letters", first)
	}
	if again := dryRunName(t, p, base); again != first {
		t.Errorf("second dry run named %q, want the same name %q", again, first)
	}

	changes := map[string]map[string]any{
		"spec":      {"kind": "NetworkChaos", "spec": networkSpec("loss", map[string]any{"loss": "31"})},
		"duration":  {"kind": "NetworkChaos", "spec": base["spec"], "duration": "2m"},
		"namespace": {"kind": "NetworkChaos", "spec": base["spec"], "namespace": "shop"},
	}
	for field, params := range changes {
		if other := dryRunName(t, p, params); other == first {
			t.Errorf("dry run with another %s named %q, want a different name", field, other)
		}
	}
	if got := dryRunName(t, p, map[string]any{"kind": "NetworkChaos", "name": "api-loss", "spec": base["spec"]}); got != "api-loss" {
		t.Errorf("dry run with name api-loss named %q", got)
	}
}

func TestCreateNamesRandomly(t *testing.T) {
	client := newFakeClient(t)
	p := newTestPlugin(client)
	names := map[string]bool{}
	for range 2 {
		res, err := execute(t, p, nil, map[string]any{"operation": "create", "kind": "PodChaos", "spec": podKill(nil)})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		var out struct {
			Experiment ExperimentInfo `json:"experiment"`
		}
		if err := json.Unmarshal(res.Data, &out); err != nil {
			t.Fatalf("decode result: %v", err)
		}
		names[out.Experiment.Name] = true
	}
	if len(names) != 2 {
		t.Errorf("two creates without a name made %v, want two different names", names)
	}
}

func TestConnectionConfigErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("clusters: [unclosed"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing found by client-go's default rules, and no in-cluster
	// service account.
	t.Setenv("KUBECONFIG", filepath.Join(dir, "absent"))
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")

	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"no config at all", ``, "no Kubernetes connection configured"},
		{"kubeconfig does not parse", `{"kubeconfig": "` + broken + `"}`, broken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPlugin(WithLogger(hclog.NewNullLogger()))
			if err := p.Initialize(t.Context(), []byte(tc.config)); err != nil {
				t.Fatalf("initialize: %v", err)
			}
			_, err := execute(t, p, nil, map[string]any{"operation": "create", "kind": "PodChaos", "name": "web-kill", "spec": podKill(nil)})
			wantCallError(t, err, CodeNotConfigured, tc.want)
			var detail *sdk.ErrorDetail
			if errors.As(err, &detail) && detail.Retryable {
				t.Errorf("config error marked retryable: %v", err)
			}
		})
	}
}

func TestConnectionRefusedRetryable(t *testing.T) {
	// A port that was just free on loopback: the request is refused.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	content := "apiVersion: v1\nkind: Config\ncurrent-context: c\n" +
		"clusters: [{name: c, cluster: {server: \"http://" + addr + "\"}}]\n" +
		"contexts: [{name: c, context: {cluster: c, user: u}}]\n" +
		"users: [{name: u, user: {token: t}}]\n"
	if err := os.WriteFile(kubeconfig, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	p := NewPlugin(WithLogger(hclog.NewNullLogger()))
	if err := p.Initialize(t.Context(), []byte(`{"kubeconfig": "`+kubeconfig+`", "request_timeout": "5s"}`)); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	_, err = execute(t, p, nil, map[string]any{"operation": "create", "kind": "PodChaos", "name": "web-kill", "spec": podKill(nil)})
	wantCallError(t, err, CodeUnavailable, addr)
	var detail *sdk.ErrorDetail
	if errors.As(err, &detail) && !detail.Retryable {
		t.Errorf("connection failure not marked retryable: %v", err)
	}
}
