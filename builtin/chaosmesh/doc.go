// Package chaosmesh is the chaos-mesh plugin. It creates and manages Chaos
// Mesh experiments (API group chaos-mesh.org, version v1alpha1) on a
// Kubernetes cluster through client-go, so that a mockforged call or
// scenario can kill pods, delay networks or stress nodes.
//
// Objects are checked before they are sent: the create parameters against
// a JSON Schema per kind converted from Chaos Mesh's CRDs (schemas/,
// written by go generate). Next come the checks that neither the schema
// nor Chaos Mesh's webhook makes: the selector names target pods,
// NetworkChaos percentages are from 0 to 100, stress workers are positive.
// Last come decoding into Chaos Mesh's own Go types and
// the rules of Chaos Mesh's admission webhook (durations parse,
// container-kill names containers, fixed and percentage modes carry a valid
// value). The API server then validates the object
// again with strict field validation. README.md lists the operations and
// the RBAC rules the plugin needs.
//
// The plugin is served out of process:
//
//	sdk.Serve(chaosmesh.New())
package chaosmesh
