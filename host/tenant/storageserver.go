package tenant

import (
	"context"
	"errors"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// storageServer serves one plugin's storage requests over go-plugin's
// broker. The plugin chooses the tenant in each request, and the server
// scopes every key to that tenant and to its own plugin ID.
type storageServer struct {
	pluginv1.UnimplementedStorageServer
	m        *Manager
	pluginID string
}

var _ pluginv1.StorageServer = (*storageServer)(nil)

// NewStorageServer returns the Storage service for the plugin with the given
// ID, to register on the gRPC server that go-plugin's GRPCBroker starts for
// that plugin. Requests for a missing tenant fail with NotFound, for a
// disabled one with FailedPrecondition, and writes over the storage quota
// with ResourceExhausted.
//
// NOTE: every value and every key list travels in one gRPC message, so the
// message limits of both sides apply: 4 MiB by default, unless the host's
// broker server and the plugin's connection raise them.
func (m *Manager) NewStorageServer(pluginID string) pluginv1.StorageServer {
	return &storageServer{m: m, pluginID: pluginID}
}

var errNoTenant = errInvalid(errors.New(
	"storage request has an empty tenant_id; use sdk.Storage(ctx) with the context of Execute or a hook, or sdk.StorageForTenant(ctx, tenantID)"))

func (s *storageServer) Put(ctx context.Context, req *pluginv1.StoragePutRequest) (*pluginv1.StoragePutResponse, error) {
	if req.TenantId == "" {
		return nil, errNoTenant
	}
	if err := s.m.StoragePut(ctx, req.TenantId, s.pluginID, req.Key, req.Value); err != nil {
		return nil, err
	}
	return &pluginv1.StoragePutResponse{}, nil
}

func (s *storageServer) Get(_ context.Context, req *pluginv1.StorageGetRequest) (*pluginv1.StorageGetResponse, error) {
	if req.TenantId == "" {
		return nil, errNoTenant
	}
	value, found, err := s.m.StorageGet(req.TenantId, s.pluginID, req.Key)
	if err != nil {
		return nil, err
	}
	return &pluginv1.StorageGetResponse{Found: found, Value: value}, nil
}

func (s *storageServer) Delete(ctx context.Context, req *pluginv1.StorageDeleteRequest) (*pluginv1.StorageDeleteResponse, error) {
	if req.TenantId == "" {
		return nil, errNoTenant
	}
	deleted, err := s.m.StorageDelete(ctx, req.TenantId, s.pluginID, req.Key)
	if err != nil {
		return nil, err
	}
	return &pluginv1.StorageDeleteResponse{Deleted: deleted}, nil
}

func (s *storageServer) List(_ context.Context, req *pluginv1.StorageListRequest) (*pluginv1.StorageListResponse, error) {
	if req.TenantId == "" {
		return nil, errNoTenant
	}
	keys, err := s.m.StorageList(req.TenantId, s.pluginID, req.Prefix)
	if err != nil {
		return nil, err
	}
	return &pluginv1.StorageListResponse{Keys: keys}, nil
}
