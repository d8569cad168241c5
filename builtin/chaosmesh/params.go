package chaosmesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Operation names, the value of the "operation" parameter.
const (
	OpCreate  = "create"
	OpStatus  = "status"
	OpList    = "list"
	OpPause   = "pause"
	OpResume  = "resume"
	OpDelete  = "delete"
	OpCleanup = "cleanup"
	OpWait    = "wait"
)

// params are the parameters of every operation. operationParams lists the
// ones each operation accepts.
type params struct {
	Operation string `json:"operation"`
	// Kind is a Chaos Mesh kind such as PodChaos, or its resource name.
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Spec is the experiment's Chaos Mesh spec, with Chaos Mesh's field
	// names.
	Spec     json.RawMessage `json:"spec"`
	Duration string          `json:"duration"`
	DryRun   bool            `json:"dry_run"`
	// AllNamespaces makes list and cleanup look in every namespace.
	AllNamespaces bool `json:"all_namespaces"`
	// IncludeForeign makes list show objects that mockforged did not
	// create for the calling tenant.
	IncludeForeign bool `json:"include_foreign"`
	// For is what wait waits for: injected or recovered.
	For     string `json:"for"`
	Timeout string `json:"timeout"`

	// raw is the parameters as the caller sent them, for the schema check.
	raw json.RawMessage
}

// operationParams lists the parameters each operation accepts besides
// "operation".
var operationParams = map[string][]string{
	OpCreate:  {"kind", "name", "namespace", "spec", "duration", "dry_run"},
	OpStatus:  {"kind", "name", "namespace"},
	OpList:    {"kind", "namespace", "all_namespaces", "include_foreign"},
	OpPause:   {"kind", "name", "namespace"},
	OpResume:  {"kind", "name", "namespace"},
	OpDelete:  {"kind", "name", "namespace"},
	OpCleanup: {"kind", "namespace", "all_namespaces"},
	OpWait:    {"kind", "name", "namespace", "for", "timeout"},
}

func operations() string {
	ops := make([]string, 0, len(operationParams))
	for op := range operationParams {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return strings.Join(ops, ", ")
}

// presentKeys returns the top-level keys of a JSON object.
func presentKeys(raw json.RawMessage) ([]string, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, fmt.Errorf("invalid parameters: expected a JSON object: %w", err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// checkAllowed rejects the first key that the operation does not take.
func checkAllowed(keys []string, op string) error {
	allowed := operationParams[op]
	for _, k := range keys {
		if k != "operation" && !slices.Contains(allowed, k) {
			return fmt.Errorf("parameter %q does not apply to operation %s; it takes %s", k, op, strings.Join(allowed, ", "))
		}
	}
	return nil
}
