package chaosmesh

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/mockforge/mockforged/sdk"
)

// newFakeClient returns client-go's fake dynamic client serving every
// managed kind, holding objects. Unit tests use it to produce the API
// server's responses, and test/e2e runs the plugin against a real one.
func newFakeClient(t *testing.T, objects ...*unstructured.Unstructured) *dynamicfake.FakeDynamicClient {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{}
	for _, k := range kinds {
		listKinds[k.gvr()] = k.kind + "List"
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	// The objects are created through the client, because the fake
	// would guess the plural "podchaoses" for objects passed to it.
	for _, obj := range objects {
		k, ok := findKind(obj.GetKind())
		if !ok {
			t.Fatalf("fake object of unknown kind %q", obj.GetKind())
		}
		if _, err := client.Resource(k.gvr()).Namespace(obj.GetNamespace()).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create fake object: %v", err)
		}
	}
	client.ClearActions()
	return client
}

// newTestPlugin returns the plugin on client in namespace "default".
func newTestPlugin(client *dynamicfake.FakeDynamicClient) *Plugin {
	return NewPlugin(WithDynamicClient(client, "default"), WithLogger(hclog.NewNullLogger()))
}

// execute calls the plugin for tenant acme with params and metadata.
func execute(t *testing.T, p *Plugin, metadata map[string]string, params map[string]any) (*sdk.ExecuteResult, error) {
	t.Helper()
	raw, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return p.Execute(context.Background(), &sdk.ExecuteRequest{TenantID: "acme", Parameters: raw, Metadata: metadata})
}

// wantCallError checks that err is an *sdk.ErrorDetail with code whose
// message contains every string of parts.
func wantCallError(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	var detail *sdk.ErrorDetail
	if !errors.As(err, &detail) {
		t.Fatalf("error = %v (%T), want a call error with code %s", err, err, code)
	}
	if detail.Code != code {
		t.Errorf("code = %q, want %q (message %q)", detail.Code, code, detail.Message)
	}
	for _, part := range parts {
		if !strings.Contains(detail.Message, part) {
			t.Errorf("message %q does not contain %q", detail.Message, part)
		}
	}
}

// podKill returns a valid PodChaos spec with extra fields added.
func podKill(extra map[string]any) map[string]any {
	spec := map[string]any{"action": "pod-kill", "mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "web"}}}
	for k, v := range extra {
		spec[k] = v
	}
	return spec
}
