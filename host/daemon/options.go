package daemon

import (
	"time"

	"github.com/hashicorp/go-hclog"
)

// Builtin is a plugin compiled into the daemon's binary. The daemon launches
// it out of process by running its own executable with the hidden
// subcommand Args.
type Builtin struct {
	// Name identifies the built-in on the command line, such as "anomaly".
	Name string
	// Args are the arguments that make the daemon's binary serve the
	// built-in, for example ["__plugin", "anomaly"].
	Args []string
}

// Options configures a daemon. Zero values take the documented defaults.
type Options struct {
	// SocketPath is the unix socket of the operator API. Required.
	SocketPath string
	// DataDir holds persisted configs, the binary store, state and the
	// audit log. Required.
	DataDir string
	// PluginsDir is the watched plugins directory. Required.
	PluginsDir string
	// Version is the daemon's version string, reported by Status.
	Version string
	// Builtins are launched at start, in order.
	Builtins []Builtin
	// Executable is the daemon's own binary, used to launch built-ins.
	// Default: os.Executable().
	Executable string
	// Logger receives the daemon's logs. Default: hclog.Default().
	Logger hclog.Logger
	// DefaultCallTimeout bounds calls that carry no deadline. Default 30s.
	DefaultCallTimeout time.Duration
	// ShutdownGrace is how long in-flight calls may run after a stop
	// signal. Default 10s.
	ShutdownGrace time.Duration
	// PluginStartTimeout bounds a plugin's handshake. Default 10s.
	PluginStartTimeout time.Duration
	// RescanInterval is how often the plugins directory is read again in
	// case a file system event was missed. Default 2s.
	RescanInterval time.Duration
	// SocketGroup, when set, names a group whose members may connect to the
	// socket (mode 0660). Empty keeps mode 0600.
	SocketGroup string
	// TenantsFile, when set, is a YAML or JSON file of tenants created or
	// updated at start.
	TenantsFile string
	// PluginEnv lists the names of environment variables passed on to
	// plugin processes. Default: PATH, HOME, TMPDIR, TZ, LANG, LC_ALL,
	// KUBECONFIG.
	PluginEnv []string
	// MetricsListen, when set, is the host:port where the daemon serves its
	// Prometheus metrics at /metrics. An empty host means 127.0.0.1. Empty
	// turns the metrics off.
	MetricsListen string
	// ProbeAllow lists the URL prefixes that the HTTP probes of scenarios
	// may GET besides loopback addresses, which are always allowed. A URL
	// is under a prefix when scheme, host and port match and its path
	// starts with the prefix's path, as scenariorun.ProbeURLAllowed
	// checks. Empty allows loopback addresses only.
	ProbeAllow []string
}
