package registry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mockforge/mockforged/host/launch"
	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// instance is one running process of a source.
type instance struct {
	proc    *launch.Process
	blob    pluginfile.Blob
	id      string
	version string
	schema  *pluginconfig.Schema
	started time.Time

	// inflight counts calls using this instance.
	inflight sync.WaitGroup

	// cfgMu serialises config changes and guards the fields below.
	cfgMu      sync.RWMutex
	enabled    bool
	configured bool
	config     []byte
}

// startInstance launches blob for s, claims its plugin id and applies the
// stored config. On error nothing is left running.
func (r *Registry) startInstance(s *source, blob pluginfile.Blob) (*instance, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.StartTimeout+r.opts.CleanupTimeout)
	defer cancel()
	proc, err := launch.Start(ctx, launch.Config{
		Name:         s.baseName(),
		Path:         blob.Path,
		Checksum:     blob.SHA256,
		Args:         s.args,
		Env:          r.opts.Env,
		StartTimeout: r.opts.StartTimeout,
		Logger:       r.log,
		Storage:      r.opts.Storage,
	})
	if err != nil {
		return nil, err
	}
	md := proc.Info.GetMetadata()
	inst := &instance{proc: proc, blob: blob, id: md.GetId(), version: md.GetVersion(), started: time.Now(), enabled: true}
	s.mu.Lock()
	s.info = proc.Info
	s.mu.Unlock()

	if err := r.prepare(ctx, s, inst); err != nil {
		proc.Stop(r.opts.CleanupTimeout)
		return nil, err
	}
	return inst, nil
}

// prepare claims the instance's id and applies its config.
func (r *Registry) prepare(ctx context.Context, s *source, inst *instance) error {
	schema, err := pluginconfig.CompileSchema(inst.id, inst.proc.Info.GetConfigSchema())
	if err != nil {
		return err
	}
	inst.schema = schema
	if owner := r.claimID(inst.id, s); owner != nil {
		return fmt.Errorf("duplicate plugin id %q: already served by %s; give each plugin a unique id", inst.id, owner.display)
	}
	if err := r.applyStoredConfig(ctx, inst); err != nil {
		s.mu.Lock()
		serving := s.cur != nil && s.cur.id == inst.id
		s.mu.Unlock()
		if !serving {
			r.releaseID(inst.id, s)
		}
		return err
	}
	return nil
}

// applyStoredConfig initialises the plugin with its stored config, or with
// an empty config when none is stored and the schema accepts "{}".
func (r *Registry) applyStoredConfig(ctx context.Context, inst *instance) error {
	stored, found, err := r.opts.Configs.Load(inst.id)
	if err != nil {
		return err
	}
	if !found {
		if inst.schema.Validate([]byte("{}")) != nil {
			r.log.Info("plugin needs a config before it accepts calls", "plugin", inst.id)
			return nil
		}
		stored = pluginconfig.Stored{Enabled: true, Config: []byte("{}")}
	}
	if err := inst.schema.Validate(stored.Config); err != nil {
		return fmt.Errorf("stored config does not fit version %s of the plugin: %w; set a new one with mockforged plugins configure %s", inst.version, err, inst.id)
	}
	if err := validateWithPlugin(ctx, inst, stored.Config); err != nil {
		return err
	}
	if err := initialize(ctx, inst, stored.Config); err != nil {
		return err
	}
	inst.enabled = stored.Enabled
	inst.configured = true
	if found {
		inst.config = stored.Config
	}
	return nil
}

func validateWithPlugin(ctx context.Context, inst *instance, config []byte) error {
	if !inst.proc.Info.GetHasConfigValidator() {
		return nil
	}
	resp, err := inst.proc.RPC.ValidateConfig(ctx, &pluginv1.ValidateConfigRequest{ConfigJson: config})
	if err != nil {
		return fmt.Errorf("plugin %s could not validate the config: %w", inst.id, err)
	}
	if resp.Error != "" {
		return &RejectedConfigError{PluginID: inst.id, Message: resp.Error}
	}
	return nil
}

func initialize(ctx context.Context, inst *instance, config []byte) error {
	_, err := inst.proc.RPC.Initialize(ctx, &pluginv1.InitializeRequest{
		ConfigJson:      config,
		StorageBrokerId: inst.proc.StorageBrokerID,
	})
	if err != nil {
		return fmt.Errorf("plugin %s failed to initialize: %w", inst.id, err)
	}
	return nil
}

// RejectedConfigError is a config that the plugin's own checks rejected.
type RejectedConfigError struct {
	PluginID string
	Message  string
}

func (e *RejectedConfigError) Error() string {
	return fmt.Sprintf("plugin %s rejected the config: %s", e.PluginID, e.Message)
}

// retire waits up to timeout for the instance's in-flight calls and then
// stops it, giving its Cleanup the registry's CleanupTimeout.
func (r *Registry) retire(inst *instance, timeout time.Duration) {
	r.retireWithin(inst, timeout, r.opts.CleanupTimeout)
}

// retireWithin is retire with an explicit bound on Cleanup.
func (r *Registry) retireWithin(inst *instance, timeout, cleanupTimeout time.Duration) {
	drained := make(chan struct{})
	go func() {
		inst.inflight.Wait()
		close(drained)
	}()
	timer := time.NewTimer(max(timeout, 0))
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
		r.log.Warn("in-flight calls did not finish in time; stopping the plugin anyway", "plugin", inst.id, "pid", inst.proc.Pid, "timeout", timeout)
	}
	inst.proc.Stop(cleanupTimeout)
}

// minShutdownCleanup is the least time a plugin's Cleanup gets at daemon
// shutdown, even when in-flight calls used up the grace period, so that
// injected faults are still removed.
const minShutdownCleanup = 2 * time.Second
