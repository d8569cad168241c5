package metrics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	"github.com/mockforge/mockforged/host/registry"
)

func TestLaunchFailureReason(t *testing.T) {
	// A world-writable file is rejected by the real safety check.
	path := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
	store, err := pluginfile.OpenStore(filepath.Join(t.TempDir(), "bin"))
	if err != nil {
		t.Fatal(err)
	}
	_, unsafeErr := store.Add(path)
	if unsafeErr == nil {
		t.Fatal("the binary store accepted a world-writable file")
	}
	_, invalidErr := pluginconfig.CompileSchema("p", []byte(`{"type": 5}`))
	if invalidErr == nil {
		t.Fatal("CompileSchema accepted an invalid schema")
	}

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unsafe file", unsafeErr, LaunchUnsafeFile},
		{"rejected config", fmt.Errorf("load: %w", &registry.RejectedConfigError{PluginID: "p", Message: "no"}), LaunchConfig},
		{"invalid schema", invalidErr, LaunchConfig},
		// The messages below are those of host/launch and host/registry.
		{"timeout", errors.New("hang: plugin did not complete the handshake in time (start timeout); is it a mockforged plugin calling sdk.Serve?"), LaunchTimeout},
		{"exited", errors.New("exit: process exited before completing the handshake; is it a mockforged plugin calling sdk.Serve?"), LaunchExited},
		{"stdout", errors.New(`stdout: not a mockforged plugin, or it wrote to stdout before the handshake: first line was "hello"`), LaunchHandshake},
		{"protocol", errors.New("protocol2: unsupported plugin protocol: incompatible API version; the daemon supports protocol versions [1], rebuild the plugin against a matching SDK"), LaunchProtocol},
		{"exec format", errors.New("junk: not an executable program for this system (exec format error)"), LaunchHandshake},
		{"invalid id", errors.New(`x: plugin id "X" is invalid: use 1 to 128 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`), LaunchHandshake},
		{"duplicate id", errors.New(`duplicate plugin id "db-fault-simulator": already served by /plugins/a; give each plugin a unique id`), LaunchDuplicateID},
		{"stored config", errors.New("stored config does not fit version 2.0.0 of the plugin: bad; set a new one with mockforged plugins configure p"), LaunchConfig},
		{"initialize", errors.New("plugin p failed to initialize: rpc error"), LaunchConfig},
		{"other", errors.New("copy plugin into store: disk full"), LaunchOther},
		{"nil", nil, LaunchOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LaunchFailureReason(tt.err); got != tt.want {
				t.Errorf("LaunchFailureReason(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestRegistryEvents(t *testing.T) {
	m := New("test")
	m.PluginRestarted("dbfault", registry.RestartCrash)
	m.PluginRestarted("dbfault", registry.RestartCrash)
	m.PluginRestarted("dbfault", registry.RestartReload)
	m.PluginRestarted("dbfault", "surprise")
	m.LaunchFailed(errors.New("duplicate plugin id \"x\": already served by y"))
	m.HookFailed("plugin:guard", "before_execute")

	restarts := "mockforged_plugin_restarts_total"
	wantSample(t, m, restarts, labels("plugin", "dbfault", "reason", "crash"), 2)
	wantSample(t, m, restarts, labels("plugin", "dbfault", "reason", "reload"), 1)
	wantSample(t, m, restarts, labels("plugin", "dbfault", "reason", "_other"), 1)
	wantSample(t, m, "mockforged_plugin_launch_failures_total", labels("reason", "duplicate_id"), 1)
	wantSample(t, m, "mockforged_hook_failures_total", labels("hook", "plugin:guard", "point", "before_execute"), 1)
}

func TestPluginStates(t *testing.T) {
	m := New("test")
	wantSample(t, m, "mockforged_plugins", labels("state", "running"), 0)

	m.WatchPlugins(func() []registry.Snapshot {
		return []registry.Snapshot{{State: registry.Running}, {State: registry.Running}, {State: registry.Failed}}
	})
	wantSample(t, m, "mockforged_plugins", labels("state", "running"), 2)
	wantSample(t, m, "mockforged_plugins", labels("state", "failed"), 1)
	wantSample(t, m, "mockforged_plugins", labels("state", "starting"), 0)
	wantSample(t, m, "mockforged_plugins", labels("state", "stopped"), 0)
}
