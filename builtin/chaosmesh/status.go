package chaosmesh

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// PauseAnnotation pauses an experiment while it is "true".
const PauseAnnotation = "experiment.chaos-mesh.org/pause"

// Phases summarise an experiment's status in one word.
const (
	// PhasePending: the controller has not reported any condition yet.
	PhasePending = "pending"
	// PhaseInjecting: pods were selected but not all are injected.
	PhaseInjecting = "injecting"
	// PhaseInjected: every selected target is injected.
	PhaseInjected = "injected"
	// PhasePaused: the pause annotation stopped the experiment.
	PhasePaused = "paused"
	// PhaseRecovering: the experiment is to stop but not all targets are
	// recovered.
	PhaseRecovering = "recovering"
	// PhaseRecovered: the experiment stopped and every target recovered.
	PhaseRecovered = "recovered"
	// PhaseScheduled: a Schedule, which has no conditions of its own.
	PhaseScheduled = "scheduled"
)

// ExperimentInfo describes an experiment in the output of every operation.
type ExperimentInfo struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Tenant is the tenant label. Managed reports whether mockforged created
	// the object for the calling tenant.
	Tenant  string `json:"tenant,omitempty"`
	Managed bool   `json:"managed"`
	// Phase is one of the Phase constants.
	Phase        string `json:"phase"`
	Paused       bool   `json:"paused"`
	DesiredPhase string `json:"desired_phase,omitempty"`
	Duration     string `json:"duration,omitempty"`
	CreatedAt    string `json:"created_at,omitempty"`
	// Conditions are status.conditions as the controller wrote them.
	Conditions []any `json:"conditions"`
}

// describe summarises an object, tolerating any content: objects created
// by others need not have the fields mockforged sets.
func describe(k kindInfo, u *unstructured.Unstructured, tenant string) ExperimentInfo {
	labels := u.GetLabels()
	info := ExperimentInfo{
		Kind:       k.kind,
		Name:       u.GetName(),
		Namespace:  u.GetNamespace(),
		Tenant:     labels[LabelTenant],
		Managed:    isManaged(u, tenant),
		Paused:     u.GetAnnotations()[PauseAnnotation] == "true",
		Conditions: []any{},
	}
	if ts := u.GetCreationTimestamp(); !ts.IsZero() {
		info.CreatedAt = ts.UTC().Format(time.RFC3339)
	}
	info.Duration, _, _ = unstructured.NestedString(u.Object, "spec", "duration")
	info.DesiredPhase, _, _ = unstructured.NestedString(u.Object, "status", "experiment", "desiredPhase")
	if conds, ok, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); ok {
		info.Conditions = conds
	}
	info.Phase = summarise(k, info, conditionStates(info.Conditions))
	return info
}

// conditionStates maps each condition type to its status ("True", ...).
func conditionStates(conds []any) map[string]string {
	states := make(map[string]string, len(conds))
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		st, _ := m["status"].(string)
		if typ != "" {
			states[typ] = st
		}
	}
	return states
}

func summarise(k kindInfo, info ExperimentInfo, states map[string]string) string {
	switch {
	case k.kind == "Schedule":
		return PhaseScheduled
	case states["Paused"] == "True":
		return PhasePaused
	case info.DesiredPhase == "Stop" && states["AllRecovered"] == "True":
		return PhaseRecovered
	case info.DesiredPhase == "Stop":
		return PhaseRecovering
	case states["AllInjected"] == "True":
		return PhaseInjected
	case states["Selected"] == "True":
		return PhaseInjecting
	}
	return PhasePending
}

// isManaged reports whether mockforged created u for tenant.
func isManaged(u *unstructured.Unstructured, tenant string) bool {
	labels := u.GetLabels()
	value, ok := labels[LabelTenant]
	return labels[LabelManagedBy] == ManagedByValue && ok && value == tenant
}
