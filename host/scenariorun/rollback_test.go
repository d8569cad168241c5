package scenariorun

import (
	"encoding/json"
	"testing"

	"github.com/mockforge/mockforged/host/scenariostore"
)

func TestResolveRollback(t *testing.T) {
	tests := []struct {
		name    string
		params  string
		data    string
		want    string
		wantErr bool
	}{
		{"field", `{"id": "${result.fault.id}", "op": "remove"}`, `{"fault": {"id": "f6"}}`, `{"id":"f6","op":"remove"}`, false},
		{"whole result", `{"all": "${result}"}`, `{"a": 1}`, `{"all":{"a":1}}`, false},
		{"missing field", `{"id": "${result.nope}"}`, `{"fault": {}}`, "", true},
		{"no data", `{"id": "${result.id}"}`, ``, "", true},
		{"text around is kept", `{"id": "x-${result.id}"}`, `{"id": 1}`, `{"id":"x-${result.id}"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &scenariostore.Rollback{Plugin: "p", Parameters: json.RawMessage(tt.params), Unresolved: true}
			got, err := resolveRollback(r, json.RawMessage(tt.data))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("resolved to %s, want an error", got.Parameters)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveRollback: %v", err)
			}
			if string(got.Parameters) != tt.want || got.Unresolved {
				t.Errorf("parameters = %s (unresolved %v), want %s", got.Parameters, got.Unresolved, tt.want)
			}
		})
	}
}

func TestPendingRollbacksReverseAndSkipDone(t *testing.T) {
	r := func(p string) *scenariostore.Rollback { return &scenariostore.Rollback{Plugin: p} }
	events := []scenariostore.Event{
		{Seq: 1, Type: scenariostore.EventStepStarted, Step: "a", Rollback: r("a")},
		{Seq: 2, Type: scenariostore.EventStepStarted, Step: "b", Rollback: r("b-unresolved")},
		{Seq: 3, Type: scenariostore.EventStepStarted, Step: "none"},
		{Seq: 4, Type: scenariostore.EventStepFinished, StepSeq: 2, Rollback: r("b")},
		{Seq: 5, Type: scenariostore.EventStepStarted, Step: "c", Rollback: r("c")},
		{Seq: 6, Type: scenariostore.EventRollbackFinished, StepSeq: 5},
	}
	got := pendingRollbacks(events)
	if len(got) != 2 || got[0].step != "b" || got[0].rollback.Plugin != "b" || got[1].step != "a" {
		t.Fatalf("pending = %+v, want b (resolved) then a", got)
	}
}
