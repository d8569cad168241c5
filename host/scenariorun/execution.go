package scenariorun

import (
	"context"
	"sync"

	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
)

// execution is one running execution and its journal.
type execution struct {
	o   *Orchestrator
	def *scenario.Scenario

	// journalMu serialises journal writes, so that sequence numbers are
	// written in order.
	journalMu sync.Mutex

	mu      sync.Mutex
	rec     scenariostore.Execution
	events  []scenariostore.Event
	changed chan struct{} // closed and replaced on every event
	ended   bool
	// verdict and reason are set by the first abort.
	verdict string
	reason  string
	// started lists the started steps in start order.
	started []*startedStep

	// cancel ends the steps and probes with the abort.
	cancel context.CancelFunc
}

// startedStep is a step whose call began, for the rollbacks.
type startedStep struct {
	seq      int64
	name     string
	rollback *scenariostore.Rollback
}

func newExecution(o *Orchestrator, def *scenario.Scenario, rec scenariostore.Execution) *execution {
	return &execution{o: o, def: def, rec: rec, changed: make(chan struct{})}
}

// record assigns the next sequence number and the time to ev, writes it to
// the journal durably and publishes it to watchers. A failed write aborts
// the execution, because a journal with gaps could not drive a recovery.
func (e *execution) record(ev scenariostore.Event) scenariostore.Event {
	e.journalMu.Lock()
	defer e.journalMu.Unlock()

	e.mu.Lock()
	ev.Seq = int64(len(e.events)) + 1
	if n := len(e.events); n > 0 {
		ev.Seq = e.events[n-1].Seq + 1
	}
	ev.Time = clock.Now().UTC()
	e.mu.Unlock()

	// The write outlives a cancelled execution: the journal must record
	// the abort and the rollbacks too.
	err := e.o.journal.AppendEvent(context.WithoutCancel(e.o.base), e.rec.Tenant, e.rec.ID, ev)

	e.mu.Lock()
	e.events = append(e.events, ev)
	e.rec.Events = int64(len(e.events))
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()

	if err != nil {
		e.o.log.Error("journal write failed", "tenant", e.rec.Tenant, "execution", e.rec.ID, "event", ev.Type, "error", err)
		e.abort(scenariostore.VerdictFailed, "journal write failed: "+err.Error())
	}
	return ev
}

// abort sets the verdict unless one is set and cancels the steps and
// probes.
func (e *execution) abort(verdict, reason string) {
	e.mu.Lock()
	if e.verdict == "" {
		e.verdict, e.reason = verdict, reason
	}
	cancel := e.cancel
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// outcome returns the verdict so far; empty when nothing aborted.
func (e *execution) outcome() (verdict, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.verdict, e.reason
}

func (e *execution) summary() scenariostore.Execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rec
}

// eventsFrom returns the events from index i on, a channel closed by the
// next event, and whether the execution has ended.
func (e *execution) eventsFrom(i int) ([]scenariostore.Event, <-chan struct{}, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []scenariostore.Event
	if i < len(e.events) {
		out = append(out, e.events[i:]...)
	}
	return out, e.changed, e.ended
}

// hasEnded reports whether the verdict was written.
func (e *execution) hasEnded() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ended
}

// addStarted remembers a started step for the rollbacks.
func (e *execution) addStarted(s *startedStep) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = append(e.started, s)
}

// setRollback replaces a started step's rollback once its result is known.
func (e *execution) setRollback(s *startedStep, r *scenariostore.Rollback) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s.rollback = r
}

// finish writes the verdict, updates the summary record and wakes every
// watcher. The summary in memory shows the verdict only once the stored
// one does, so that a caller who saw it can delete the scenario.
func (e *execution) finish(verdict, reason string) {
	e.record(scenariostore.Event{Type: scenariostore.EventVerdict, Verdict: verdict, Reason: reason})
	e.mu.Lock()
	rec := e.rec
	e.mu.Unlock()
	rec.State = verdict
	rec.Reason = reason
	rec.EndedAt = clock.Now().UTC()

	if err := e.o.journal.PutExecution(context.WithoutCancel(e.o.base), rec); err != nil {
		e.o.log.Error("write execution summary failed", "tenant", rec.Tenant, "execution", rec.ID, "error", err)
	}
	e.mu.Lock()
	e.rec = rec
	e.ended = true
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
	e.o.log.Info("execution ended", "tenant", rec.Tenant, "scenario", rec.Scenario, "execution", rec.ID, "verdict", verdict, "reason", reason)
}
