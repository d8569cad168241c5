package chaosmesh

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	gw "github.com/chaos-mesh/chaos-mesh/api/genericwebhook"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "sigs.k8s.io/json"
)

// Labels set on every object the plugin creates.
const (
	// LabelManagedBy is set to ManagedByValue.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue marks objects created by mockforged.
	ManagedByValue = "mockforged"
	// LabelTenant holds the id of the tenant the object was created for.
	LabelTenant = "mockforged.io/tenant"
)

// selectorModes are the values of a PodSelector's mode.
var selectorModes = []string{"one", "all", "fixed", "fixed-percent", "random-max-percent"}

// experiment is an object ready to send, with what was decided on the way.
type experiment struct {
	kind     kindInfo
	object   *unstructured.Unstructured
	duration time.Duration
}

// buildExperiment checks a create request and builds the object with
// Chaos Mesh's Go types. Nothing is sent.
func buildExperiment(s settings, defaultNamespace, tenant string, prm params, maxDuration time.Duration) (*experiment, error) {
	k, ok := findKind(prm.Kind)
	if !ok {
		if prm.Kind == "" {
			return nil, callError(CodeInvalidArgument, "missing kind: set kind to one of %s", kindNames())
		}
		return nil, callError(CodeInvalidArgument, "unknown kind %q: use one of %s", prm.Kind, kindNames())
	}
	spec, err := decodeSpec(prm.Spec)
	if err != nil {
		return nil, callError(CodeInvalidArgument, "%s: %v", k.kind, err)
	}
	if err := validateParams(k, prm.raw); err != nil {
		return nil, err
	}
	durationSpec, err := durationTarget(k, spec)
	if err != nil {
		return nil, callError(CodeInvalidArgument, "%s: %v", k.kind, err)
	}
	duration, err := resolveDuration(durationSpec, prm.Duration, s.defaultDuration, maxDuration, tenant)
	if err != nil {
		return nil, err
	}
	if err := checkMode(k, spec); err != nil {
		return nil, callError(CodeInvalidArgument, "%s: %v", k.kind, err)
	}
	if err := checkNumbers(k, spec); err != nil {
		return nil, err
	}
	if k.kind == "Schedule" {
		if _, ok := spec["concurrencyPolicy"]; !ok {
			spec["concurrencyPolicy"] = "Forbid"
		}
	}

	namespace := prm.Namespace
	if namespace == "" {
		namespace = defaultNamespace
	}
	if err := checkTargets(k, spec, namespace); err != nil {
		return nil, err
	}
	name := prm.Name
	if name == "" && !prm.DryRun {
		name = generateName(k)
	}
	obj, err := typedObject(k, name, namespace, tenant, spec)
	if err != nil {
		return nil, err
	}
	if name == "" {
		if name, err = manifestName(k, obj); err != nil {
			return nil, err
		}
		obj.SetName(name)
	}
	return &experiment{kind: k, object: obj, duration: duration}, nil
}

// decodeSpec reads the spec as a JSON object, keeping numbers as written.
func decodeSpec(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("missing spec: set spec to the experiment's Chaos Mesh spec, such as {\"action\": \"pod-kill\", \"mode\": \"one\", \"selector\": {...}}")
	}
	var spec map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &spec); err != nil {
		return nil, fmt.Errorf("invalid spec: %w", err)
	}
	if spec == nil {
		return nil, fmt.Errorf("invalid spec: expected a JSON object")
	}
	return spec, nil
}

// durationTarget returns the map that holds the experiment's duration: the
// spec itself, or for a Schedule the spec of the experiment it wraps.
func durationTarget(k kindInfo, spec map[string]any) (map[string]any, error) {
	if k.kind != "Schedule" {
		return spec, nil
	}
	typ, _ := spec["type"].(string)
	inner, ok := findKind(typ)
	if !ok || inner.embedKey == "" || inner.kind != typ {
		return nil, fmt.Errorf("invalid spec.type %q: a Schedule wraps one of %s", typ, strings.Join(embeddedKinds(), ", "))
	}
	embedded, ok := spec[inner.embedKey].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("missing spec.%s: a Schedule of type %s needs the %s spec under %s", inner.embedKey, typ, typ, inner.embedKey)
	}
	return embedded, nil
}

// resolveDuration sets the experiment's duration: the duration parameter,
// else the spec's, else the config default; it must parse and stay within
// the tenant plan's maximum.
func resolveDuration(spec map[string]any, param string, fallback, limit time.Duration, tenant string) (time.Duration, error) {
	raw := param
	if raw == "" {
		if v, ok := spec["duration"]; ok {
			s, isString := v.(string)
			if !isString {
				return 0, callError(CodeInvalidArgument, "invalid spec duration %v: use a string such as \"30s\"", v)
			}
			raw = s
		}
	}
	d := fallback
	if raw != "" {
		var err error
		if d, err = time.ParseDuration(raw); err != nil || d <= 0 {
			return 0, callError(CodeInvalidArgument, "invalid duration %q: use a positive Go duration such as 30s or 5m", raw)
		}
	}
	if limit > 0 && d > limit {
		return 0, callError(CodeLimitExceeded, "duration %s exceeds the maximum experiment duration %s of tenant %q's plan: use a duration of at most %s", d, limit, tenant, limit)
	}
	spec["duration"] = d.String()
	return d, nil
}

// checkMode checks the selector mode and its value, as Chaos Mesh's
// webhook does, so that the error names the value and the fix.
func checkMode(k kindInfo, spec map[string]any) error {
	target := spec
	path := "spec"
	if k.kind == "Schedule" {
		inner, _ := findKind(spec["type"].(string))
		target, _ = spec[inner.embedKey].(map[string]any)
		path = "spec." + inner.embedKey
	}
	mode, _ := target["mode"].(string)
	if mode == "" {
		return fmt.Errorf("missing %s.mode: use one of %s", path, strings.Join(selectorModes, ", "))
	}
	if !slices.Contains(selectorModes, mode) {
		return fmt.Errorf("invalid %s.mode %q: use one of %s", path, mode, strings.Join(selectorModes, ", "))
	}
	value, _ := target["value"].(string)
	switch mode {
	case "fixed":
		if n, err := strconv.Atoi(value); err != nil || n <= 0 {
			return fmt.Errorf("invalid %s.value %q for mode fixed: use the number of pods as a string, such as \"2\"", path, value)
		}
	case "fixed-percent", "random-max-percent":
		if n, err := strconv.Atoi(value); err != nil || n <= 0 || n > 100 {
			return fmt.Errorf("invalid %s.value %q for mode %s: use a percentage from 1 to 100 as a string, such as \"50\"", path, value, mode)
		}
	}
	return nil
}

// typedObject decodes the object into Chaos Mesh's Go type, rejecting
// unknown fields, applies Chaos Mesh's defaults and webhook validation,
// and returns it as an unstructured object.
func typedObject(k kindInfo, name, namespace, tenant string, spec map[string]any) (*unstructured.Unstructured, error) {
	obj, err := decodeTyped(k, name, namespace, tenant, spec)
	if err != nil {
		return nil, err
	}

	gw.Default(obj)
	if err := checkWebhookRules(k, obj); err != nil {
		return nil, err
	}
	if err := checkRequired(k, spec); err != nil {
		return nil, callError(CodeInvalidArgument, "invalid %s: %v", k.kind, err)
	}

	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", k.kind, err)
	}
	// Chaos Mesh's types have string fields without omitempty, such as
	// NetworkChaos's partitionBehavior. An empty one means unset, and a
	// cluster whose CRD predates the field would reject it.
	pruneEmpty(content)
	dropUnrequestedNewFields(content, spec)
	u := &unstructured.Unstructured{Object: content}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}

// decodeTyped builds the manifest and decodes it strictly into the kind's
// Go type.
func decodeTyped(k kindInfo, name, namespace, tenant string, spec map[string]any) (runtime.Object, error) {
	manifest := map[string]any{
		"apiVersion": APIVersion,
		"kind":       k.kind,
		"metadata": map[string]any{
			"name":      name,
			"namespace": namespace,
			"labels":    map[string]any{LabelManagedBy: ManagedByValue, LabelTenant: tenant},
		},
		"spec": spec,
	}
	data, err := json.Marshal(manifest)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", k.kind, err)
	}

	obj := k.newObject()
	strictErrs, err := kjson.UnmarshalStrict(data, obj, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err != nil {
		return nil, callError(CodeInvalidArgument, "invalid %s spec: %v", k.kind, err)
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return nil, callError(CodeInvalidArgument, "invalid %s spec: %s: check the spelling against Chaos Mesh's %s fields", k.kind, strings.Join(msgs, "; "), k.kind)
	}
	return obj, nil
}

// checkWebhookRules runs the validation of Chaos Mesh's admission webhook
// and names each failing field by its JSON path.
func checkWebhookRules(k kindInfo, obj runtime.Object) error {
	errs := gw.Validate(obj)
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		e.Field = jsonPath(obj, e.Field)
		msgs[i] = e.Error()
	}
	return callError(CodeInvalidArgument, "invalid %s: %s", k.kind, strings.Join(msgs, "; "))
}

func jsonMarshal(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode patch: %w", err)
	}
	return data, nil
}
