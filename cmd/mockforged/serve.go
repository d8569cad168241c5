package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/mockforge/mockforged/host/daemon"
	"github.com/mockforge/mockforged/host/metrics"
	"github.com/mockforge/mockforged/host/paths"
	"github.com/mockforge/mockforged/host/scenariorun"
)

// Defaults of the serve flags. They repeat the defaults documented on
// daemon.Options, so that the help text shows the values in force.
const (
	defaultCallTimeout        = 30 * time.Second
	defaultShutdownGrace      = 10 * time.Second
	defaultPluginStartTimeout = 10 * time.Second
	defaultRescanInterval     = 2 * time.Second
)

// serveOptions are the flags of the serve command.
type serveOptions struct {
	pluginsDir         string
	dataDir            string
	logLevel           string
	logFormat          string
	defaultTimeout     time.Duration
	shutdownGrace      time.Duration
	pluginStartTimeout time.Duration
	rescanInterval     time.Duration
	socketGroup        string
	tenantsFile        string
	metricsListen      string
	probeAllow         []string
}

func (a *app) newServeCommand() *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon",
		Long: `Run the daemon: start the built-in plugins and the plugins in the plugins
directory, watch the directory for changes and serve the API on the unix
socket. SIGINT or SIGTERM stops the daemon after in-flight calls finish or
--shutdown-grace passes. A second signal exits at once.`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), opts)
		}),
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.pluginsDir, "plugins-dir", paths.DefaultPluginsDir(),
		"directory of plugin binaries to watch (env "+paths.EnvPluginsDir+")")
	flags.StringVar(&opts.dataDir, "data-dir", paths.DefaultDataDir(),
		"directory of stored configs, state and the audit log (env "+paths.EnvDataDir+")")
	flags.Var(newEnumValue(&opts.logLevel, "info", "trace", "debug", "info", "warn", "error"), "log-level",
		"minimum level of the logs written to stderr")
	flags.Var(newEnumValue(&opts.logFormat, formatText, formatText, formatJSON), "log-format",
		"format of the logs written to stderr")
	flags.DurationVar(&opts.defaultTimeout, "default-timeout", defaultCallTimeout,
		"deadline of plugin calls that carry none")
	flags.DurationVar(&opts.shutdownGrace, "shutdown-grace", defaultShutdownGrace,
		"time in-flight calls may run after a stop signal")
	flags.DurationVar(&opts.pluginStartTimeout, "plugin-start-timeout", defaultPluginStartTimeout,
		"maximum time a plugin may take to start and complete its handshake")
	flags.DurationVar(&opts.rescanInterval, "rescan-interval", defaultRescanInterval,
		"interval between reads of the plugins directory, in case a file system event was missed")
	flags.StringVar(&opts.socketGroup, "socket-group", "",
		"group whose members may connect to the socket (mode 0660; a socket directory the daemon creates gets mode 0710 and this group); empty keeps mode 0600, for the daemon's user only")
	flags.StringVar(&opts.tenantsFile, "tenants-file", "",
		"YAML or JSON file of tenants to create or update at start; unknown fields are rejected")
	flags.StringVar(&opts.metricsListen, "metrics-listen", "",
		"host:port where the daemon serves Prometheus metrics at /metrics, such as 127.0.0.1:9464; an empty host means 127.0.0.1; empty turns them off")
	flags.StringArrayVar(&opts.probeAllow, "probe-allow", nil,
		"URL prefix, such as http://metrics.internal:9090/api/, that the HTTP probes of scenarios may GET besides loopback addresses, which are always allowed; repeat the flag for each prefix")
	return cmd
}

func (a *app) runServe(ctx context.Context, opts serveOptions) error {
	daemonOpts, err := a.daemonOptions(opts)
	if err != nil {
		return err
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "mockforged",
		Level:      hclog.LevelFromString(opts.logLevel),
		Output:     a.err,
		JSONFormat: opts.logFormat == formatJSON,
	})
	daemonOpts.Logger = logger

	return a.runUntilSignal(ctx, logger, func(ctx context.Context) error {
		return a.runDaemon(ctx, daemonOpts)
	})
}

// daemonOptions checks the serve flags and turns them into daemon options
// with absolute paths.
func (a *app) daemonOptions(opts serveOptions) (daemon.Options, error) {
	socket, err := absolutePath("--socket", paths.EnvSocket, a.socket)
	if err != nil {
		return daemon.Options{}, err
	}
	if err := paths.CheckSocketPath(socket); err != nil {
		return daemon.Options{}, usageError{err: err}
	}
	dataDir, err := absolutePath("--data-dir", paths.EnvDataDir, opts.dataDir)
	if err != nil {
		return daemon.Options{}, err
	}
	pluginsDir, err := absolutePath("--plugins-dir", paths.EnvPluginsDir, opts.pluginsDir)
	if err != nil {
		return daemon.Options{}, err
	}
	durations := []struct {
		flag  string
		value time.Duration
	}{
		{"--default-timeout", opts.defaultTimeout},
		{"--shutdown-grace", opts.shutdownGrace},
		{"--plugin-start-timeout", opts.pluginStartTimeout},
		{"--rescan-interval", opts.rescanInterval},
	}
	for _, d := range durations {
		if d.value <= 0 {
			return daemon.Options{}, usageErrorf("invalid %s %s: it must be positive, such as 10s", d.flag, d.value)
		}
	}
	tenantsFile := ""
	if opts.tenantsFile != "" {
		if tenantsFile, err = filepath.Abs(opts.tenantsFile); err != nil {
			return daemon.Options{}, fmt.Errorf("resolve --tenants-file %q: %w", opts.tenantsFile, err)
		}
	}
	if opts.metricsListen != "" {
		if _, err := metrics.ListenAddress(opts.metricsListen); err != nil {
			return daemon.Options{}, usageErrorf("--metrics-listen: %w", err)
		}
	}
	for _, prefix := range opts.probeAllow {
		if err := scenariorun.CheckProbePrefix(prefix); err != nil {
			return daemon.Options{}, usageErrorf("--probe-allow: %w", err)
		}
	}
	builtins, err := daemonBuiltins(a.builtins)
	if err != nil {
		return daemon.Options{}, err
	}

	return daemon.Options{
		SocketPath:         socket,
		DataDir:            dataDir,
		PluginsDir:         pluginsDir,
		Version:            currentVersion(),
		Builtins:           builtins,
		DefaultCallTimeout: opts.defaultTimeout,
		ShutdownGrace:      opts.shutdownGrace,
		PluginStartTimeout: opts.pluginStartTimeout,
		RescanInterval:     opts.rescanInterval,
		SocketGroup:        opts.socketGroup,
		TenantsFile:        tenantsFile,
		MetricsListen:      opts.metricsListen,
		ProbeAllow:         opts.probeAllow,
	}, nil
}

// daemonBuiltins returns the daemon's view of the built-in plugins: the
// arguments that make this binary serve each one.
func daemonBuiltins(builtins []builtinPlugin) ([]daemon.Builtin, error) {
	if err := checkBuiltins(builtins); err != nil {
		return nil, err
	}
	out := make([]daemon.Builtin, 0, len(builtins))
	for _, b := range builtins {
		out = append(out, daemon.Builtin{Name: b.name, Args: []string{builtinCommandName, b.name}})
	}
	return out, nil
}

func absolutePath(flag, env, path string) (string, error) {
	if path == "" {
		return "", usageErrorf("%s is empty; set it or %s to a path", flag, env)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s %q: %w", flag, path, err)
	}
	return abs, nil
}
