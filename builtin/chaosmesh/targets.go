package chaosmesh

import (
	"fmt"
	"strings"
)

// selectorFields are the fields of a Chaos Mesh PodSelector that pick
// pods. Chaos Mesh's defaulting fills an empty namespaces list with the
// experiment's namespace, so a selector without any of them picks from
// every pod of that namespace.
var selectorFields = []string{
	"namespaces", "labelSelectors", "expressionSelectors", "annotationSelectors",
	"fieldSelectors", "podPhaseSelectors", "nodeSelectors", "nodes", "pods",
}

// selectorFlags are the mockforged chaos flags that set selectorFields,
// named in errors so that CLI users see what to type.
const selectorFlags = "--selector, --expression, --annotation, --field, --phase, --node-selector, --node, --pod or --target-namespace"

// innerSpec returns the kind and spec of the experiment itself with the
// JSON pointer of that spec: spec for a chaos kind, and for a Schedule
// the wrapped experiment's spec. durationTarget has checked the
// Schedule's type before.
func innerSpec(k kindInfo, spec map[string]any) (kindInfo, map[string]any, string) {
	if k.kind != "Schedule" {
		return k, spec, "/spec"
	}
	typ, _ := spec["type"].(string)
	inner, _ := findKind(typ)
	embedded, _ := spec[inner.embedKey].(map[string]any)
	return inner, embedded, "/spec/" + inner.embedKey
}

// checkTargets rejects an experiment whose selector names no pods, so that
// a forgotten selector does not hit an arbitrary pod of the default
// namespace. A NetworkChaos target (the other side of a partition) is
// checked the same way. namespace is the experiment's namespace, which
// Chaos Mesh would pick from.
func checkTargets(k kindInfo, spec map[string]any, namespace string) error {
	inner, target, pointer := innerSpec(k, spec)
	var problems []string
	if err := checkSelector(target["selector"], pointer+"/selector", namespace); err != nil {
		problems = append(problems, err.Error())
	}
	if inner.kind == "NetworkChaos" {
		if other, ok := target["target"].(map[string]any); ok {
			if err := checkSelector(other["selector"], pointer+"/target/selector", namespace); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return callError(CodeInvalidArgument, "invalid %s: %s", k.kind, strings.Join(problems, "; "))
	}
	return nil
}

// checkSelector returns an error unless the selector at pointer sets at
// least one of selectorFields to a non-empty value.
func checkSelector(value any, pointer, namespace string) error {
	selector, _ := value.(map[string]any)
	for _, field := range selectorFields {
		if !isEmptyValue(selector[field]) {
			return nil
		}
	}
	return fmt.Errorf("%s selects no pods, so Chaos Mesh would pick from every pod in namespace %q: set at least one of %s (namespaces alone targets every pod of the namespaces listed). The mockforged chaos commands take them as %s",
		pointer, namespace, strings.Join(selectorFields, ", "), selectorFlags)
}

// isEmptyValue reports whether a decoded JSON value is missing, null, an
// empty string, an empty list or an empty object.
func isEmptyValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		for _, item := range x {
			if !isEmptyValue(item) {
				return false
			}
		}
		return true
	case map[string]any:
		return len(x) == 0
	}
	return false
}
