package metrics

import (
	"errors"
	"strings"

	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	"github.com/mockforge/mockforged/host/registry"
)

// Reasons of failed plugin launches.
const (
	LaunchUnsafeFile  = "unsafe_file"
	LaunchHandshake   = "handshake"
	LaunchTimeout     = "timeout"
	LaunchExited      = "exited"
	LaunchDuplicateID = "duplicate_id"
	LaunchProtocol    = "protocol"
	LaunchConfig      = "config"
	LaunchOther       = "other"
)

var _ registry.Metrics = (*Metrics)(nil)

// PluginRestarted records that a new process replaced plugin pluginID's
// process, for one of the registry's restart reasons. A restart loses the
// state inside the plugin, so the active faults counted for it are
// forgotten.
func (m *Metrics) PluginRestarted(pluginID, reason string) {
	if m == nil {
		return
	}
	switch reason {
	case registry.RestartCrash, registry.RestartReload, registry.RestartReplace:
	default:
		reason = otherLabel
	}
	m.restarts.WithLabelValues(pluginID, reason).Inc()
	m.experiments.forgetPlugin(pluginID)
}

// LaunchFailed records a failed launch or restart, classified by
// LaunchFailureReason.
func (m *Metrics) LaunchFailed(err error) {
	if m == nil {
		return
	}
	m.launchFailures.WithLabelValues(LaunchFailureReason(err)).Inc()
}

// HookFailed records a failed hook. hook is "audit" or "plugin:ID", and
// point is before_execute, after_execute or on_error.
func (m *Metrics) HookFailed(hook, point string) {
	if m == nil {
		return
	}
	m.hookFailures.WithLabelValues(hook, point).Inc()
}

// launchMessages maps parts of the messages of host/launch and
// host/registry to reasons, checked in order.
// NOTE: host/launch returns plain errors, so these strings must follow its
// messages; TestLaunchFailureReason pins each one.
var launchMessages = []struct {
	substr string
	reason string
}{
	{"duplicate plugin id", LaunchDuplicateID},
	{"unsupported plugin protocol", LaunchProtocol},
	{"did not complete the handshake in time", LaunchTimeout},
	{"process exited before completing the handshake", LaunchExited},
	{"not a mockforged plugin", LaunchHandshake},
	{"exec format error", LaunchHandshake},
	{"checksum mismatch", LaunchHandshake},
	{"does not offer the", LaunchHandshake},
	{"read plugin metadata", LaunchHandshake},
	{"reported no id", LaunchHandshake},
	{"reported no version", LaunchHandshake},
	{"is invalid: use 1 to 128", LaunchHandshake},
	{"config schema of plugin", LaunchConfig},
	{"stored config does not fit", LaunchConfig},
	{"could not validate the config", LaunchConfig},
	{"failed to initialize", LaunchConfig},
}

// LaunchFailureReason classifies the error of a failed launch into one of
// the Launch* reasons.
func LaunchFailureReason(err error) string {
	var rejected *registry.RejectedConfigError
	var invalid *pluginconfig.InvalidError
	switch {
	case err == nil:
		return LaunchOther
	case errors.Is(err, pluginfile.ErrUnsafe):
		return LaunchUnsafeFile
	case errors.As(err, &rejected), errors.As(err, &invalid):
		return LaunchConfig
	}
	msg := err.Error()
	for _, m := range launchMessages {
		if strings.Contains(msg, m.substr) {
			return m.reason
		}
	}
	return LaunchOther
}
