// Package api serves the daemon's operator API (proto/api/v1) over gRPC.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mockforge/mockforged/host/registry"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// MetadataMaxDuration is the request metadata key that carries the
// tenant plan's maximum experiment duration as a Go duration string, when
// the plan has one.
const MetadataMaxDuration = "mockforged.max_duration"

// Info describes the daemon for Status.
type Info struct {
	Version string
	// StartedAt is the wall-clock time at which the daemon started, as
	// shown by Status.
	StartedAt time.Time
	// Start is the same moment as read by time.Now, whose monotonic
	// reading measures the uptime; zero means StartedAt.
	Start      time.Time
	PluginsDir string
	DataDir    string
	Socket     string
}

// uptime returns the time since the daemon started on the monotonic clock.
func (s *Server) uptime() time.Duration {
	if s.info.Start.IsZero() {
		return time.Since(s.info.StartedAt)
	}
	return time.Since(s.info.Start)
}

// Authorizer decides what the caller of a request may do.
type Authorizer interface {
	// ResolveTenant returns the tenant a call acts for: requested, or the
	// caller's own tenant when requested is empty. It fails with
	// PermissionDenied when the caller holds no credential for it.
	ResolveTenant(ctx context.Context, requested string) (string, error)
	// RequireAdmin fails with PermissionDenied unless the caller is an
	// administrator.
	RequireAdmin(ctx context.Context) error
}

// Admitter gates calls by tenant: permission, rate limit and quotas.
type Admitter interface {
	// Admit checks and counts one call; release must run when it ends.
	Admit(ctx context.Context, tenantID string, capabilities []string, timeout time.Duration) (release func(), err error)
	// MaxDuration returns the tenant's maximum experiment duration; ok is
	// false when it is unlimited.
	MaxDuration(tenantID string) (max time.Duration, ok bool, err error)
}

// Server implements the Daemon service on top of a registry.
type Server struct {
	apiv1.UnimplementedDaemonServer

	reg            *registry.Registry
	info           Info
	defaultTimeout time.Duration
	auth           Authorizer
	gate           Admitter
	log            hclog.Logger
	// metrics, when set, records every Execute request.
	metrics Metrics
}

var _ apiv1.DaemonServer = (*Server)(nil)

// NewServer returns a Daemon service. Calls without a timeout get
// defaultTimeout. auth and gate are required.
func NewServer(reg *registry.Registry, info Info, defaultTimeout time.Duration, auth Authorizer, gate Admitter, log hclog.Logger) *Server {
	return &Server{reg: reg, info: info, defaultTimeout: defaultTimeout, auth: auth, gate: gate, log: log}
}

// Status returns the daemon's version, uptime and plugin counts.
func (s *Server) Status(context.Context, *apiv1.StatusRequest) (*apiv1.StatusResponse, error) {
	resp := &apiv1.StatusResponse{
		Version:    s.info.Version,
		StartedAt:  timestamppb.New(s.info.StartedAt),
		Uptime:     durationpb.New(s.uptime()),
		PluginsDir: s.info.PluginsDir,
		DataDir:    s.info.DataDir,
		Socket:     s.info.Socket,
	}
	for _, snap := range s.reg.List() {
		resp.PluginsTotal++
		switch snap.State {
		case registry.Running:
			resp.PluginsRunning++
		case registry.Starting:
			resp.PluginsStarting++
		case registry.Failed:
			resp.PluginsFailed++
		case registry.Stopped:
			resp.PluginsStopped++
		}
	}
	return resp, nil
}

// ListPlugins returns every plugin source, failed ones included.
func (s *Server) ListPlugins(context.Context, *apiv1.ListPluginsRequest) (*apiv1.ListPluginsResponse, error) {
	snaps := s.reg.List()
	resp := &apiv1.ListPluginsResponse{Plugins: make([]*apiv1.PluginInfo, len(snaps))}
	for i, snap := range snaps {
		resp.Plugins[i] = pluginInfo(snap)
	}
	return resp, nil
}

// DescribePlugin returns one plugin with its schema and config.
func (s *Server) DescribePlugin(_ context.Context, req *apiv1.DescribePluginRequest) (*apiv1.DescribePluginResponse, error) {
	if req.Id == "" {
		return nil, status.Error(codes.InvalidArgument, "plugin id is required")
	}
	snap, err := s.reg.Describe(req.Id)
	if err != nil {
		return nil, err
	}
	return &apiv1.DescribePluginResponse{
		Plugin:       pluginInfo(snap),
		ConfigSchema: snap.Info.GetConfigSchema(),
		ConfigJson:   snap.Config,
	}, nil
}

// ConfigurePlugin validates, applies and persists a config.
func (s *Server) ConfigurePlugin(ctx context.Context, req *apiv1.ConfigurePluginRequest) (*apiv1.ConfigurePluginResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	if req.Id == "" {
		return nil, status.Error(codes.InvalidArgument, "plugin id is required")
	}
	snap, err := s.reg.Configure(ctx, req.Id, req.ConfigJson)
	if err != nil {
		return nil, err
	}
	return &apiv1.ConfigurePluginResponse{Plugin: pluginInfo(snap)}, nil
}

// ReloadPlugins relaunches one plugin or all of them.
func (s *Server) ReloadPlugins(ctx context.Context, req *apiv1.ReloadPluginsRequest) (*apiv1.ReloadPluginsResponse, error) {
	if err := s.auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := s.reg.Reload(req.Id); err != nil {
		return nil, err
	}
	var out []*apiv1.PluginInfo
	for _, snap := range s.reg.List() {
		if req.Id == "" || snap.ID == req.Id {
			out = append(out, pluginInfo(snap))
		}
	}
	return &apiv1.ReloadPluginsResponse{Plugins: out}, nil
}

// Execute calls a plugin.
func (s *Server) Execute(ctx context.Context, req *apiv1.ExecuteRequest) (resp *apiv1.ExecuteResponse, err error) {
	call := &callRecord{start: time.Now()}
	defer func() { s.observeCall(call, req, resp, err) }()
	if req.PluginId == "" {
		return nil, status.Error(codes.InvalidArgument, "plugin id is required")
	}
	params, err := objectOrEmpty(req.ParametersJson)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parameters: %v", err)
	}
	timeout := s.defaultTimeout
	if req.Timeout != nil {
		timeout = req.Timeout.AsDuration()
		if timeout <= 0 {
			return nil, status.Errorf(codes.InvalidArgument, "timeout %s is not positive; give a duration such as 5s", timeout)
		}
	}
	// The call gets a deadline of its own unless the caller's comes first.
	ownDeadline := true
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); left <= timeout {
			timeout, ownDeadline = left, false
		}
	}
	tenantID, err := s.auth.ResolveTenant(ctx, req.TenantId)
	if err != nil {
		return nil, err
	}
	caps, err := s.reg.Capabilities(req.PluginId)
	call.pluginFound(req.PluginId, err)
	if err != nil {
		return nil, err
	}
	release, err := s.gate.Admit(ctx, tenantID, caps, timeout)
	if err != nil {
		s.observeRejection(tenantID, err)
		return nil, err
	}
	defer release()
	call.tenantID = tenantID
	if ownDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	preq := &pluginv1.ExecuteRequest{
		TenantId:       tenantID,
		ScenarioId:     req.ScenarioId,
		ExecutionId:    req.ExecutionId,
		RequestId:      req.RequestId,
		ParametersJson: params,
		Metadata:       make(map[string]string, len(req.Metadata)+1),
	}
	for k, v := range req.Metadata {
		preq.Metadata[k] = v
	}
	// Plugins that create long-lived faults bound them by this value.
	if limit, limited, err := s.gate.MaxDuration(tenantID); err == nil && limited {
		preq.Metadata[MetadataMaxDuration] = limit.String()
	}
	if preq.RequestId == "" {
		preq.RequestId = newRequestID()
	}
	res, err := s.reg.Execute(ctx, req.PluginId, preq)
	if err != nil {
		return nil, err
	}
	return executeResponse(res, preq.RequestId), nil
}

func executeResponse(res *registry.Result, requestID string) *apiv1.ExecuteResponse {
	out := &apiv1.ExecuteResponse{
		Success:       res.Response.GetSuccess(),
		Message:       res.Response.GetMessage(),
		DataJson:      res.Response.GetDataJson(),
		PluginId:      res.PluginID,
		PluginVersion: res.PluginVersion,
		RequestId:     requestID,
		Duration:      durationpb.New(res.Duration),
	}
	if e := res.Response.GetError(); e != nil {
		out.Error = &apiv1.ErrorDetail{Code: e.Code, Message: e.Message, Retryable: e.Retryable, DetailsJson: e.DetailsJson}
	}
	for _, f := range res.HookFailures {
		out.HookFailures = append(out.HookFailures, &apiv1.HookFailure{Hook: f.Hook, Point: string(f.Point), Error: f.Err.Error()})
	}
	return out
}

// objectOrEmpty checks that data is a JSON object, treating empty input as
// "{}".
func objectOrEmpty(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return []byte("{}"), nil
	}
	if trimmed[0] != '{' {
		return nil, errNotObject
	}
	if !json.Valid(trimmed) {
		var v any
		err := json.Unmarshal(trimmed, &v)
		return nil, err
	}
	return data, nil
}

var errNotObject = errors.New(`parameters must be a JSON object such as {"key": "value"}`)

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func pluginInfo(snap registry.Snapshot) *apiv1.PluginInfo {
	md := snap.Info.GetMetadata()
	info := &apiv1.PluginInfo{
		Id:              snap.ID,
		Name:            md.GetName(),
		Version:         md.GetVersion(),
		Description:     md.GetDescription(),
		Author:          md.GetAuthor(),
		Homepage:        md.GetHomepage(),
		Repository:      md.GetRepository(),
		Tags:            md.GetTags(),
		ApiVersion:      md.GetApiVersion(),
		Capabilities:    snap.Info.GetCapabilities(),
		State:           pluginState(snap.State),
		File:            snap.File,
		Sha256:          snap.SHA256,
		Reason:          snap.Reason,
		Pid:             int32(snap.Pid),
		Restarts:        int32(snap.Restarts),
		Builtin:         snap.Builtin,
		ProtocolVersion: int32(snap.ProtocolVersion),
		Enabled:         snap.Enabled,
		Configured:      snap.Configured,
	}
	for _, d := range md.GetDependencies() {
		info.Dependencies = append(info.Dependencies, &apiv1.Dependency{Id: d.Id, Version: d.Version})
	}
	return info
}

func pluginState(s registry.State) apiv1.PluginState {
	switch s {
	case registry.Starting:
		return apiv1.PluginState_PLUGIN_STATE_STARTING
	case registry.Running:
		return apiv1.PluginState_PLUGIN_STATE_RUNNING
	case registry.Failed:
		return apiv1.PluginState_PLUGIN_STATE_FAILED
	case registry.Stopped:
		return apiv1.PluginState_PLUGIN_STATE_STOPPED
	}
	return apiv1.PluginState_PLUGIN_STATE_UNSPECIFIED
}
