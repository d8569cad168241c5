package registry

import (
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// Snapshot describes a plugin source at one moment.
type Snapshot struct {
	// ID is empty when the source failed before reporting metadata.
	ID string
	// Info is the plugin's metadata; nil when it never reported any.
	Info  *pluginv1.GetInfoResponse
	State State
	// File is the plugin's file, or "builtin:NAME".
	File    string
	Builtin bool
	// SHA256 is the hex digest of the binary, when it could be read.
	SHA256 string
	// Reason is set for failed sources, and for running ones whose
	// replacement failed.
	Reason          string
	Pid             int
	Restarts        int
	ProtocolVersion int
	Enabled         bool
	Configured      bool
	// Config is the plugin's current config without "enabled"; nil when
	// none was set.
	Config []byte
}

func (s *source) snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{
		State:    s.state,
		File:     s.display,
		Builtin:  s.builtin,
		SHA256:   s.sha256,
		Reason:   s.reason,
		Restarts: s.restarts,
		Info:     s.info,
	}
	if s.info != nil {
		snap.ID = s.info.GetMetadata().GetId()
	}
	if inst := s.cur; inst != nil {
		snap.Pid = inst.proc.Pid
		snap.ProtocolVersion = inst.proc.ProtocolVersion
		inst.cfgMu.RLock()
		snap.Enabled = inst.enabled
		snap.Configured = inst.configured
		snap.Config = inst.config
		inst.cfgMu.RUnlock()
	}
	return snap
}
