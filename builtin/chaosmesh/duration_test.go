package chaosmesh

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestMaxDurationBoundsCreate(t *testing.T) {
	schedule := func(duration string) map[string]any {
		inner := podKill(nil)
		if duration != "" {
			inner["duration"] = duration
		}
		return map[string]any{"schedule": "@every 1h", "type": "PodChaos", "podChaos": inner}
	}
	cases := []struct {
		name     string
		metadata map[string]string
		params   map[string]any
		want     string   // spec duration of the manifest when the call succeeds
		code     string   // error code when it fails
		parts    []string // strings the error message contains
	}{
		{name: "parameter within", metadata: map[string]string{MetadataMaxDuration: "10m0s"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(nil), "duration": "10m"}, want: "10m0s"},
		{name: "parameter over", metadata: map[string]string{MetadataMaxDuration: "10m0s"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(nil), "duration": "20m"},
			code:   CodeLimitExceeded, parts: []string{"20m0s", "10m0s", `"acme"`}},
		{name: "spec over", metadata: map[string]string{MetadataMaxDuration: "10m"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(map[string]any{"duration": "1h"})},
			code:   CodeLimitExceeded, parts: []string{"1h0m0s", "10m0s"}},
		{name: "parameter wins over spec", metadata: map[string]string{MetadataMaxDuration: "10m"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(map[string]any{"duration": "1h"}), "duration": "5m"}, want: "5m0s"},
		{name: "default over", metadata: map[string]string{MetadataMaxDuration: "30s"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(nil)},
			code:   CodeLimitExceeded, parts: []string{"1m0s", "30s"}},
		{name: "no limit", params: map[string]any{"kind": "PodChaos", "spec": podKill(nil), "duration": "100h"}, want: "100h0m0s"},
		{name: "schedule inner over", metadata: map[string]string{MetadataMaxDuration: "10m"},
			params: map[string]any{"kind": "Schedule", "spec": schedule("20m")},
			code:   CodeLimitExceeded, parts: []string{"20m0s", "10m0s"}},
		{name: "invalid metadata", metadata: map[string]string{MetadataMaxDuration: "forever"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(nil)},
			code:   CodeInvalidArgument, parts: []string{MetadataMaxDuration, `"forever"`}},
		{name: "zero metadata", metadata: map[string]string{MetadataMaxDuration: "0s"},
			params: map[string]any{"kind": "PodChaos", "spec": podKill(nil)},
			code:   CodeInvalidArgument, parts: []string{MetadataMaxDuration}},
		{name: "duration does not parse", params: map[string]any{"kind": "PodChaos", "spec": podKill(nil), "duration": "soon"},
			code: CodeInvalidArgument, parts: []string{`"soon"`}},
		{name: "negative duration", params: map[string]any{"kind": "PodChaos", "spec": podKill(nil), "duration": "-1m"},
			code: CodeInvalidArgument, parts: []string{`"-1m"`}},
		{name: "spec duration not a string", params: map[string]any{"kind": "PodChaos", "spec": podKill(map[string]any{"duration": 30})},
			code: CodeInvalidArgument, parts: []string{"/spec/duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := newFakeClient(t)
			p := newTestPlugin(client)
			params := map[string]any{"operation": "create", "name": "bounded"}
			for k, v := range tc.params {
				params[k] = v
			}
			res, err := execute(t, p, tc.metadata, params)
			if tc.code != "" {
				wantCallError(t, err, tc.code, tc.parts...)
				if n := len(client.Actions()); n != 0 {
					t.Errorf("%d requests sent to the API server, want none", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if !res.Success {
				t.Fatalf("create failed: %+v", res)
			}
			k, _ := findKind(tc.params["kind"].(string))
			u, err := client.Resource(k.gvr()).Namespace("default").Get(t.Context(), "bounded", getOptions)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if got, _, _ := unstructured.NestedString(u.Object, "spec", "duration"); got != tc.want {
				t.Errorf("spec.duration = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckMode(t *testing.T) {
	cases := []struct {
		mode, value string
		wantErr     string // empty when valid
	}{
		{"one", "", ""},
		{"all", "", ""},
		{"fixed", "2", ""},
		{"fixed", "", `invalid spec.value "" for mode fixed`},
		{"fixed", "0", `invalid spec.value "0"`},
		{"fixed", "2.5", `invalid spec.value "2.5"`},
		{"fixed", " 2", `invalid spec.value " 2"`},
		{"fixed-percent", "100", ""},
		{"fixed-percent", "101", "percentage from 1 to 100"},
		{"random-max-percent", "50", ""},
		{"random-max-percent", "-5", "percentage from 1 to 100"},
		{"", "", "missing spec.mode"},
		{"some", "", `invalid spec.mode "some"`},
	}
	k, _ := findKind("PodChaos")
	for _, tc := range cases {
		t.Run(tc.mode+"="+tc.value, func(t *testing.T) {
			spec := map[string]any{"mode": tc.mode, "value": tc.value}
			err := checkMode(k, spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("checkMode: %v, want no error", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("checkMode accepted mode %q value %q, want %q", tc.mode, tc.value, tc.wantErr)
			case tc.wantErr != "" && !containsString(err.Error(), tc.wantErr):
				t.Errorf("checkMode error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
	t.Run("schedule path", func(t *testing.T) {
		s, _ := findKind("Schedule")
		spec := map[string]any{"type": "NetworkChaos", "networkChaos": map[string]any{"mode": "fixed"}}
		if err := checkMode(s, spec); err == nil || !containsString(err.Error(), "spec.networkChaos.value") {
			t.Errorf("checkMode of a Schedule = %v, want an error naming spec.networkChaos.value", err)
		}
	})
}
