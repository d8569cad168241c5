// Package registry owns every plugin the daemon serves: it launches them
// from files and built-ins, reloads and restarts them, applies their
// configs, and routes calls to them through the hook chain.
//
// Each plugin source (a file in the plugins directory or a built-in) has one
// goroutine that runs its lifecycle operations in order, so a launch, a
// reload, a crash restart and a removal of the same source never overlap.
// Calls do not go through that goroutine: they take the source's current
// instance under a short lock and count themselves as in flight on it, so a
// replaced instance is stopped only after its last call returned.
package registry

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/hooks"
	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// State is a plugin source's lifecycle state.
type State int

// States of a plugin source.
const (
	Starting State = iota + 1
	Running
	Failed
	Stopped
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Failed:
		return "failed"
	case Stopped:
		return "stopped"
	}
	return "unknown"
}

// Options configures a Registry. Zero durations take the defaults.
type Options struct {
	// Binaries stores the copies of plugin binaries that are executed.
	Binaries *pluginfile.Store
	// Configs persists accepted configs.
	Configs *pluginconfig.Store
	// Logger is the parent of every plugin's logger.
	Logger hclog.Logger
	// Env is the complete environment of plugin processes.
	Env []string
	// StartTimeout bounds a plugin's handshake. Default 10s.
	StartTimeout time.Duration
	// CleanupTimeout bounds a plugin's Cleanup. Default 10s.
	CleanupTimeout time.Duration
	// DrainTimeout bounds how long a replaced instance may finish its
	// in-flight calls before it is stopped. Default 30s.
	DrainTimeout time.Duration
	// RestartBackoff is the first delay before relaunching a crashed
	// plugin; it doubles on each failed attempt up to MaxRestartBackoff.
	// Defaults 250ms and 30s.
	RestartBackoff    time.Duration
	MaxRestartBackoff time.Duration
	// HostHooks run first in every call's hook chain.
	HostHooks hooks.Chain
	// Storage, when set, returns the storage server offered to a plugin.
	Storage func(pluginID string) pluginv1.StorageServer
	// Metrics receives restarts, launch failures and hook failures.
	// Default: they are not recorded.
	Metrics Metrics
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = 10 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.RestartBackoff <= 0 {
		o.RestartBackoff = 250 * time.Millisecond
	}
	if o.MaxRestartBackoff <= 0 {
		o.MaxRestartBackoff = 30 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
}

// Registry is the set of plugin sources.
type Registry struct {
	opts Options
	log  hclog.Logger

	mu      sync.RWMutex
	sources map[string]*source
	owners  map[string]*source // plugin id → the source serving it
	closing bool

	// wg tracks source goroutines and background stops.
	wg sync.WaitGroup
}

// New returns an empty registry.
func New(opts Options) *Registry {
	opts.setDefaults()
	return &Registry{
		opts:    opts,
		log:     opts.Logger,
		sources: map[string]*source{},
		owners:  map[string]*source{},
	}
}

// FileChanged launches or reloads the plugin in the file at path.
func (r *Registry) FileChanged(path string) {
	s := r.sourceFor(path, func() *source { return newFileSource(r, path) })
	if s != nil {
		s.send(op{kind: opLoad})
	}
}

// FileRemoved stops the plugin of the file at path and removes it from the
// registry.
func (r *Registry) FileRemoved(path string) {
	r.mu.RLock()
	s := r.sources[path]
	r.mu.RUnlock()
	if s != nil {
		s.send(op{kind: opRemove})
	}
}

// AddBuiltin launches a built-in plugin by running executable with args.
// It returns once the launch finished, successfully or not.
func (r *Registry) AddBuiltin(name, executable string, args []string) {
	key := "builtin:" + name
	s := r.sourceFor(key, func() *source { return newBuiltinSource(r, key, executable, args) })
	if s != nil {
		done := make(chan struct{})
		s.send(op{kind: opLoad, done: done})
		<-done
	}
}

// sourceFor returns the source under key, creating it with create when
// missing. It returns nil once the registry is shutting down.
func (r *Registry) sourceFor(key string, create func() *source) *source {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return nil
	}
	s := r.sources[key]
	if s == nil {
		s = create()
		r.sources[key] = s
		r.wg.Add(1)
		go s.run()
	}
	return s
}

// List returns a snapshot of every source, sorted by plugin id and then by
// file.
func (r *Registry) List() []Snapshot {
	r.mu.RLock()
	srcs := make([]*source, 0, len(r.sources))
	for _, s := range r.sources {
		srcs = append(srcs, s)
	}
	r.mu.RUnlock()
	out := make([]Snapshot, 0, len(srcs))
	for _, s := range srcs {
		out = append(out, s.snapshot())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].File < out[j].File
	})
	return out
}

// Shutdown stops accepting calls, lets in-flight calls finish until ctx is
// done, runs every plugin's Cleanup and stops every process.
func (r *Registry) Shutdown(ctx context.Context) {
	r.mu.Lock()
	r.closing = true
	srcs := make([]*source, 0, len(r.sources))
	for _, s := range r.sources {
		srcs = append(srcs, s)
	}
	r.mu.Unlock()

	var wg sync.WaitGroup
	for _, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan struct{})
			s.send(op{kind: opShutdown, ctx: ctx, done: done})
			<-done
		}()
	}
	wg.Wait()
	r.wg.Wait()
}

// claimID records s as the server of id. It fails when another source
// already serves id.
func (r *Registry) claimID(id string, s *source) *source {
	r.mu.Lock()
	defer r.mu.Unlock()
	if owner := r.owners[id]; owner != nil && owner != s {
		return owner
	}
	r.owners[id] = s
	return nil
}

// releaseID removes the record that s serves id.
func (r *Registry) releaseID(id string, s *source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.owners[id] == s {
		delete(r.owners, id)
	}
}

// forget removes a source that was removed from the plugins directory.
func (r *Registry) forget(s *source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sources[s.key] == s {
		delete(r.sources, s.key)
	}
}

func (r *Registry) owner(id string) (*source, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.owners[id], r.closing
}
