package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mockforge/mockforged/host/scenariorun"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// scenarioView is the JSON output of a scenario.
type scenarioView struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Source      string    `json:"source,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func newScenarioView(s *apiv1.ScenarioInfo) scenarioView {
	return scenarioView{
		Name: s.GetName(), Description: s.GetDescription(), Tags: s.GetTags(), Source: string(s.GetSource()),
		CreatedAt: s.GetCreatedAt().AsTime(), UpdatedAt: s.GetUpdatedAt().AsTime(),
	}
}

// executionView is the JSON output of an execution's summary.
type executionView struct {
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	Scenario  string     `json:"scenario"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Events    int64      `json:"events"`
}

func newExecutionView(e *apiv1.Execution) executionView {
	v := executionView{
		ID: e.GetId(), Tenant: e.GetTenantId(), Scenario: e.GetScenario(), State: e.GetState(),
		Reason: e.GetReason(), StartedAt: e.GetStartedAt().AsTime(), Events: e.GetEvents(),
	}
	if e.GetEndedAt() != nil {
		ended := e.GetEndedAt().AsTime()
		v.EndedAt = &ended
	}
	return v
}

func (a *app) writeScenarioList(list []*apiv1.ScenarioInfo, format string) error {
	if format == formatJSON {
		views := make([]scenarioView, len(list))
		for i, s := range list {
			views[i] = newScenarioView(s)
			views[i].Source = ""
		}
		return writeJSON(a.out, views)
	}
	table := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "NAME\tTAGS\tUPDATED\tDESCRIPTION")
	for _, s := range list {
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\n", s.GetName(), orDash(strings.Join(s.GetTags(), ",")),
			s.GetUpdatedAt().AsTime().Format(time.RFC3339), orDash(oneLine(s.GetDescription())))
	}
	return table.Flush()
}

func (a *app) writeExecution(e *apiv1.Execution, format string) error {
	if format == formatJSON {
		return writeJSON(a.out, newExecutionView(e))
	}
	table := tabwriter.NewWriter(a.out, 0, 0, 1, ' ', 0)
	fmt.Fprintf(table, "Execution:\t%s\n", e.GetId())
	fmt.Fprintf(table, "Scenario:\t%s\n", e.GetScenario())
	fmt.Fprintf(table, "State:\t%s\n", e.GetState())
	if e.GetReason() != "" {
		fmt.Fprintf(table, "Reason:\t%s\n", e.GetReason())
	}
	fmt.Fprintf(table, "Started:\t%s\n", e.GetStartedAt().AsTime().Format(time.RFC3339Nano))
	if e.GetEndedAt() != nil {
		fmt.Fprintf(table, "Ended:\t%s\n", e.GetEndedAt().AsTime().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(table, "Events:\t%d\n", e.GetEvents())
	return table.Flush()
}

func (a *app) writeExecutionList(list []*apiv1.Execution, format string) error {
	if format == formatJSON {
		views := make([]executionView, len(list))
		for i, e := range list {
			views[i] = newExecutionView(e)
		}
		return writeJSON(a.out, views)
	}
	table := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "ID\tSCENARIO\tSTATE\tSTARTED\tREASON")
	for _, e := range list {
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\n", e.GetId(), e.GetScenario(), e.GetState(),
			e.GetStartedAt().AsTime().Format(time.RFC3339), orDash(oneLine(e.GetReason())))
	}
	return table.Flush()
}

// journalView is the JSON output of a journal: the summary and every
// event as the daemon stores it.
type journalView struct {
	executionView
	Journal []json.RawMessage `json:"journal"`
}

func (a *app) writeJournal(resp *apiv1.GetExecutionResponse, format string) error {
	if format == formatJSON {
		v := journalView{executionView: newExecutionView(resp.GetExecution()), Journal: []json.RawMessage{}}
		for _, ev := range resp.GetEvents() {
			v.Journal = append(v.Journal, embeddedJSON(ev.GetEventJson()))
		}
		return writeJSON(a.out, v)
	}
	if err := a.writeExecution(resp.GetExecution(), format); err != nil {
		return err
	}
	fmt.Fprintln(a.out)
	for _, ev := range resp.GetEvents() {
		if err := a.writeEvent(ev, format); err != nil {
			return err
		}
	}
	return nil
}

// writeEvent prints one event: its JSON line with -o json, else a summary
// line.
func (a *app) writeEvent(ev *apiv1.ExecutionEvent, format string) error {
	if format == formatJSON {
		_, err := fmt.Fprintf(a.out, "%s\n", ev.GetEventJson())
		return err
	}
	var fields map[string]any
	_ = json.Unmarshal(ev.GetEventJson(), &fields)
	var parts []string
	for _, key := range []string{"phase", "step", "iteration", "plugin", "plugin_version", "probe", "metric", "value", "guard", "severity", "success", "verdict", "reason", "error", "message"} {
		if v, ok := fields[key]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", key, v))
		}
	}
	_, err := fmt.Fprintf(a.out, "%4d  %s  %-18s %s\n", ev.GetSeq(), ev.GetTime().AsTime().Format("15:04:05.000"), ev.GetType(), strings.Join(parts, " "))
	return err
}

// eventVerdict returns the verdict and reason of a verdict event.
func eventVerdict(ev *apiv1.ExecutionEvent) (string, string) {
	var v struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
	}
	_ = json.Unmarshal(ev.GetEventJson(), &v)
	return v.Verdict, v.Reason
}

// writePlan prints a dry run's plan: the JSON document with -o json, else
// a summary and one table row per plugin step in run order.
func (a *app) writePlan(data []byte, format string) error {
	if format == formatJSON {
		return writeJSON(a.out, embeddedJSON(data))
	}
	var plan scenariorun.Plan
	if err := json.Unmarshal(data, &plan); err != nil {
		return fmt.Errorf("decode the daemon's plan: %w; print it with -o json", err)
	}
	fmt.Fprintf(a.out, "dry run: scenario %s is valid and can run\n", plan.Scenario)
	summary := tabwriter.NewWriter(a.out, 0, 0, 1, ' ', 0)
	fmt.Fprintf(summary, "Max duration:\t%s\n", plan.MaxDuration)
	fmt.Fprintf(summary, "Plugins:\t%s\n", orDash(strings.Join(plan.Plugins, ", ")))
	fmt.Fprintf(summary, "Probes:\t%d\n", plan.Probes)
	fmt.Fprintf(summary, "Guards:\t%d\n", plan.Guards)
	if err := summary.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.out)
	table := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "STEP\tPLUGIN\tRUNS\tPARALLEL\tROLLBACK")
	for _, st := range plan.Steps {
		parallel := "-"
		if st.Parallel {
			parallel = "yes"
		}
		fmt.Fprintf(table, "%s\t%s\t%d\t%s\t%s\n", st.Step, st.Plugin, st.Iterations, parallel, orDash(st.Rollback))
	}
	return table.Flush()
}
