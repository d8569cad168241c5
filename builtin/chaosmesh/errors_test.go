package chaosmesh

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	k8stesting "k8s.io/client-go/testing"
)

var podChaosResource = schema.GroupResource{Group: Group, Resource: "podchaos"}

// failWith makes every request of verb on resource fail with err.
func failWith(client interface {
	PrependReactor(verb, resource string, reaction k8stesting.ReactionFunc)
}, verb, resource string, err error) {
	client.PrependReactor(verb, resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, err
	})
}

// managedPodChaos is a PodChaos that mockforged created for tenant acme.
func managedPodChaos(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": APIVersion, "kind": "PodChaos",
		"metadata": map[string]any{"name": name, "namespace": "default",
			"labels": map[string]any{LabelManagedBy: ManagedByValue, LabelTenant: "acme"}},
		"spec": podKill(nil),
	}}
}

func TestAPIErrorTranslation(t *testing.T) {
	forbidden := apierrors.NewForbidden(podChaosResource, "", errors.New(errForbiddenReason))
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: Group, Kind: "PodChaos"}, "web-kill", field.ErrorList{
		field.NotSupported(field.NewPath("spec", "action"), "pod-explode", []string{"pod-kill", "pod-failure", "container-kill"}),
		field.Invalid(field.NewPath("metadata", "name"), "Bad_Name", "a lowercase RFC 1123 subdomain"),
	})
	// client-go builds this error when the server responds with a plain
	// 404 page, as it does for a resource it does not serve.
	noCRD := apierrors.NewGenericServerResponse(http.StatusNotFound, "post", podChaosResource, "", "404 page not found", 0, true)
	noCRDNamed := apierrors.NewGenericServerResponse(http.StatusNotFound, "get", podChaosResource, "web-kill", "404 page not found", 0, true)
	cases := []struct {
		name            string
		verb, operation string
		err             error
		code            string
		parts           []string
	}{
		{"create forbidden", "create", "create", forbidden, CodeForbidden,
			[]string{"create PodChaos default/web-kill", "permission to create resource \"podchaos\"", `API group "chaos-mesh.org"`, "ClusterRole mockforged-chaos-mesh", "README", errForbiddenReason}},
		{"delete forbidden", "get", "delete", forbidden, CodeForbidden,
			[]string{"permission to get resource \"podchaos\"", "ClusterRole mockforged-chaos-mesh"}},
		{"list forbidden", "list", "list", forbidden, CodeForbidden,
			[]string{"permission to list resource \"podchaos\""}},
		{"create without CRD", "create", "create", noCRD, CodeNotInstalled,
			[]string{"Chaos Mesh is not installed or its CRD podchaos.chaos-mesh.org is missing"}},
		{"get without CRD", "get", "status", noCRDNamed, CodeNotInstalled,
			[]string{"Chaos Mesh is not installed"}},
		{"list without CRD", "list", "list", apierrors.NewNotFound(podChaosResource, ""), CodeNotInstalled,
			[]string{"podchaos.chaos-mesh.org is missing"}},
		{"object not found", "get", "status", apierrors.NewNotFound(podChaosResource, "web-kill"), CodeNotFound,
			[]string{"status PodChaos default/web-kill: not found"}},
		{"create invalid", "create", "create", invalid, CodeRejected,
			[]string{"rejected the object", "spec.action", "pod-explode", "metadata.name", "Bad_Name"}},
		{"create bad request", "create", "create", apierrors.NewBadRequest(`strict decoding error: unknown field "spec.colour"`), CodeRejected,
			[]string{"spec.colour"}},
		{"name taken", "create", "create", apierrors.NewAlreadyExists(podChaosResource, "web-kill"), CodeAlreadyExists,
			[]string{"already exists"}},
		{"credentials", "create", "create", apierrors.NewUnauthorized("token expired"), CodeForbidden,
			[]string{"did not accept the credentials", "token expired"}},
		{"server down", "create", "create", apierrors.NewServiceUnavailable("etcd is down"), CodeUnavailable,
			[]string{"etcd is down"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := newFakeClient(t, managedPodChaos("web-kill"))
			failWith(client, tc.verb, "podchaos", tc.err)
			p := newTestPlugin(client)
			params := map[string]any{"operation": tc.operation, "kind": "PodChaos"}
			switch tc.operation {
			case "create":
				params["name"] = "web-kill"
				params["spec"] = podKill(nil)
			case "list":
			default:
				params["name"] = "web-kill"
			}
			_, err := execute(t, p, nil, params)
			wantCallError(t, err, tc.code, tc.parts...)
		})
	}
}

const errForbiddenReason = `User "system:serviceaccount:chaos:mockforged" cannot create resource "podchaos" in API group "chaos-mesh.org" in the namespace "default"`

func TestListSkipsMissingKinds(t *testing.T) {
	client := newFakeClient(t, managedPodChaos("web-kill"))
	failWith(client, "list", "jvmchaos", apierrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{Group: Group, Resource: "jvmchaos"}, "", "", 0, true))
	p := newTestPlugin(client)
	res, err := execute(t, p, nil, map[string]any{"operation": "list"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var data struct {
		Experiments  []ExperimentInfo `json:"experiments"`
		MissingKinds []string         `json:"missing_kinds"`
	}
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.MissingKinds) != 1 || data.MissingKinds[0] != "JVMChaos" {
		t.Errorf("missing_kinds = %v, want [JVMChaos]", data.MissingKinds)
	}
	if len(data.Experiments) != 1 {
		t.Errorf("%d experiments listed, want 1", len(data.Experiments))
	}
}

func TestCleanupStopsAtFirstFailure(t *testing.T) {
	client := newFakeClient(t, managedPodChaos("a"), managedPodChaos("b"))
	failWith(client, "delete", "podchaos", apierrors.NewForbidden(podChaosResource, "a", errors.New(errForbiddenReason)))
	p := newTestPlugin(client)
	_, err := execute(t, p, nil, map[string]any{"operation": "cleanup", "kind": "PodChaos"})
	wantCallError(t, err, CodeForbidden, "cleanup: delete PodChaos default/", "after deleting 0", "permission to delete")
}

func TestCreateSendsStrictValidation(t *testing.T) {
	client := newFakeClient(t)
	var options metav1.CreateOptions
	client.PrependReactor("create", "podchaos", func(action k8stesting.Action) (bool, runtime.Object, error) {
		options = action.(k8stesting.CreateActionImpl).GetCreateOptions()
		return false, nil, nil
	})
	p := newTestPlugin(client)
	if _, err := execute(t, p, nil, map[string]any{"operation": "create", "kind": "podchaos", "name": "strict", "spec": podKill(nil)}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if options.FieldValidation != metav1.FieldValidationStrict {
		t.Errorf("fieldValidation = %q, want Strict", options.FieldValidation)
	}
}
