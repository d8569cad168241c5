package scenariorun

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
)

// Plan is what a run would do, returned by a dry run.
type Plan struct {
	Scenario    string        `json:"scenario"`
	MaxDuration string        `json:"max_duration"`
	Plugins     []string      `json:"plugins"`
	Steps       []PlannedStep `json:"steps"`
	Probes      int           `json:"probes"`
	Guards      int           `json:"guards"`
}

// PlannedStep is one plugin call of a Plan, in run order.
type PlannedStep struct {
	Step     string `json:"step"`
	Plugin   string `json:"plugin"`
	Parallel bool   `json:"parallel,omitempty"`
	// Iterations is how often a step inside loops runs.
	Iterations int    `json:"iterations"`
	Rollback   string `json:"rollback,omitempty"`
}

// Run starts an execution of the stored scenario name for the tenant and
// returns its summary at once. With dryRun it checks the scenario against
// the served plugins and the tenant's permissions and quotas, calls no
// plugin, writes no journal, and returns the plan instead.
func (o *Orchestrator) Run(ctx context.Context, tenantID, name string, dryRun bool) (scenariostore.Execution, *Plan, error) {
	def, found, err := o.opts.Store.GetDefinition(tenantID, name)
	if err != nil {
		return scenariostore.Execution{}, nil, err
	}
	if !found {
		return scenariostore.Execution{}, nil, status.Errorf(codes.NotFound,
			"scenario %q not found for tenant %q; create it with `mockforged scenarios create --file FILE`", name, tenantID)
	}
	s, err := parseScenario(def.Source, name)
	if err != nil {
		return scenariostore.Execution{}, nil, err
	}
	maxDuration, err := o.maxDuration(tenantID, s)
	if err != nil {
		return scenariostore.Execution{}, nil, err
	}
	caps, err := o.capabilities(s)
	if err != nil {
		return scenariostore.Execution{}, nil, err
	}
	if dryRun {
		if err := o.opts.Gate.CheckCall(tenantID, caps); err != nil {
			return scenariostore.Execution{}, nil, err
		}
		return scenariostore.Execution{Tenant: tenantID, Scenario: name, State: "dry_run"}, plan(s, maxDuration), nil
	}

	release, err := o.opts.Gate.Admit(ctx, tenantID, caps, maxDuration)
	if err != nil {
		return scenariostore.Execution{}, nil, err
	}
	now := clock.Now().UTC()
	rec := scenariostore.Execution{
		ID:        newExecutionID(o.ids.Next()),
		Tenant:    tenantID,
		Scenario:  name,
		State:     scenariostore.StateRunning,
		StartedAt: now,
		Source:    def.Source,
	}
	e := newExecution(o, s, rec)
	if err := o.register(e); err != nil {
		release()
		return scenariostore.Execution{}, nil, err
	}
	if err := o.opts.Store.PutExecution(ctx, rec); err != nil {
		o.forget(e)
		o.wg.Done()
		release()
		return scenariostore.Execution{}, nil, fmt.Errorf("store execution %s: %w", rec.ID, err)
	}
	stepsCtx, cancel := context.WithTimeout(o.base, maxDuration)
	e.mu.Lock()
	e.cancel = cancel
	e.mu.Unlock()
	o.log.Info("execution started", "tenant", tenantID, "scenario", name, "execution", rec.ID, "max_duration", maxDuration)
	go func() {
		defer o.wg.Done()
		defer o.forget(e)
		defer release()
		defer cancel()
		e.run(stepsCtx, maxDuration)
	}()
	return e.summary(), nil, nil
}

// capabilities returns the capabilities of every plugin the scenario
// calls, and "scenario", which needs the execute_scenarios permission. It
// fails when a plugin is not served.
func (o *Orchestrator) capabilities(s *scenario.Scenario) ([]string, error) {
	caps := []string{"scenario"}
	for _, id := range pluginsOf(s) {
		c, err := o.opts.Executor.Capabilities(id)
		if err != nil {
			// The registry's status message names the fix; the status
			// itself would only add "rpc error: code = ..." to it.
			st := status.Convert(err)
			return nil, status.Errorf(st.Code(), "scenario %q calls plugin %s: %s", s.Name, id, st.Message())
		}
		for _, cap := range c {
			if !slices.Contains(caps, cap) {
				caps = append(caps, cap)
			}
		}
	}
	return caps, nil
}

// pluginsOf lists the plugins a scenario calls, sorted.
func pluginsOf(s *scenario.Scenario) []string {
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var walk func(steps []scenario.Step)
	walk = func(steps []scenario.Step) {
		for _, st := range steps {
			add(st.Plugin)
			if st.Rollback != nil {
				add(st.Rollback.Plugin)
			}
			walk(st.Parallel)
			if st.Loop != nil {
				walk(st.Loop.Steps)
			}
		}
	}
	walk(s.Steps)
	for _, p := range s.Probes {
		if p.Plugin != nil {
			add(p.Plugin.Plugin)
		}
	}
	for _, g := range s.Guards {
		if g.Anomaly != nil {
			add(AnomalyPluginID)
		}
	}
	slices.Sort(ids)
	return ids
}

func plan(s *scenario.Scenario, maxDuration time.Duration) *Plan {
	p := &Plan{Scenario: s.Name, MaxDuration: maxDuration.String(), Plugins: pluginsOf(s), Probes: len(s.Probes), Guards: len(s.Guards)}
	var walk func(steps []scenario.Step, parallel bool, iterations int)
	walk = func(steps []scenario.Step, parallel bool, iterations int) {
		for _, st := range steps {
			switch {
			case st.Parallel != nil:
				walk(st.Parallel, true, iterations)
			case st.Loop != nil:
				walk(st.Loop.Steps, parallel, iterations*st.Loop.MaxIterations)
			default:
				ps := PlannedStep{Step: st.Name, Plugin: st.Plugin, Parallel: parallel, Iterations: iterations}
				if st.Rollback != nil {
					ps.Rollback = st.Rollback.Plugin
					if ps.Rollback == "" {
						ps.Rollback = st.Plugin
					}
				}
				p.Steps = append(p.Steps, ps)
			}
		}
	}
	walk(s.Steps, false, 1)
	return p
}

// run executes the phases: steady state before, the steps, steady state
// after, then the rollbacks and the verdict.
func (e *execution) run(ctx context.Context, maxDuration time.Duration) {
	s := e.def
	e.record(scenariostore.Event{Type: scenariostore.EventStarted, Message: fmt.Sprintf("scenario %s, max duration %s", s.Name, maxDuration)})

	var wg sync.WaitGroup
	values := make(chan probeValue, 64)
	e.startProbes(ctx, &wg, values)
	guardsDone := make(chan struct{})
	go func() {
		defer close(guardsDone)
		e.evaluateGuards(ctx, values)
	}()

	if e.phase(ctx, "before", s.SteadyState.Before.D()) {
		e.record(scenariostore.Event{Type: scenariostore.EventPhase, Phase: "steps"})
		if err := e.runSteps(ctx, s.Steps, 0); err != nil {
			e.abort(scenariostore.VerdictFailed, err.Error())
		}
		if ctx.Err() == nil {
			e.phase(ctx, "after", s.SteadyState.After.D())
		}
	}
	if ctx.Err() != nil {
		e.abort(scenariostore.VerdictFailed, fmt.Sprintf("the execution exceeded its max duration of %s", maxDuration))
	}

	e.mu.Lock()
	cancel := e.cancel
	e.mu.Unlock()
	cancel()
	wg.Wait()
	close(values)
	<-guardsDone

	verdict, reason := e.outcome()
	if verdict == "" {
		verdict = scenariostore.VerdictCompleted
	}
	if verdict != scenariostore.VerdictCompleted || s.Rollback == scenario.RollbackAlways {
		e.rollbackAll()
	}
	e.finish(verdict, reason)
}

// phase records a steady-state phase and waits d; it returns false when
// the execution ended meanwhile.
func (e *execution) phase(ctx context.Context, name string, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	e.record(scenariostore.Event{Type: scenariostore.EventPhase, Phase: name})
	return sleep(ctx, d) == nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
