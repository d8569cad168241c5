// Package scenariorun executes scenarios: it runs their steps in order, in
// parallel groups and in loops, feeds probe values to guards, aborts and
// rolls back when a guard fires or an operator stops the execution, and
// writes every event to a durable journal. At start it finds executions
// that a daemon stop interrupted and runs their rollbacks.
//
// An execution takes one of the tenant's concurrent executions for its
// whole life, through the same admission as an API call with the
// scenario's max duration as its timeout, so it also counts as one request
// against the rate limit. Its step, probe, guard and rollback calls go
// through the registry's Execute and its hook chain, but not through that
// admission again: each would take another concurrent execution, and a
// free-plan tenant, which has one, could then never run a step. Step and
// probe calls still check that the tenant is enabled and has the
// permissions the plugin's capabilities need. Rollback calls skip even that
// check, because they only undo what the execution did.
package scenariorun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// Executor calls plugins through the hook chain; *registry.Registry is one.
type Executor interface {
	Capabilities(id string) ([]string, error)
	Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error)
}

var _ Executor = (*registry.Registry)(nil)

// Gate admits executions and checks step calls for a tenant.
type Gate interface {
	// Admit checks and counts one execution; release must run when it ends.
	Admit(ctx context.Context, tenantID string, capabilities []string, timeout time.Duration) (release func(), err error)
	// MaxDuration returns the tenant's max duration; limited is false when
	// it is unlimited.
	MaxDuration(tenantID string) (max time.Duration, limited bool, err error)
	// CheckCall checks that the tenant is enabled and has the permissions
	// that plugins with these capabilities need.
	CheckCall(tenantID string, capabilities []string) error
}

// Options configures an Orchestrator. Zero values take the documented
// defaults.
type Options struct {
	// Store keeps the definitions and journals. Required.
	Store *scenariostore.Store
	// Executor calls plugins. Required.
	Executor Executor
	// Gate admits executions. Required.
	Gate Gate
	// Logger receives the orchestrator's logs. Default: hclog.Default().
	Logger hclog.Logger
	// DefaultCallTimeout is the deadline of a step or rollback call whose
	// scenario sets none. Default 30s.
	DefaultCallTimeout time.Duration
	// ProbeAllow lists the URL prefixes that HTTP probes may GET besides
	// loopback addresses, which are always allowed. Each must pass
	// CheckProbePrefix; an invalid one admits nothing.
	ProbeAllow []string
	// RecoveryWait bounds how long a rollback at start waits for its plugin
	// to be served. Default 2m.
	RecoveryWait time.Duration
}

// DefaultMaxDuration bounds an execution whose scenario sets no
// max_duration when the tenant's max duration is unlimited.
const DefaultMaxDuration = time.Hour

// AnomalyPluginID is the plugin that anomaly guards call.
const AnomalyPluginID = "anomaly-detector"

// Orchestrator runs executions. Its methods are safe for concurrent use.
type Orchestrator struct {
	opts Options
	log  hclog.Logger
	http *http.Client
	// journal is the store as the daemon's own work uses it: journals,
	// summaries and recovery reach disabled tenants too, because an
	// execution admitted before its tenant was disabled must still
	// record its rollbacks and its verdict.
	journal *scenariostore.Store

	mu         sync.Mutex
	executions map[string]*execution // by id, running and recently ended
	// ids hands out the times that start execution ids. Start seeds it
	// with the stored ids, so that a clock stepped back while the daemon
	// was down does not reorder them either.
	ids *clock.Sequence
	// probeTimes hands out the times of probe values, which the anomaly
	// detector needs in order for each metric.
	probeTimes *clock.Sequence
	closed     bool
	// wg tracks every execution goroutine and recovery goroutine.
	wg sync.WaitGroup
	// base is cancelled by Stop.
	base       context.Context
	cancelBase context.CancelFunc
}

// New returns an Orchestrator. Call Start before Run.
func New(opts Options) *Orchestrator {
	if opts.Logger == nil {
		opts.Logger = hclog.Default()
	}
	if opts.DefaultCallTimeout <= 0 {
		opts.DefaultCallTimeout = 30 * time.Second
	}
	if opts.RecoveryWait <= 0 {
		opts.RecoveryWait = 2 * time.Minute
	}
	base, cancel := context.WithCancel(context.Background())
	o := &Orchestrator{
		opts:       opts,
		log:        opts.Logger,
		journal:    opts.Store.ForDaemon(),
		executions: map[string]*execution{},
		ids:        clock.NewSequence(time.Millisecond),
		probeTimes: clock.NewSequence(time.Microsecond),
		base:       base,
		cancelBase: cancel,
	}
	o.http = newProbeClient(opts.ProbeAllow)
	return o
}

// Start finds the executions that were running when the daemon stopped,
// marks them interrupted and runs their rollbacks in the background, each
// once its plugins are served.
func (o *Orchestrator) Start() error {
	for _, tenantID := range o.journal.Tenants() {
		execs, err := o.journal.ListExecutions(tenantID)
		if err != nil {
			o.log.Error("list executions to recover failed", "tenant", tenantID, "error", err)
			continue
		}
		for _, rec := range execs {
			if at, ok := executionIDStart(rec.ID); ok {
				o.ids.Observe(at)
			}
			if rec.Ended() {
				continue
			}
			if err := o.recover(rec); err != nil {
				o.log.Error("recover interrupted execution failed", "tenant", tenantID, "execution", rec.ID, "error", err)
			}
		}
	}
	o.log.Info("scenario orchestrator started")
	return nil
}

// Stop interrupts every running execution, lets the rollbacks run until
// ctx ends, and then waits for every goroutine. Executions whose rollbacks
// did not finish are completed by the next Start.
func (o *Orchestrator) Stop(ctx context.Context) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	running := make([]*execution, 0, len(o.executions))
	for _, e := range o.executions {
		running = append(running, e)
	}
	o.mu.Unlock()

	for _, e := range running {
		e.abort(scenariostore.VerdictInterrupted, "the daemon is shutting down")
	}
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		o.log.Warn("rollbacks did not finish before the shutdown deadline; the next start runs them", "executions", len(running))
		o.cancelBase()
		<-done
	}
	o.cancelBase()
	o.log.Info("scenario orchestrator stopped")
}

// register adds e to the running executions unless the orchestrator is
// stopping.
func (o *Orchestrator) register(e *execution) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return status.Error(codes.Unavailable, "the daemon is shutting down and starts no new executions")
	}
	o.executions[e.rec.ID] = e
	o.wg.Add(1)
	return nil
}

// forget drops an ended execution from memory; its journal stays in the
// store.
func (o *Orchestrator) forget(e *execution) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.executions[e.rec.ID] == e {
		delete(o.executions, e.rec.ID)
	}
}

// lookup returns the running execution id of the tenant, or nil.
func (o *Orchestrator) lookup(tenantID, id string) *execution {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.executions[id]
	if e == nil || e.rec.Tenant != tenantID {
		return nil
	}
	return e
}

// RunningOf reports whether an execution of the named scenario runs. An
// execution that wrote its verdict no longer runs, even while its
// goroutine is still returning.
func (o *Orchestrator) RunningOf(tenantID, name string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.executions {
		if e.rec.Tenant == tenantID && e.rec.Scenario == name && !e.hasEnded() {
			return true
		}
	}
	return false
}

// Stop requests of an operator.

// StopExecution stops a running execution as a guard would: it cancels the
// running steps and runs the rollbacks. It returns at once; the verdict is
// "stopped".
func (o *Orchestrator) StopExecution(tenantID, id, by string) (scenariostore.Execution, error) {
	e := o.lookup(tenantID, id)
	if e == nil {
		rec, found, err := o.opts.Store.GetExecution(tenantID, id)
		switch {
		case err != nil:
			return scenariostore.Execution{}, err
		case !found:
			return scenariostore.Execution{}, errExecutionNotFound(tenantID, id)
		default:
			return rec, status.Errorf(codes.FailedPrecondition, "execution %s already ended: %s", id, rec.State)
		}
	}
	e.abort(scenariostore.VerdictStopped, "stopped by "+by)
	return e.summary(), nil
}

// Get returns an execution's summary and, with withEvents, its journal.
func (o *Orchestrator) Get(tenantID, id string, withEvents bool) (scenariostore.Execution, []scenariostore.Event, error) {
	if e := o.lookup(tenantID, id); e != nil {
		var events []scenariostore.Event
		if withEvents {
			events, _, _ = e.eventsFrom(0)
		}
		return e.summary(), events, nil
	}
	rec, found, err := o.opts.Store.GetExecution(tenantID, id)
	if err != nil {
		return rec, nil, err
	}
	if !found {
		return rec, nil, errExecutionNotFound(tenantID, id)
	}
	if !withEvents {
		return rec, nil, nil
	}
	events, err := o.opts.Store.Events(tenantID, id)
	return rec, events, err
}

// Watch sends the journal of an execution to send, from the first event,
// and then each new event as it is written, until the execution ends or
// ctx is done.
func (o *Orchestrator) Watch(ctx context.Context, tenantID, id string, send func(scenariostore.Event) error) error {
	e := o.lookup(tenantID, id)
	if e == nil {
		_, events, err := o.Get(tenantID, id, true)
		if err != nil {
			return err
		}
		for _, ev := range events {
			if err := send(ev); err != nil {
				return err
			}
		}
		return nil
	}
	next := 0
	for {
		events, changed, ended := e.eventsFrom(next)
		for _, ev := range events {
			if err := send(ev); err != nil {
				return err
			}
		}
		next += len(events)
		if ended && len(events) == 0 {
			return nil
		}
		if len(events) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func errExecutionNotFound(tenantID, id string) error {
	return status.Errorf(codes.NotFound,
		"execution %q not found for tenant %q; list executions with `mockforged scenarios history`", id, tenantID)
}

// executionIDTime is the layout of the time that starts an execution id.
const executionIDTime = "20060102-150405.000"

// newExecutionID returns an id that starts with at, a time from the
// orchestrator's sequence, so that ids sort in start order even when the
// wall clock steps back.
func newExecutionID(at time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return at.UTC().Format(executionIDTime) + "-" + hex.EncodeToString(b[:])
}

// executionIDStart returns the time at the start of an execution id.
func executionIDStart(id string) (time.Time, bool) {
	if len(id) < len(executionIDTime) {
		return time.Time{}, false
	}
	at, err := time.Parse(executionIDTime, id[:len(executionIDTime)])
	return at, err == nil
}

// isNotServed reports whether err means the plugin is not served yet.
func isNotServed(err error) bool {
	code := status.Code(err)
	return code == codes.Unavailable || code == codes.NotFound
}

// parseScenario parses a stored source, which was valid when stored.
func parseScenario(source []byte, name string) (*scenario.Scenario, error) {
	s, err := scenario.Parse(source, "stored scenario "+name)
	if err != nil {
		var invalid *scenario.InvalidError
		if errors.As(err, &invalid) {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return nil, err
	}
	return s, nil
}
