package registry

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/pluginconfig"
)

// Describe returns the snapshot of plugin id.
func (r *Registry) Describe(id string) (Snapshot, error) {
	r.mu.RLock()
	s := r.owners[id]
	if s == nil {
		for _, candidate := range r.sources {
			if snapID(candidate) == id {
				s = candidate
				break
			}
		}
	}
	r.mu.RUnlock()
	if s == nil {
		return Snapshot{}, errUnknownPlugin(id)
	}
	return s.snapshot(), nil
}

func snapID(s *source) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.GetMetadata().GetId()
}

// Configure validates config against plugin id's schema and its own checks,
// applies it and persists it. On any error the previous config stays in
// force and nothing is persisted.
func (r *Registry) Configure(ctx context.Context, id string, config []byte) (Snapshot, error) {
	inst, release, err := r.acquire(id, false)
	if err != nil {
		return Snapshot{}, err
	}
	defer release()

	rest, enabled, err := pluginconfig.SplitEnabled(config)
	if err != nil {
		return Snapshot{}, status.Errorf(codes.InvalidArgument, "invalid config for plugin %s: %v", id, err)
	}
	if err := inst.schema.Validate(rest); err != nil {
		return Snapshot{}, status.Errorf(codes.InvalidArgument, "invalid config for plugin %s: %v", id, err)
	}

	if err := r.applyConfig(ctx, inst, rest, enabled); err != nil {
		return Snapshot{}, err
	}
	r.log.Info("plugin configured", "plugin", id, "enabled", enabled)
	return r.Describe(id)
}

// applyConfig runs the plugin's checks, initialises it with config and
// persists config, restoring the previous config when a step fails.
func (r *Registry) applyConfig(ctx context.Context, inst *instance, config []byte, enabled bool) error {
	inst.cfgMu.Lock()
	defer inst.cfgMu.Unlock()
	if err := validateWithPlugin(ctx, inst, config); err != nil {
		var rejected *RejectedConfigError
		if errors.As(err, &rejected) {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		return status.Error(codes.Unavailable, err.Error())
	}
	if err := initialize(ctx, inst, config); err != nil {
		r.restoreConfig(ctx, inst)
		return status.Errorf(codes.FailedPrecondition, "%v; the previous config stays in force", err)
	}
	if err := r.opts.Configs.Save(inst.id, pluginconfig.Stored{Enabled: enabled, Config: config}); err != nil {
		r.restoreConfig(ctx, inst)
		return status.Errorf(codes.Internal, "persist config of plugin %s: %v; the previous config stays in force", inst.id, err)
	}
	inst.enabled = enabled
	inst.configured = true
	inst.config = config
	return nil
}

// restoreConfig initialises the plugin with its previous config after a new
// one failed to apply. The caller holds inst.cfgMu.
func (r *Registry) restoreConfig(ctx context.Context, inst *instance) {
	if !inst.configured {
		return
	}
	previous := inst.config
	if previous == nil {
		previous = []byte("{}")
	}
	if err := initialize(ctx, inst, previous); err != nil {
		r.log.Error("restoring the previous config failed", "plugin", inst.id, "error", err)
	}
}

// Reload relaunches plugin id, or every plugin when id is empty, and returns
// once the relaunches finished. A failed relaunch leaves the previous
// instance serving.
func (r *Registry) Reload(id string) error {
	r.mu.RLock()
	var targets []*source
	for _, s := range r.sources {
		if id == "" || snapID(s) == id {
			targets = append(targets, s)
		}
	}
	r.mu.RUnlock()
	if len(targets) == 0 {
		return errUnknownPlugin(id)
	}
	var errs []error
	for _, s := range targets {
		result := make(chan error, 1)
		s.send(op{kind: opReload, result: result})
		if err := <-result; err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.display, err))
		}
	}
	if len(errs) > 0 {
		return status.Errorf(codes.FailedPrecondition, "reload failed: %v", errors.Join(errs...))
	}
	return nil
}
