package chaosmesh

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSchemasCompile(t *testing.T) {
	schemas, err := paramSchemas()
	if err != nil {
		t.Fatalf("compile embedded schemas: %v", err)
	}
	for _, k := range kinds {
		if schemas[k.resource] == nil {
			t.Errorf("no schema for %s", k.kind)
		}
	}
}

func TestValidateParamsAccepts(t *testing.T) {
	sel := map[string]any{"labelSelectors": map[string]any{"app": "web"}}
	cases := []struct {
		name, kind string
		spec       map[string]any
	}{
		{"pod-kill", "PodChaos", podKill(map[string]any{"gracePeriod": 5})},
		{"delay", "NetworkChaos", map[string]any{"action": "delay", "mode": "all", "selector": sel, "delay": map[string]any{"latency": "200ms", "jitter": "20ms", "correlation": "25"}}},
		{"duplicate", "NetworkChaos", map[string]any{"action": "duplicate", "mode": "all", "selector": sel, "duplicate": map[string]any{"duplicate": "5", "correlation": "10"}}},
		{"corrupt", "NetworkChaos", map[string]any{"action": "corrupt", "mode": "all", "selector": sel, "corrupt": map[string]any{"corrupt": "5"}}},
		{"stress", "StressChaos", map[string]any{"mode": "one", "selector": sel, "stressors": map[string]any{"cpu": map[string]any{"workers": 2, "load": 80}}}},
		{"io", "IOChaos", map[string]any{"action": "latency", "mode": "one", "selector": sel, "volumePath": "/data", "delay": "10ms"}},
		{"time", "TimeChaos", map[string]any{"mode": "one", "selector": sel, "timeOffset": "-5m"}},
		{"schedule", "Schedule", map[string]any{"schedule": "@every 5m", "type": "PodChaos", "historyLimit": 2, "podChaos": podKill(nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := findKind(tc.kind)
			raw, _ := json.Marshal(map[string]any{"operation": "create", "kind": tc.kind, "name": "web-kill", "namespace": "shop", "duration": "1m", "dry_run": true, "spec": tc.spec})
			if err := validateParams(k, raw); err != nil {
				t.Errorf("valid parameters rejected: %v", err)
			}
		})
	}
}

func TestValidateParamsRejects(t *testing.T) {
	sel := map[string]any{"labelSelectors": map[string]any{"app": "web"}}
	cases := []struct {
		name, kind string
		params     map[string]any
		want       []string
	}{
		{"unknown top-level field", "PodChaos", map[string]any{"spec": podKill(nil), "colour": "red"}, []string{"/colour: unknown field"}},
		{"unknown spec field", "PodChaos", map[string]any{"spec": podKill(map[string]any{"gracePeriods": 5})}, []string{"/spec/gracePeriods: unknown field"}},
		{"unknown nested field", "NetworkChaos", map[string]any{"spec": map[string]any{"action": "delay", "mode": "one", "selector": sel, "delay": map[string]any{"latncy": "10ms"}}},
			[]string{"/spec/delay/latncy: unknown field", "/spec/delay: missing property 'latency'"}},
		{"unknown selector field", "PodChaos", map[string]any{"spec": podKill(map[string]any{"selector": map[string]any{"labels": map[string]any{"app": "web"}}})}, []string{"/spec/selector/labels: unknown field"}},
		{"bad action", "PodChaos", map[string]any{"spec": podKill(map[string]any{"action": "pod-explode"})}, []string{"/spec/action:", "pod-kill"}},
		{"latency pattern", "NetworkChaos", map[string]any{"spec": map[string]any{"action": "delay", "mode": "one", "selector": sel, "delay": map[string]any{"latency": "1.5.ms"}}}, []string{"/spec/delay/latency:"}},
		{"load over 100", "StressChaos", map[string]any{"spec": map[string]any{"mode": "one", "selector": sel, "stressors": map[string]any{"cpu": map[string]any{"workers": 1, "load": 150}}}}, []string{"/spec/stressors/cpu/load: 150 is greater than the maximum 100"}},
		{"wrong type", "PodChaos", map[string]any{"spec": podKill(map[string]any{"gracePeriod": "5s"})}, []string{"/spec/gracePeriod:", "integer"}},
		{"int32 bound", "NetworkChaos", map[string]any{"spec": map[string]any{"action": "bandwidth", "mode": "one", "selector": sel, "bandwidth": map[string]any{"rate": "1mbps", "limit": 1 << 33, "buffer": 1}}}, []string{"/spec/bandwidth/limit: 8589934592 is greater than the maximum 2147483647"}},
		{"missing volumePath", "IOChaos", map[string]any{"spec": map[string]any{"action": "latency", "mode": "one", "selector": sel, "delay": "10ms"}}, []string{"/spec: missing property 'volumePath'"}},
		{"every failure listed", "PodChaos", map[string]any{"spec": map[string]any{"action": "nope", "mode": "some", "selector": sel, "x": 1}}, []string{"/spec/action:", "/spec/mode:", "/spec/x: unknown field"}},
		{"invalid name", "PodChaos", map[string]any{"spec": podKill(nil), "name": "Bad_Name"}, []string{"/name:"}},
		{"invalid namespace", "PodChaos", map[string]any{"spec": podKill(nil), "namespace": "a.b"}, []string{"/namespace:"}},
		{"schedule of a workflow", "Schedule", map[string]any{"spec": map[string]any{"schedule": "@every 1m", "type": "Workflow", "workflow": map[string]any{}}}, []string{"/spec/type:", "/spec/workflow: unknown field"}},
		{"schedule inner spec", "Schedule", map[string]any{"spec": map[string]any{"schedule": "@every 1m", "type": "PodChaos", "podChaos": podKill(map[string]any{"actoin": "pod-kill"})}}, []string{"/spec/podChaos/actoin: unknown field"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := findKind(tc.kind)
			params := map[string]any{"operation": "create", "kind": tc.kind}
			for key, v := range tc.params {
				params[key] = v
			}
			raw, _ := json.Marshal(params)
			err := validateParams(k, raw)
			wantCallError(t, err, CodeInvalidArgument, tc.want...)
		})
	}
}

func TestSchemaViolationsSortedOnce(t *testing.T) {
	k, _ := findKind("PodChaos")
	raw := []byte(`{"operation": "create", "kind": "PodChaos", "spec": {"action": "pod-kill", "mode": "one", "selector": {}, "b": 1, "a": 2}}`)
	err := validateParams(k, raw)
	wantCallError(t, err, CodeInvalidArgument)
	msg := err.Error()
	first, second := strings.Index(msg, "/spec/a:"), strings.Index(msg, "/spec/b:")
	if first < 0 || second < 0 || first > second {
		t.Errorf("message %q does not list /spec/a before /spec/b", msg)
	}
	if strings.Count(msg, "/spec/a:") != 1 {
		t.Errorf("message %q repeats /spec/a", msg)
	}
}

func TestJSONPointerEscapes(t *testing.T) {
	cases := []struct {
		tokens []string
		want   string
	}{
		{nil, "/"},
		{[]string{"spec", "selector", "labelSelectors", "app.kubernetes.io/name"}, "/spec/selector/labelSelectors/app.kubernetes.io~1name"},
		{[]string{"a~b"}, "/a~0b"},
	}
	for _, tc := range cases {
		if got := jsonPointer(tc.tokens); got != tc.want {
			t.Errorf("jsonPointer(%q) = %q, want %q", tc.tokens, got, tc.want)
		}
	}
	if got := childPointer("/", "x/y"); got != "/x~1y" {
		t.Errorf("childPointer of the root = %q, want /x~1y", got)
	}
}
