package registry

// Reasons passed to Metrics.PluginRestarted.
const (
	// RestartCrash is a relaunch after the process exited unexpectedly.
	RestartCrash = "crash"
	// RestartReload is a relaunch asked for with Reload.
	RestartReload = "reload"
	// RestartReplace is a relaunch because the plugin's file changed.
	RestartReplace = "replace"
)

// Metrics receives the registry's events for the daemon's metrics. Its
// methods must be safe for concurrent use and return quickly.
type Metrics interface {
	// PluginRestarted reports that a new process of pluginID replaced the
	// previous one, for one of the Restart* reasons. A crash is reported
	// when it is noticed, before the relaunch.
	PluginRestarted(pluginID, reason string)
	// LaunchFailed reports a failed launch, replacement or restart.
	LaunchFailed(err error)
	// HookFailed reports a failed hook at point (before_execute,
	// after_execute or on_error).
	HookFailed(hook, point string)
}

// noMetrics is the Metrics of a registry created without one.
type noMetrics struct{}

func (noMetrics) PluginRestarted(string, string) {}
func (noMetrics) LaunchFailed(error)             {}
func (noMetrics) HookFailed(string, string)      {}
