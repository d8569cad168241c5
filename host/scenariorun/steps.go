package scenariorun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
)

// runSteps runs steps one after the other. It returns the error of the
// first step that failed without continue_on_failure.
func (e *execution) runSteps(ctx context.Context, steps []scenario.Step, iteration int) error {
	for i := range steps {
		if ctx.Err() != nil {
			return nil
		}
		if err := e.runStep(ctx, &steps[i], iteration); err != nil {
			return err
		}
	}
	return nil
}

func (e *execution) runStep(ctx context.Context, st *scenario.Step, iteration int) error {
	if sleep(ctx, st.Delay.D()) != nil {
		return nil
	}
	switch {
	case st.Parallel != nil:
		return e.runParallel(ctx, st.Parallel, iteration)
	case st.Loop != nil:
		for i := 1; i <= st.Loop.MaxIterations && ctx.Err() == nil; i++ {
			if err := e.runSteps(ctx, st.Loop.Steps, i); err != nil {
				return err
			}
		}
		return nil
	default:
		return e.runCall(ctx, st, iteration)
	}
}

// runParallel starts every step at once and waits for all of them. The
// first failure cancels the others unless they continue on failure.
func (e *execution) runParallel(ctx context.Context, steps []scenario.Step, iteration int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(steps))
	for i := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.runStep(ctx, &steps[i], iteration); err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runCall runs one plugin step: the call, then the rest of its duration.
func (e *execution) runCall(ctx context.Context, st *scenario.Step, iteration int) error {
	rollback, refs := e.rollbackFor(st)
	started := e.record(scenariostore.Event{
		Type: scenariostore.EventStepStarted, Step: st.Name, Iteration: iteration,
		Plugin: st.Plugin, Parameters: st.Parameters, Rollback: rollback,
	})
	step := &startedStep{seq: started.Seq, name: st.Name, rollback: rollback}
	e.addStarted(step)

	timeout := st.Timeout.D()
	if timeout <= 0 {
		timeout = e.o.opts.DefaultCallTimeout
	}
	begin := time.Now()
	out := e.o.call(ctx, e, st.Plugin, st.Parameters, timeout, true)

	finished := scenariostore.Event{
		Type: scenariostore.EventStepFinished, Step: st.Name, Iteration: iteration, StepSeq: started.Seq,
		Plugin: st.Plugin, PluginVersion: out.version, Success: &out.success, Message: out.message,
		Error: out.errText, Data: out.data, DurationMS: msSince(begin),
	}
	if refs && rollback != nil {
		resolved, err := resolveRollback(rollback, out.data)
		if err != nil {
			resolved.Unresolved = true
			finished.Message = joinMessage(finished.Message, "rollback not resolved: "+err.Error())
		}
		e.setRollback(step, resolved)
		finished.Rollback = resolved
	}
	e.record(finished)

	if !out.success {
		if st.ContinueOnFailure || ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("step %s failed: %s", st.Name, out.reason())
	}
	// Hold the fault in place for the rest of the step's duration.
	_ = sleep(ctx, st.Duration.D()-time.Since(begin))
	return nil
}

// rollbackFor returns the step's rollback action and whether its
// parameters refer to the step's result.
func (e *execution) rollbackFor(st *scenario.Step) (*scenariostore.Rollback, bool) {
	if st.Rollback == nil {
		return nil, false
	}
	r := &scenariostore.Rollback{Plugin: st.Rollback.Plugin, Parameters: st.Rollback.Parameters}
	if r.Plugin == "" {
		r.Plugin = st.Plugin
	}
	if len(r.Parameters) == 0 {
		r.Parameters = json.RawMessage("{}")
	}
	timeout := st.Rollback.Timeout.D()
	if timeout <= 0 {
		timeout = e.o.opts.DefaultCallTimeout
	}
	r.TimeoutMS = timeout.Milliseconds()
	refs := hasReferences(r.Parameters)
	r.Unresolved = refs
	return r, refs
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}

func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
