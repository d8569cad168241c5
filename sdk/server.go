package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// server adapts a Plugin to the generated gRPC service.
type server struct {
	pluginv1.UnimplementedPluginServer

	plugin Plugin
	log    hclog.Logger
	broker *goplugin.GRPCBroker

	mu      sync.Mutex
	storage pluginv1.StorageClient
}

var _ pluginv1.PluginServer = (*server)(nil)

func newServer(p Plugin, log hclog.Logger) *server {
	return &server{plugin: p, log: log}
}

func (s *server) GetInfo(context.Context, *pluginv1.GetInfoRequest) (*pluginv1.GetInfoResponse, error) {
	md := s.plugin.Metadata()
	if md.APIVersion == "" {
		md.APIVersion = APIVersion
	}
	caps := s.plugin.Capabilities()
	names := make([]string, len(caps))
	for i, c := range caps {
		names[i] = string(c)
	}
	_, hasHooks := s.plugin.(Hooks)
	_, hasValidator := s.plugin.(ConfigValidator)
	return &pluginv1.GetInfoResponse{
		Metadata:           metadataToProto(md),
		Capabilities:       names,
		ConfigSchema:       s.plugin.ConfigSchema(),
		HasHooks:           hasHooks,
		HasConfigValidator: hasValidator,
	}, nil
}

func (s *server) ValidateConfig(ctx context.Context, req *pluginv1.ValidateConfigRequest) (*pluginv1.ValidateConfigResponse, error) {
	v, ok := s.plugin.(ConfigValidator)
	if !ok {
		return &pluginv1.ValidateConfigResponse{}, nil
	}
	if err := v.ValidateConfig(ctx, objectOrEmpty(req.ConfigJson)); err != nil {
		return &pluginv1.ValidateConfigResponse{Error: err.Error()}, nil
	}
	return &pluginv1.ValidateConfigResponse{}, nil
}

func (s *server) Initialize(ctx context.Context, req *pluginv1.InitializeRequest) (*pluginv1.InitializeResponse, error) {
	if err := s.connectStorage(req.StorageBrokerId); err != nil {
		return nil, status.Errorf(codes.Unavailable, "connect to host storage: %v", err)
	}
	ctx = withStorage(ctx, s.storageClient(), "")
	if err := s.plugin.Initialize(ctx, objectOrEmpty(req.ConfigJson)); err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.InitializeResponse{}, nil
}

func (s *server) connectStorage(id uint32) error {
	if id == 0 || s.broker == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.storage != nil {
		return nil
	}
	conn, err := s.broker.Dial(id)
	if err != nil {
		return err
	}
	s.storage = pluginv1.NewStorageClient(conn)
	return nil
}

func (s *server) storageClient() pluginv1.StorageClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storage
}

func (s *server) Execute(ctx context.Context, req *pluginv1.ExecuteRequest) (*pluginv1.ExecuteResponse, error) {
	sreq := requestFromProto(req)
	ctx = withStorage(ctx, s.storageClient(), sreq.TenantID)
	res, err := s.plugin.Execute(ctx, sreq)
	if err != nil {
		return failureToProto(ctx, err), nil
	}
	if res == nil {
		return nil, status.Error(codes.Internal, "plugin returned neither a result nor an error")
	}
	out, convErr := resultToProto(res)
	if convErr != nil {
		return nil, status.Errorf(codes.Internal, "plugin returned an invalid result: %v", convErr)
	}
	return out, nil
}

func (s *server) RunHook(ctx context.Context, req *pluginv1.RunHookRequest) (*pluginv1.RunHookResponse, error) {
	hooks, ok := s.plugin.(Hooks)
	if !ok {
		return &pluginv1.RunHookResponse{}, nil
	}
	call := &HookCall{
		PluginID:      req.PluginId,
		PluginVersion: req.PluginVersion,
		Request:       requestFromProto(req.Request),
		Result:        resultFromProto(req.Response),
		Error:         req.Error,
	}
	ctx = withStorage(ctx, s.storageClient(), call.Request.TenantID)
	var err error
	switch req.Point {
	case pluginv1.HookPoint_HOOK_POINT_BEFORE_EXECUTE:
		err = hooks.BeforeExecute(ctx, call)
	case pluginv1.HookPoint_HOOK_POINT_AFTER_EXECUTE:
		err = hooks.AfterExecute(ctx, call)
	case pluginv1.HookPoint_HOOK_POINT_ON_ERROR:
		err = hooks.OnError(ctx, call)
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unknown hook point %v", req.Point)
	}
	if err != nil {
		return &pluginv1.RunHookResponse{Error: err.Error()}, nil
	}
	return &pluginv1.RunHookResponse{}, nil
}

func (s *server) Cleanup(ctx context.Context, _ *pluginv1.CleanupRequest) (*pluginv1.CleanupResponse, error) {
	ctx = withStorage(ctx, s.storageClient(), "")
	if err := s.plugin.Cleanup(ctx); err != nil {
		return nil, toStatus(err)
	}
	return &pluginv1.CleanupResponse{}, nil
}

// toStatus keeps context errors recognisable across the process boundary.
func toStatus(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// failureToProto turns an error returned by Execute into a failed result.
func failureToProto(ctx context.Context, err error) *pluginv1.ExecuteResponse {
	detail := &pluginv1.ErrorDetail{Code: "plugin_error", Message: err.Error()}
	var ed *ErrorDetail
	switch {
	case errors.As(err, &ed):
		detail = errorDetailToProto(ed)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		detail.Code = "deadline_exceeded"
		detail.Retryable = true
	case errors.Is(err, context.Canceled):
		detail.Code = "canceled"
	}
	return &pluginv1.ExecuteResponse{Success: false, Message: detail.Message, Error: detail}
}

func objectOrEmpty(data []byte) json.RawMessage {
	if len(data) == 0 {
		return json.RawMessage("{}")
	}
	return json.RawMessage(data)
}

func metadataToProto(md Metadata) *pluginv1.Metadata {
	deps := make([]*pluginv1.Dependency, len(md.Dependencies))
	for i, d := range md.Dependencies {
		deps[i] = &pluginv1.Dependency{Id: d.ID, Version: d.Version}
	}
	return &pluginv1.Metadata{
		Id:           md.ID,
		Name:         md.Name,
		Version:      md.Version,
		Description:  md.Description,
		Author:       md.Author,
		Homepage:     md.Homepage,
		Repository:   md.Repository,
		Tags:         md.Tags,
		Dependencies: deps,
		ApiVersion:   md.APIVersion,
	}
}

func requestFromProto(req *pluginv1.ExecuteRequest) *ExecuteRequest {
	if req == nil {
		return &ExecuteRequest{Parameters: json.RawMessage("{}"), Metadata: map[string]string{}}
	}
	md := req.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return &ExecuteRequest{
		TenantID:    req.TenantId,
		ScenarioID:  req.ScenarioId,
		ExecutionID: req.ExecutionId,
		RequestID:   req.RequestId,
		Parameters:  objectOrEmpty(req.ParametersJson),
		Metadata:    md,
	}
}

func resultToProto(res *ExecuteResult) (*pluginv1.ExecuteResponse, error) {
	out := &pluginv1.ExecuteResponse{Success: res.Success, Message: res.Message}
	if len(res.Data) > 0 {
		data, err := checkObject(res.Data)
		if err != nil {
			return nil, fmt.Errorf("result data: %w", err)
		}
		out.DataJson = data
	}
	if res.Error != nil {
		out.Error = errorDetailToProto(res.Error)
	}
	if !res.Success && out.Error == nil {
		out.Error = &pluginv1.ErrorDetail{Code: "failed", Message: res.Message}
	}
	return out, nil
}

func resultFromProto(res *pluginv1.ExecuteResponse) *ExecuteResult {
	if res == nil {
		return nil
	}
	out := &ExecuteResult{Success: res.Success, Message: res.Message}
	if len(res.DataJson) > 0 {
		out.Data = json.RawMessage(res.DataJson)
	}
	if res.Error != nil {
		out.Error = &ErrorDetail{
			Code:      res.Error.Code,
			Message:   res.Error.Message,
			Retryable: res.Error.Retryable,
		}
		if len(res.Error.DetailsJson) > 0 {
			out.Error.Details = json.RawMessage(res.Error.DetailsJson)
		}
	}
	return out
}

func errorDetailToProto(ed *ErrorDetail) *pluginv1.ErrorDetail {
	return &pluginv1.ErrorDetail{
		Code:        ed.Code,
		Message:     ed.Message,
		Retryable:   ed.Retryable,
		DetailsJson: ed.Details,
	}
}
