package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/mockforge/mockforged/host/pluginfile"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

type opKind int

const (
	// opLoad launches the source's binary, or reloads it when it changed.
	opLoad opKind = iota + 1
	// opReload relaunches the source even when its binary is unchanged.
	opReload
	// opRemove stops the source and removes it from the registry.
	opRemove
	// opCrashed handles the unexpected exit of an instance.
	opCrashed
	// opRestart relaunches after a crash, once its backoff elapsed.
	opRestart
	// opShutdown drains and stops the source for daemon shutdown.
	opShutdown
)

type op struct {
	kind opKind
	// inst is the instance an opCrashed or opRestart is about.
	inst *instance
	// ctx bounds the drain of opShutdown.
	ctx context.Context
	// done, when set, is closed after the operation ran.
	done chan struct{}
	// result receives the outcome of opReload.
	result chan error
}

// source is one plugin file or built-in, and the instance serving it.
type source struct {
	r        *Registry
	key      string
	display  string
	builtin  bool
	path     string
	args     []string
	ops      chan op
	stopOnce sync.Once
	stopped  chan struct{}

	// mu guards the fields below; calls read them on every request.
	mu       sync.Mutex
	state    State
	reason   string
	sha256   string
	info     *pluginv1.GetInfoResponse
	cur      *instance
	restarts int
	backoff  time.Duration
}

func newFileSource(r *Registry, path string) *source {
	return &source{
		r: r, key: path, display: path, path: path,
		ops: make(chan op, 16), stopped: make(chan struct{}), state: Starting,
	}
}

func newBuiltinSource(r *Registry, key, executable string, args []string) *source {
	return &source{
		r: r, key: key, display: key, builtin: true, path: executable, args: args,
		ops: make(chan op, 16), stopped: make(chan struct{}), state: Starting,
	}
}

// send queues an operation. After the source stopped, it only closes the
// operation's done channel.
func (s *source) send(o op) {
	select {
	case <-s.stopped:
		s.finish(o, fmt.Errorf("plugin %s was removed", s.display))
		return
	default:
	}
	select {
	case s.ops <- o:
	case <-s.stopped:
		s.finish(o, fmt.Errorf("plugin %s was removed", s.display))
	}
}

func (s *source) finish(o op, err error) {
	if o.result != nil {
		o.result <- err
	}
	if o.done != nil {
		close(o.done)
	}
}

// run executes operations until the source is removed or shut down.
func (s *source) run() {
	defer s.r.wg.Done()
	for {
		o := <-s.ops
		var err error
		stop := false
		switch o.kind {
		case opLoad:
			err = s.load(false)
		case opReload:
			err = s.load(true)
		case opCrashed:
			s.crashed(o.inst)
		case opRestart:
			s.restart(o.inst)
		case opRemove:
			s.remove()
			stop = true
		case opShutdown:
			s.shutdown(o.ctx)
			stop = true
		}
		s.finish(o, err)
		if stop {
			s.stopOnce.Do(func() { close(s.stopped) })
			s.drainQueue()
			return
		}
	}
}

// drainQueue completes, with an error, the operations queued after the
// source stopped.
func (s *source) drainQueue() {
	for {
		select {
		case o := <-s.ops:
			s.finish(o, fmt.Errorf("plugin %s was removed", s.display))
		default:
			return
		}
	}
}

// addBinary copies the source's binary into the store.
func (s *source) addBinary() (pluginfile.Blob, error) {
	if s.builtin {
		return s.r.opts.Binaries.AddExecutable(s.path)
	}
	return s.r.opts.Binaries.Add(s.path)
}

// load launches the binary; when a healthy instance already runs the same
// binary and force is false, it does nothing. A failed launch leaves the
// current instance serving.
func (s *source) load(force bool) error {
	log := s.r.log.With("file", s.display)
	s.mu.Lock()
	cur, state := s.cur, s.state
	s.mu.Unlock()
	blob, err := s.addBinary()
	if err != nil {
		s.r.opts.Metrics.LaunchFailed(err)
		if cur != nil && state == Running {
			log.Error("replacement rejected; the previous version keeps serving", "error", err)
			s.mu.Lock()
			s.reason = "replacement rejected: " + err.Error()
			s.mu.Unlock()
			return err
		}
		log.Error("plugin rejected", "error", err)
		s.setFailed(err.Error(), "")
		return err
	}
	if !force && cur != nil && state == Running && cur.blob.Hex() == blob.Hex() {
		return nil
	}
	inst, err := s.r.startInstance(s, blob)
	if err != nil {
		s.r.opts.Metrics.LaunchFailed(err)
		if cur != nil && state == Running {
			log.Error("replacement failed; the previous version keeps serving", "sha256", blob.Hex(), "error", err)
			s.mu.Lock()
			s.reason = "replacement failed: " + err.Error()
			s.mu.Unlock()
			return err
		}
		log.Error("plugin failed to start", "sha256", blob.Hex(), "error", err)
		s.setFailed(err.Error(), blob.Hex())
		return err
	}
	s.swap(inst, blob)
	if cur != nil {
		reason := RestartReplace
		if force {
			reason = RestartReload
		}
		s.r.opts.Metrics.PluginRestarted(inst.id, reason)
	}
	return nil
}

// swap makes inst the serving instance and stops the previous one after
// its in-flight calls finished.
func (s *source) swap(inst *instance, blob pluginfile.Blob) {
	s.mu.Lock()
	old := s.cur
	s.cur = inst
	s.state = Running
	s.reason = ""
	s.sha256 = blob.Hex()
	s.info = inst.proc.Info
	s.mu.Unlock()
	s.r.wg.Add(1)
	go func() {
		defer s.r.wg.Done()
		s.watch(inst)
	}()
	if old != nil {
		if old.id != inst.id {
			s.r.releaseID(old.id, s)
		}
		s.r.log.Info("plugin replaced", "plugin", inst.id, "old_version", old.version, "new_version", inst.version, "file", s.display)
		s.r.wg.Add(1)
		go func() {
			defer s.r.wg.Done()
			s.r.retire(old, s.r.opts.DrainTimeout)
		}()
	}
}

// watch reports the unexpected exit of inst.
func (s *source) watch(inst *instance) {
	select {
	case <-inst.proc.Exited():
	case <-inst.proc.Stopping():
		return
	}
	select {
	case <-inst.proc.Stopping():
		return
	default:
	}
	s.send(op{kind: opCrashed, inst: inst})
}

func (s *source) crashed(inst *instance) {
	s.mu.Lock()
	if s.cur != inst {
		s.mu.Unlock()
		return
	}
	if time.Since(inst.started) > time.Minute || s.backoff == 0 {
		s.backoff = s.r.opts.RestartBackoff
	}
	delay := s.backoff
	s.restarts++
	s.state = Starting
	s.reason = fmt.Sprintf("process exited unexpectedly; restarting in %s", delay)
	s.mu.Unlock()
	s.r.log.Error("plugin process exited unexpectedly; restarting", "plugin", inst.id, "pid", inst.proc.Pid, "file", s.display, "delay", delay)
	s.r.opts.Metrics.PluginRestarted(inst.id, RestartCrash)
	inst.proc.Kill()
	s.scheduleRestart(inst, delay)
}

func (s *source) scheduleRestart(inst *instance, delay time.Duration) {
	time.AfterFunc(delay, func() { s.send(op{kind: opRestart, inst: inst}) })
}

// restart relaunches the binary of a crashed instance.
func (s *source) restart(crashed *instance) {
	s.mu.Lock()
	if s.cur != crashed {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	inst, err := s.r.startInstance(s, crashed.blob)
	if err != nil {
		s.r.opts.Metrics.LaunchFailed(err)
		s.mu.Lock()
		s.backoff = min(2*s.backoff, s.r.opts.MaxRestartBackoff)
		delay := s.backoff
		s.reason = fmt.Sprintf("restart failed: %v; retrying in %s", err, delay)
		s.mu.Unlock()
		s.r.log.Error("plugin restart failed", "plugin", crashed.id, "file", s.display, "error", err, "retry_in", delay)
		s.scheduleRestart(crashed, delay)
		return
	}
	s.r.log.Info("plugin restarted", "plugin", inst.id, "pid", inst.proc.Pid, "file", s.display)
	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
	s.swap(inst, crashed.blob)
}

func (s *source) setFailed(reason, sha string) {
	s.mu.Lock()
	old := s.cur
	s.cur = nil
	s.state = Failed
	s.reason = reason
	s.sha256 = sha
	s.mu.Unlock()
	if old != nil {
		s.r.releaseID(old.id, s)
		s.r.retire(old, s.r.opts.DrainTimeout)
	}
}

// remove stops the source because its file is gone.
func (s *source) remove() {
	s.mu.Lock()
	old := s.cur
	s.cur = nil
	s.state = Stopped
	s.mu.Unlock()
	s.r.forget(s)
	if old != nil {
		s.r.releaseID(old.id, s)
		s.r.log.Info("plugin file removed; stopping plugin", "plugin", old.id, "file", s.display)
		s.r.retire(old, s.r.opts.DrainTimeout)
	}
}

// shutdown drains and stops the source for daemon shutdown.
func (s *source) shutdown(ctx context.Context) {
	s.mu.Lock()
	old := s.cur
	s.cur = nil
	s.state = Stopped
	s.mu.Unlock()
	if old == nil {
		return
	}
	s.r.releaseID(old.id, s)
	timeout := s.r.opts.DrainTimeout
	cleanup := s.r.opts.CleanupTimeout
	if deadline, ok := ctx.Deadline(); ok {
		// Shutdown stays within the grace period, apart from a short
		// Cleanup that every plugin gets.
		timeout = time.Until(deadline)
		cleanup = min(cleanup, max(timeout, minShutdownCleanup))
	}
	s.r.retireWithin(old, timeout, cleanup)
}

// baseName returns the file name of a source for messages.
func (s *source) baseName() string {
	if s.builtin {
		return s.display
	}
	return filepath.Base(s.path)
}
