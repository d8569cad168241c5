package chaosmesh

import (
	"sort"
	"strings"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group is the API group of Chaos Mesh's resources.
const (
	Group = "chaos-mesh.org"
	// APIVersion is the apiVersion of every object the plugin creates.
	APIVersion = Group + "/v1alpha1"
)

// kindInfo describes one Chaos Mesh kind the plugin manages.
type kindInfo struct {
	kind string
	// resource is the plural resource name; Chaos Mesh's chaos kinds use
	// the singular as plural, Schedule uses "schedules".
	resource string
	// embedKey is the field of a Schedule's spec that holds this kind's
	// spec, such as "podChaos"; empty for Schedule itself.
	embedKey  string
	newObject func() runtime.Object
}

func (k kindInfo) gvr() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: Group, Version: "v1alpha1", Resource: k.resource}
}

// kinds lists the managed kinds in a stable order.
var kinds = []kindInfo{
	{kind: "PodChaos", resource: "podchaos", embedKey: "podChaos", newObject: func() runtime.Object { return &v1alpha1.PodChaos{} }},
	{kind: "NetworkChaos", resource: "networkchaos", embedKey: "networkChaos", newObject: func() runtime.Object { return &v1alpha1.NetworkChaos{} }},
	{kind: "StressChaos", resource: "stresschaos", embedKey: "stressChaos", newObject: func() runtime.Object { return &v1alpha1.StressChaos{} }},
	{kind: "IOChaos", resource: "iochaos", embedKey: "ioChaos", newObject: func() runtime.Object { return &v1alpha1.IOChaos{} }},
	{kind: "TimeChaos", resource: "timechaos", embedKey: "timeChaos", newObject: func() runtime.Object { return &v1alpha1.TimeChaos{} }},
	{kind: "DNSChaos", resource: "dnschaos", embedKey: "dnsChaos", newObject: func() runtime.Object { return &v1alpha1.DNSChaos{} }},
	{kind: "HTTPChaos", resource: "httpchaos", embedKey: "httpChaos", newObject: func() runtime.Object { return &v1alpha1.HTTPChaos{} }},
	{kind: "JVMChaos", resource: "jvmchaos", embedKey: "jvmChaos", newObject: func() runtime.Object { return &v1alpha1.JVMChaos{} }},
	{kind: "KernelChaos", resource: "kernelchaos", embedKey: "kernelChaos", newObject: func() runtime.Object { return &v1alpha1.KernelChaos{} }},
	{kind: "Schedule", resource: "schedules", newObject: func() runtime.Object { return &v1alpha1.Schedule{} }},
}

// findKind accepts a kind ("PodChaos"), its resource name ("podchaos") or
// either in any case.
func findKind(name string) (kindInfo, bool) {
	for _, k := range kinds {
		if strings.EqualFold(name, k.kind) || strings.EqualFold(name, k.resource) {
			return k, true
		}
	}
	return kindInfo{}, false
}

func kindNames() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.kind
	}
	return strings.Join(names, ", ")
}

// embeddedKinds returns the kinds a Schedule can wrap, sorted.
func embeddedKinds() []string {
	var names []string
	for _, k := range kinds {
		if k.embedKey != "" {
			names = append(names, k.kind)
		}
	}
	sort.Strings(names)
	return names
}
