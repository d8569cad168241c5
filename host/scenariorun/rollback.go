package scenariorun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mockforge/mockforged/host/scenariostore"
)

// referencePattern matches a rollback parameter that takes a value from
// the step's result data: "${result}" or "${result.fault.id}".
var referencePattern = regexp.MustCompile(`^\$\{result((\.[A-Za-z0-9_-]+)*)\}$`)

// hasReferences reports whether params contain a "${result...}" string.
func hasReferences(params json.RawMessage) bool {
	return bytes.Contains(params, []byte("${result"))
}

// resolveRollback returns r with every "${result.path}" string value in its
// parameters replaced by the value at path in the step's result data.
func resolveRollback(r *scenariostore.Rollback, data json.RawMessage) (*scenariostore.Rollback, error) {
	out := *r
	var params any
	if err := json.Unmarshal(r.Parameters, &params); err != nil {
		return &out, fmt.Errorf("decode rollback parameters: %w", err)
	}
	var result any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &result); err != nil {
			return &out, fmt.Errorf("decode the step's result data: %w", err)
		}
	}
	resolved, err := substitute(params, result)
	if err != nil {
		return &out, err
	}
	encoded, err := json.Marshal(resolved)
	if err != nil {
		return &out, fmt.Errorf("encode rollback parameters: %w", err)
	}
	out.Parameters = encoded
	out.Unresolved = false
	return &out, nil
}

func substitute(v, result any) (any, error) {
	switch node := v.(type) {
	case map[string]any:
		for k, child := range node {
			r, err := substitute(child, result)
			if err != nil {
				return nil, err
			}
			node[k] = r
		}
	case []any:
		for i, child := range node {
			r, err := substitute(child, result)
			if err != nil {
				return nil, err
			}
			node[i] = r
		}
	case string:
		m := referencePattern.FindStringSubmatch(node)
		if m == nil {
			return node, nil
		}
		value := result
		for _, key := range strings.Split(strings.TrimPrefix(m[1], "."), ".") {
			if key == "" {
				continue
			}
			obj, ok := value.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: the step's result has no field %q", node, key)
			}
			if value, ok = obj[key]; !ok {
				return nil, fmt.Errorf("%s: the step's result has no field %q", node, key)
			}
		}
		if value == nil {
			return nil, fmt.Errorf("%s: the step returned no data", node)
		}
		return value, nil
	}
	return v, nil
}

// rollbackAll runs the rollbacks of every started step in reverse start
// order, each once.
func (e *execution) rollbackAll() {
	e.mu.Lock()
	started := append([]*startedStep{}, e.started...)
	e.mu.Unlock()
	for i := len(started) - 1; i >= 0; i-- {
		s := started[i]
		if s.rollback == nil {
			continue
		}
		e.runRollback(s.seq, s.name, s.rollback, 0)
	}
}

// runRollback runs one rollback and journals it. With wait > 0 it retries
// for up to wait while the plugin is not served yet, as after a restart.
func (e *execution) runRollback(stepSeq int64, step string, r *scenariostore.Rollback, wait time.Duration) {
	if r.Unresolved {
		e.record(scenariostore.Event{Type: scenariostore.EventRollbackSkipped, Step: step, StepSeq: stepSeq, Plugin: r.Plugin,
			Reason: "its parameters refer to the step's result, which is unknown because the step did not return"})
		return
	}
	e.record(scenariostore.Event{Type: scenariostore.EventRollbackStarted, Step: step, StepSeq: stepSeq, Plugin: r.Plugin, Parameters: r.Parameters})
	timeout := time.Duration(r.TimeoutMS) * time.Millisecond
	if timeout <= 0 {
		timeout = e.o.opts.DefaultCallTimeout
	}
	begin := time.Now()
	deadline := begin.Add(wait)
	var out callOutcome
	for {
		out = e.o.call(e.o.base, e, r.Plugin, r.Parameters, timeout, false)
		if out.success || !out.notServed || time.Now().After(deadline) || e.o.base.Err() != nil {
			break
		}
		_ = sleep(e.o.base, 500*time.Millisecond)
	}
	e.record(scenariostore.Event{
		Type: scenariostore.EventRollbackFinished, Step: step, StepSeq: stepSeq, Plugin: r.Plugin,
		PluginVersion: out.version, Success: &out.success, Message: out.message, Error: out.errText,
		Data: out.data, DurationMS: msSince(begin),
	})
	if !out.success {
		e.o.log.Error("rollback failed", "tenant", e.rec.Tenant, "execution", e.rec.ID, "step", step, "plugin", r.Plugin, "error", out.reason())
	}
}

// pendingRollbacks returns, in the order to run them, the rollbacks of a
// journal's started steps that did not run yet.
func pendingRollbacks(events []scenariostore.Event) []pendingRollback {
	var pending []pendingRollback
	index := map[int64]int{}
	done := map[int64]bool{}
	for _, ev := range events {
		switch ev.Type {
		case scenariostore.EventStepStarted:
			if ev.Rollback != nil {
				index[ev.Seq] = len(pending)
				pending = append(pending, pendingRollback{stepSeq: ev.Seq, step: ev.Step, rollback: ev.Rollback})
			}
		case scenariostore.EventStepFinished:
			if i, ok := index[ev.StepSeq]; ok && ev.Rollback != nil {
				pending[i].rollback = ev.Rollback
			}
		case scenariostore.EventRollbackFinished, scenariostore.EventRollbackSkipped:
			done[ev.StepSeq] = true
		}
	}
	var out []pendingRollback
	for i := len(pending) - 1; i >= 0; i-- {
		if !done[pending[i].stepSeq] {
			out = append(out, pending[i])
		}
	}
	return out
}

type pendingRollback struct {
	stepSeq  int64
	step     string
	rollback *scenariostore.Rollback
}

// recover marks an execution that was running when the daemon stopped as
// interrupted and runs its pending rollbacks in the background.
func (o *Orchestrator) recover(rec scenariostore.Execution) error {
	events, err := o.journal.Events(rec.Tenant, rec.ID)
	if err != nil {
		return err
	}
	e := newExecution(o, nil, rec)
	e.events = events
	e.verdict = scenariostore.VerdictInterrupted
	e.reason = "the daemon stopped during the execution"
	if err := o.register(e); err != nil {
		return err
	}
	o.log.Info("recovering interrupted execution", "tenant", rec.Tenant, "scenario", rec.Scenario, "execution", rec.ID, "events", len(events))
	go func() {
		defer o.wg.Done()
		defer o.forget(e)
		e.record(scenariostore.Event{Type: scenariostore.EventInterrupted, Reason: e.reason})
		for _, p := range pendingRollbacks(events) {
			e.runRollback(p.stepSeq, p.step, p.rollback, o.opts.RecoveryWait)
		}
		e.finish(scenariostore.VerdictInterrupted, e.reason)
	}()
	return nil
}
