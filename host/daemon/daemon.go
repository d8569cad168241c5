// Package daemon wires the daemon's parts together and runs them until a
// stop signal: the plugins directory watcher, the plugin registry, the hook
// chain with the audit log, and the operator API on the unix socket.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/mockforge/mockforged/host/api"
	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/discovery"
	"github.com/mockforge/mockforged/host/hooks"
	"github.com/mockforge/mockforged/host/launch"
	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/scenarioapi"
	"github.com/mockforge/mockforged/host/scenariorun"
	"github.com/mockforge/mockforged/host/scenariostore"
	"github.com/mockforge/mockforged/host/tenant"
	"github.com/mockforge/mockforged/host/tenantapi"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk"
)

// apiStreamWorkers is the number of goroutines that serve API calls and
// are reused from call to call, so their grown stacks are kept. Calls
// beyond it get a goroutine of their own, as without workers.
const apiStreamWorkers = 32

// apiStreamWindowBytes and apiConnWindowBytes are the static HTTP/2 flow
// control windows of the API server, per call and for the whole
// connection. A static window turns off grpc-go's estimate of the
// bandwidth-delay product. That estimate follows a request with a window
// update and a ping that the client must acknowledge, which costs a read
// and a write on each side when calls come one at a time. 16 MiB is the
// largest window that the estimate grows to in grpc-go 1.85.
const (
	apiStreamWindowBytes = 16 << 20
	apiConnWindowBytes   = 16 << 20
)

// DefaultPluginEnv lists the environment variables plugins receive.
var DefaultPluginEnv = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "KUBECONFIG"}

func (o *Options) setDefaults() error {
	if o.SocketPath == "" || o.DataDir == "" || o.PluginsDir == "" {
		return errors.New("socket path, data directory and plugins directory are required")
	}
	if o.Logger == nil {
		o.Logger = hclog.Default()
	}
	if o.DefaultCallTimeout <= 0 {
		o.DefaultCallTimeout = 30 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.PluginStartTimeout <= 0 {
		o.PluginStartTimeout = 10 * time.Second
	}
	if o.RescanInterval <= 0 {
		o.RescanInterval = 2 * time.Second
	}
	if o.PluginEnv == nil {
		o.PluginEnv = DefaultPluginEnv
	}
	for _, prefix := range o.ProbeAllow {
		if err := scenariorun.CheckProbePrefix(prefix); err != nil {
			return err
		}
	}
	if o.Executable == "" && len(o.Builtins) > 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the daemon's own executable for built-in plugins: %w", err)
		}
		o.Executable = exe
	}
	return nil
}

// Run runs the daemon until ctx is cancelled, then shuts it down: it stops
// accepting calls, lets in-flight calls finish within ShutdownGrace, runs
// every plugin's Cleanup and stops every plugin process.
func Run(ctx context.Context, opts Options) error {
	if err := opts.setDefaults(); err != nil {
		return err
	}
	log := opts.Logger
	tuneRuntime()
	for _, dir := range []*string{&opts.DataDir, &opts.PluginsDir, &opts.SocketPath} {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			return fmt.Errorf("resolve path %s: %w", *dir, err)
		}
		*dir = abs
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", opts.DataDir, err)
	}
	binaries, err := pluginfile.OpenStore(filepath.Join(opts.DataDir, "bin"))
	if err != nil {
		return err
	}
	configs, err := pluginconfig.OpenStore(filepath.Join(opts.DataDir, "configs"))
	if err != nil {
		return err
	}
	auditFile, err := os.OpenFile(filepath.Join(opts.DataDir, "audit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer auditFile.Close()

	tenants, err := openTenants(ctx, opts, log.Named("tenants"))
	if err != nil {
		return err
	}
	defer tenants.Close()

	daemonMetrics, stopMetrics, err := startMetrics(opts, log.Named("metrics"))
	if err != nil {
		return err
	}
	defer stopMetrics()

	if err := api.PrepareSocketDir(opts.SocketPath, opts.SocketGroup); err != nil {
		return err
	}
	listener, err := auth.Listen(opts.SocketPath, auth.SocketOptions{Group: opts.SocketGroup})
	if err != nil {
		return err
	}
	defer os.Remove(opts.SocketPath)

	reg := registry.New(registry.Options{
		Binaries:     binaries,
		Configs:      configs,
		Logger:       log.Named("plugins"),
		Env:          launch.Environment(opts.PluginEnv),
		StartTimeout: opts.PluginStartTimeout,
		HostHooks:    hooks.Chain{hooks.NewAudit(auditFile)},
		Storage:      tenants.NewStorageServer,
		Metrics:      daemonMetrics,
	})
	daemonMetrics.WatchPlugins(reg.List)

	authn := auth.New(auth.Config{
		AdminUIDs:     auth.DefaultAdminUIDs(),
		Tokens:        tenants,
		Logger:        log.Named("auth"),
		PublicMethods: publicMethods,
		DefaultTenant: tenant.DefaultTenant,
	})
	server := grpc.NewServer(
		grpc.Creds(auth.TransportCredentials()),
		grpc.NumStreamWorkers(apiStreamWorkers),
		grpc.StaticStreamWindowSize(apiStreamWindowBytes),
		grpc.StaticConnWindowSize(apiConnWindowBytes),
		grpc.MaxRecvMsgSize(sdk.MaxMessageBytes),
		grpc.MaxSendMsgSize(sdk.MaxMessageBytes),
		grpc.ChainUnaryInterceptor(authn.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(authn.StreamInterceptor()),
	)
	healthSrv := health.NewServer()
	healthpb.RegisterHealthServer(server, healthSrv)
	reflection.Register(server)
	apiServer := api.NewServer(reg, api.Info{
		Version:    opts.Version,
		StartedAt:  clock.Now(),
		Start:      time.Now(),
		PluginsDir: opts.PluginsDir,
		DataDir:    opts.DataDir,
		Socket:     opts.SocketPath,
	}, opts.DefaultCallTimeout, authn, tenantGate{tenants}, log.Named("api"))
	apiServer.SetMetrics(daemonMetrics)
	apiv1.RegisterDaemonServer(server, apiServer)
	apiv1.RegisterTenantsServer(server, tenantapi.New(tenants, authn))
	scenarios := scenariostore.New(tenants)
	runner := scenariorun.New(scenariorun.Options{Store: scenarios, Executor: daemonMetrics.ObserveExecutor(reg), Gate: scenariorun.TenantGate{Manager: tenants},
		Logger: log.Named("scenarios"), DefaultCallTimeout: opts.DefaultCallTimeout, ProbeAllow: opts.ProbeAllow})
	if err := runner.Start(); err != nil {
		return err
	}
	apiv1.RegisterScenariosServer(server, scenarioapi.New(scenarios, runner, tenants, authn, opts.ProbeAllow))

	socket := newAPISocket(opts.SocketPath, auth.SocketOptions{Group: opts.SocketGroup}, server, log.Named("api"))
	socket.serve(listener)
	log.Info("daemon started", "version", opts.Version, "socket", opts.SocketPath, "plugins_dir", opts.PluginsDir, "data_dir", opts.DataDir, "pid", os.Getpid(), "gomaxprocs", runtime.GOMAXPROCS(0))
	if file := clock.FaultFile(); file != "" {
		log.Warn("fault-injection build: the wall clock follows the offset in the file", "file", file)
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	go socket.watch(watchCtx)
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- discovery.New(discovery.Options{
			Dir:         opts.PluginsDir,
			RescanEvery: opts.RescanInterval,
			Logger:      log.Named("discovery"),
		}).Run(watchCtx, func(ev discovery.Event) {
			switch ev.Kind {
			case discovery.Ready:
				reg.FileChanged(ev.Path)
			case discovery.Removed:
				reg.FileRemoved(ev.Path)
			}
		})
	}()
	go func() {
		for _, b := range opts.Builtins {
			reg.AddBuiltin(b.Name, opts.Executable, b.Args)
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stop requested; shutting down", "grace", opts.ShutdownGrace)
	case err := <-socket.errs:
		runErr = fmt.Errorf("serve API: %w", err)
	case err := <-watchDone:
		if err != nil {
			runErr = err
		}
	}
	stopWatch()
	healthSrv.Shutdown()
	stopScenarios(runner, opts.ShutdownGrace)
	shutdown(server, reg, opts.ShutdownGrace, log)
	log.Info("daemon stopped")
	return runErr
}

// gcPercent is the daemon's garbage collection target when GOGC is unset.
// The daemon keeps little live memory, so a higher target than Go's 100
// trades a few megabytes for less collection work on every call.
const gcPercent = 400

// tuneRuntime sets the daemon's garbage collection target and, unless
// GOMAXPROCS is set, limits the daemon to half of the CPUs Go would use,
// at least one. The daemon routes calls to plugin processes on the same
// machine, which do the work. With every CPU, each hand-off between the
// daemon's goroutines woke an idle thread that searched for work and went
// back to sleep, and that CPU was taken from the plugins and callers.
func tuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)/2))
	}
}

// stopScenarios interrupts the running executions and runs their
// rollbacks while the plugins still serve, within grace.
func stopScenarios(runner *scenariorun.Orchestrator, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	runner.Stop(ctx)
}

// shutdown stops the API once in-flight calls finished or the grace period
// ran out, then stops every plugin.
func shutdown(server *grpc.Server, reg *registry.Registry, grace time.Duration, log hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		server.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		log.Warn("in-flight calls did not finish within the grace period; cancelling them", "grace", grace)
		server.Stop()
		<-stopped
	}
	reg.Shutdown(ctx)
}
