package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mockforge/mockforged/host/scenariorun"
)

func TestWritePlan(t *testing.T) {
	plan, err := json.Marshal(scenariorun.Plan{
		Scenario: "checkout-latency", MaxDuration: "10m0s", Plugins: []string{"anomaly-detector", "db-fault-simulator"},
		Probes: 1, Guards: 2,
		Steps: []scenariorun.PlannedStep{
			{Step: "slow", Plugin: "db-fault-simulator", Iterations: 1, Rollback: "db-fault-simulator"},
			{Step: "steps/1/parallel/0", Plugin: "db-fault-simulator", Parallel: true, Iterations: 5},
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("text", func(t *testing.T) {
		var out strings.Builder
		a := &app{streams: streams{out: &out}}
		if err := a.writePlan(plan, formatText); err != nil {
			t.Fatalf("writePlan: %v", err)
		}
		text := out.String()
		if strings.ContainsAny(text, "{}\"") {
			t.Errorf("text output contains JSON:\n%s", text)
		}
		for _, want := range []string{
			"dry run: scenario checkout-latency is valid and can run",
			"Max duration: 10m0s",
			"Plugins:      anomaly-detector, db-fault-simulator",
			"STEP                PLUGIN              RUNS  PARALLEL  ROLLBACK",
			"slow                db-fault-simulator  1     -         db-fault-simulator",
			"steps/1/parallel/0  db-fault-simulator  5     yes       -",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("text output does not contain %q:\n%s", want, text)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		var out strings.Builder
		a := &app{streams: streams{out: &out}}
		if err := a.writePlan(plan, formatJSON); err != nil {
			t.Fatalf("writePlan: %v", err)
		}
		var got scenariorun.Plan
		if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
			t.Fatalf("JSON output does not decode: %v\n%s", err, out.String())
		}
		if got.Scenario != "checkout-latency" || len(got.Steps) != 2 {
			t.Errorf("decoded plan = %+v", got)
		}
	})

	t.Run("undecodable plan", func(t *testing.T) {
		var out strings.Builder
		a := &app{streams: streams{out: &out}}
		err := a.writePlan([]byte("not json"), formatText)
		if err == nil || !strings.Contains(err.Error(), "-o json") {
			t.Errorf("writePlan error = %v, want one that suggests -o json", err)
		}
	})
}
