package registry

import (
	"context"
	"errors"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/hooks"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// Result is the outcome of a call that reached the plugin or that the hook
// chain rejected.
type Result struct {
	PluginID      string
	PluginVersion string
	Response      *pluginv1.ExecuteResponse
	HookFailures  []hooks.Failure
	Duration      time.Duration
}

// Capabilities returns the capabilities of the running plugin id.
func (r *Registry) Capabilities(id string) ([]string, error) {
	inst, release, err := r.acquire(id, false)
	if err != nil {
		return nil, err
	}
	defer release()
	return inst.proc.Info.GetCapabilities(), nil
}

// Execute calls plugin id with req through the hook chain. The returned
// error is a gRPC status error whose code identifies what happened.
func (r *Registry) Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*Result, error) {
	inst, release, err := r.acquire(id, true)
	if err != nil {
		return nil, err
	}
	defer release()

	chain, releaseHooks := r.chainFor(inst)
	defer releaseHooks()
	call := &hooks.Call{PluginID: inst.id, PluginVersion: inst.version, Request: req, Start: time.Now(), Time: clock.Now()}
	resp, failures, err := chain.Run(ctx, r.log, call, func(ctx context.Context) (*pluginv1.ExecuteResponse, error) {
		resp, err := inst.proc.RPC.Execute(ctx, req)
		if err == nil && ctx.Err() != nil {
			// The plugin responded after the caller's deadline or
			// cancellation, typically with its own interruption error. The
			// caller sees the deadline, as when no response arrives at all.
			err = ctx.Err()
		}
		if err != nil {
			return nil, r.callError(ctx, inst, err)
		}
		return resp, nil
	})
	res := &Result{
		PluginID:      inst.id,
		PluginVersion: inst.version,
		Response:      resp,
		HookFailures:  failures,
		Duration:      call.Duration,
	}
	for _, f := range failures {
		r.opts.Metrics.HookFailed(f.Hook, string(f.Point))
	}
	if err != nil {
		var aborted *hooks.AbortedError
		if errors.As(err, &aborted) {
			r.opts.Metrics.HookFailed(aborted.Hook, string(hooks.BeforeExecute))
			return res, status.Error(codes.FailedPrecondition, err.Error())
		}
		return res, err
	}
	return res, nil
}

// acquire returns the serving instance of id and counts a call on it.
// requireReady also demands that the plugin is configured and enabled.
func (r *Registry) acquire(id string, requireReady bool) (*instance, func(), error) {
	s, closing := r.owner(id)
	if closing {
		return nil, nil, status.Error(codes.Unavailable, "the daemon is shutting down and accepts no new calls")
	}
	if s == nil {
		return nil, nil, status.Errorf(codes.NotFound, "plugin %q not found; list the plugins with mockforged plugins list", id)
	}
	s.mu.Lock()
	inst, state, reason := s.cur, s.state, s.reason
	if inst == nil || state != Running {
		s.mu.Unlock()
		if state == Starting {
			return nil, nil, status.Errorf(codes.Unavailable, "plugin %s is starting (%s); retry in a moment", id, reason)
		}
		return nil, nil, status.Errorf(codes.Unavailable, "plugin %s is %s: %s", id, state, reason)
	}
	inst.inflight.Add(1)
	s.mu.Unlock()

	if requireReady {
		inst.cfgMu.RLock()
		configured, enabled := inst.configured, inst.enabled
		inst.cfgMu.RUnlock()
		switch {
		case !configured:
			inst.inflight.Done()
			return nil, nil, status.Errorf(codes.FailedPrecondition,
				"plugin %s has no config yet and its schema requires one; set it with mockforged plugins configure %s --file config.json", id, id)
		case !enabled:
			inst.inflight.Done()
			return nil, nil, status.Errorf(codes.FailedPrecondition,
				`plugin %s is disabled by its config ("enabled": false); set "enabled": true with mockforged plugins configure %s`, id, id)
		}
	}
	return inst, inst.inflight.Done, nil
}

// chainFor builds the hook chain of a call to inst: the host's hooks, then
// the hook plugins sorted by id, then inst's own hooks.
func (r *Registry) chainFor(inst *instance) (hooks.Chain, func()) {
	// The capacity limit makes the first append copy the host's hooks, so
	// that a call without hook plugins shares them without a copy.
	host := r.opts.HostHooks
	chain := host[:len(host):len(host)]
	var releases []func()
	for _, id := range r.hookPluginIDs(inst.id) {
		h, release, err := r.acquire(id, true)
		if err != nil {
			continue
		}
		releases = append(releases, release)
		chain = append(chain, &hooks.PluginHook{ID: h.id, RPC: h.proc.RPC})
	}
	if inst.proc.Info.GetHasHooks() {
		chain = append(chain, &hooks.PluginHook{ID: inst.id, RPC: inst.proc.RPC})
	}
	if len(releases) == 0 {
		return chain, releaseNothing
	}
	return chain, func() {
		for _, release := range releases {
			release()
		}
	}
}

func releaseNothing() {}

// hookPluginIDs lists the serving plugins with the hook capability and
// hooks, except exclude, sorted by id.
func (r *Registry) hookPluginIDs(exclude string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var ids []string
	for id, s := range r.owners {
		if id == exclude {
			continue
		}
		s.mu.Lock()
		info := s.info
		s.mu.Unlock()
		if info.GetHasHooks() && hasCapability(info.GetCapabilities(), "hook") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func hasCapability(caps []string, want string) bool {
	for _, c := range caps {
		if c == want {
			return true
		}
	}
	return false
}

// callError explains a failed RPC to a plugin.
func (r *Registry) callError(ctx context.Context, inst *instance, err error) error {
	st, _ := status.FromError(err)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || st.Code() == codes.DeadlineExceeded:
		return status.Errorf(codes.DeadlineExceeded, "call to plugin %s exceeded its deadline; raise the timeout or make the call cheaper", inst.id)
	case errors.Is(ctx.Err(), context.Canceled) || st.Code() == codes.Canceled:
		return status.Errorf(codes.Canceled, "call to plugin %s was cancelled by the caller", inst.id)
	case st.Code() == codes.Unavailable:
		r.log.Error("plugin process failed during a call", "plugin", inst.id, "pid", inst.proc.Pid, "error", err)
		return status.Errorf(codes.Unavailable, "plugin %s (pid %d) exited or became unreachable during the call; it is being restarted, retry in a moment", inst.id, inst.proc.Pid)
	case st.Code() == codes.ResourceExhausted:
		return status.Errorf(codes.ResourceExhausted, "call to plugin %s was too large: %s", inst.id, st.Message())
	}
	return status.Errorf(codes.Internal, "plugin %s failed: %s", inst.id, st.Message())
}

// errUnknownPlugin reports an id that no source serves.
func errUnknownPlugin(id string) error {
	return status.Errorf(codes.NotFound, "plugin %q not found; list the plugins with mockforged plugins list", id)
}
