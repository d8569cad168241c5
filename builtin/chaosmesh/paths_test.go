package chaosmesh

import (
	"testing"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
)

func TestJSONPathConversion(t *testing.T) {
	cases := []struct {
		name string
		obj  any
		path string
		want string
	}{
		{"inline struct", &v1alpha1.NetworkChaos{}, "Spec.TcParameter.Delay.Latency", "spec.delay.latency"},
		{"selector value", &v1alpha1.PodChaos{}, "Spec.ContainerSelector.PodSelector.Value", "spec.value"},
		{"container names", &v1alpha1.PodChaos{}, "Spec.ContainerSelector.ContainerNames", "spec.containerNames"},
		{"index kept", &v1alpha1.PodChaos{}, "Spec.ContainerSelector.ContainerNames[0]", "spec.containerNames[0]"},
		{"unknown segment kept", &v1alpha1.PodChaos{}, "Spec.Nope.Deeper", "spec.Nope.Deeper"},
		{"stress load", &v1alpha1.StressChaos{}, "Spec.Stressors.CPUStressor.Load", "spec.stressors.cpu.load"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsonPath(tc.obj, tc.path); got != tc.want {
				t.Errorf("jsonPath(%s) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestPruneEmpty(t *testing.T) {
	m := map[string]any{
		"a": "", "b": nil, "c": "x",
		"nested": map[string]any{"d": "", "e": 1},
		"list":   []any{map[string]any{"f": ""}},
	}
	pruneEmpty(m)
	if _, ok := m["a"]; ok {
		t.Errorf("empty string kept: %v", m)
	}
	if _, ok := m["b"]; ok {
		t.Errorf("null kept: %v", m)
	}
	if m["c"] != "x" {
		t.Errorf("value lost: %v", m)
	}
	if _, ok := m["nested"].(map[string]any)["d"]; ok {
		t.Errorf("nested empty string kept: %v", m)
	}
	if len(m["list"].([]any)[0].(map[string]any)) != 0 {
		t.Errorf("empty string in list kept: %v", m)
	}
}
