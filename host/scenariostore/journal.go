package scenariostore

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Verdicts of an execution, and StateRunning for one that has none yet.
const (
	StateRunning       = "running"
	VerdictCompleted   = "completed"
	VerdictFailed      = "failed"
	VerdictAborted     = "aborted"
	VerdictStopped     = "stopped"
	VerdictInterrupted = "interrupted"
)

// Execution is the summary record of one execution of a scenario.
type Execution struct {
	ID       string `json:"id"`
	Tenant   string `json:"tenant"`
	Scenario string `json:"scenario"`
	// State is StateRunning or the verdict.
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// Source is the scenario file the execution runs, as it was at start.
	Source []byte `json:"source"`
	// Events counts the journal's events.
	Events int64 `json:"events"`
}

// Ended reports whether the execution has a verdict.
func (e Execution) Ended() bool { return e.State != StateRunning }

// Event types of a journal.
const (
	EventStarted          = "execution_started"
	EventPhase            = "phase"
	EventStepStarted      = "step_started"
	EventStepFinished     = "step_finished"
	EventProbeValue       = "probe_value"
	EventProbeFailed      = "probe_failed"
	EventAnomaly          = "anomaly"
	EventGuardFired       = "guard_fired"
	EventInterrupted      = "interrupted"
	EventRollbackStarted  = "rollback_started"
	EventRollbackFinished = "rollback_finished"
	EventRollbackSkipped  = "rollback_skipped"
	EventVerdict          = "verdict"
)

// Event is one entry of an execution's journal. Fields that do not apply
// to an event's type are left out of its JSON.
type Event struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Type string    `json:"type"`

	Phase     string `json:"phase,omitempty"`
	Step      string `json:"step,omitempty"`
	Iteration int    `json:"iteration,omitempty"`
	// StepSeq is the Seq of the step_started event that a step_finished or
	// rollback event belongs to.
	StepSeq       int64           `json:"step_seq,omitempty"`
	Plugin        string          `json:"plugin,omitempty"`
	PluginVersion string          `json:"plugin_version,omitempty"`
	Parameters    json.RawMessage `json:"parameters,omitempty"`
	Success       *bool           `json:"success,omitempty"`
	Message       string          `json:"message,omitempty"`
	Error         string          `json:"error,omitempty"`
	Data          json.RawMessage `json:"data,omitempty"`
	DurationMS    float64         `json:"duration_ms,omitempty"`
	// Rollback is the action that undoes a started step, with references
	// to the step's result resolved once it finished.
	Rollback *Rollback `json:"rollback,omitempty"`

	Probe    string   `json:"probe,omitempty"`
	Metric   string   `json:"metric,omitempty"`
	Value    *float64 `json:"value,omitempty"`
	Guard    string   `json:"guard,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Score    *float64 `json:"score,omitempty"`

	Verdict string `json:"verdict,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Rollback is a rollback action ready to run.
type Rollback struct {
	Plugin     string          `json:"plugin"`
	Parameters json.RawMessage `json:"parameters"`
	TimeoutMS  int64           `json:"timeout_ms"`
	// Unresolved is set while the parameters still refer to a result the
	// step has not returned.
	Unresolved bool `json:"unresolved,omitempty"`
}

// PutExecution writes an execution's summary record.
func (s *Store) PutExecution(ctx context.Context, e Execution) error {
	return s.putJSON(ctx, e.Tenant, prefixExecution+e.ID, e)
}

// GetExecution returns one execution's summary; found is false when there
// is none.
func (s *Store) GetExecution(tenantID, id string) (Execution, bool, error) {
	var e Execution
	found, err := s.getJSON(tenantID, prefixExecution+id, &e)
	return e, found, err
}

// ListExecutions returns the tenant's executions, oldest first.
func (s *Store) ListExecutions(tenantID string) ([]Execution, error) {
	keys, err := s.storage.StorageList(tenantID, Namespace, prefixExecution)
	if err != nil {
		return nil, err
	}
	out := make([]Execution, 0, len(keys))
	for _, key := range keys {
		var e Execution
		found, err := s.getJSON(tenantID, key, &e)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, e)
		}
	}
	sortedByID(out)
	return out, nil
}

// AppendEvent writes one journal event. The write is durable when it
// returns.
func (s *Store) AppendEvent(ctx context.Context, tenantID, id string, ev Event) error {
	return s.putJSON(ctx, tenantID, eventKey(id, ev.Seq), ev)
}

// Events returns an execution's journal in order.
func (s *Store) Events(tenantID, id string) ([]Event, error) {
	keys, err := s.storage.StorageList(tenantID, Namespace, eventPrefix(id))
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(keys))
	for _, key := range keys {
		var ev Event
		found, err := s.getJSON(tenantID, key, &ev)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, ev)
		}
	}
	return out, nil
}

// DeleteExecution removes an ended execution's summary and journal.
func (s *Store) DeleteExecution(ctx context.Context, tenantID, id string) error {
	keys, err := s.storage.StorageList(tenantID, Namespace, eventPrefix(id))
	if err != nil {
		return err
	}
	for _, key := range keys {
		if _, err := s.storage.StorageDelete(ctx, tenantID, Namespace, key); err != nil {
			return err
		}
	}
	deleted, err := s.storage.StorageDelete(ctx, tenantID, Namespace, prefixExecution+id)
	if err != nil {
		return err
	}
	if !deleted {
		return status.Errorf(codes.NotFound, "execution %q not found for tenant %q", id, tenantID)
	}
	return nil
}

func eventPrefix(id string) string {
	return prefixEvent + id + "/"
}

// eventKey pads the sequence number so that byte order is journal order.
func eventKey(id string, seq int64) string {
	return fmt.Sprintf("%s%010d", eventPrefix(id), seq)
}

// executionIDPattern is the form of the ids the orchestrator makes: the
// UTC start time to the millisecond and six random hex digits.
var executionIDPattern = regexp.MustCompile(`^[0-9]{8}-[0-9]{6}\.[0-9]{3}-[0-9a-f]{6}$`)

// ValidExecutionID reports whether id has the form of the execution ids
// the orchestrator makes, such as "20260105-100000.123-a1b2c3". Ids are
// storage keys, and the check keeps '/', NUL and long strings out of them.
func ValidExecutionID(id string) bool {
	return executionIDPattern.MatchString(id)
}
