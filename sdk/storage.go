package sdk

import (
	"context"
	"errors"
	"fmt"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// ErrStorageUnavailable is returned by a Store when the host offers no
// storage, for example when the plugin runs outside the mockforged daemon.
var ErrStorageUnavailable = errors.New("host storage is not available")

// Store is a key-value store kept by the host for one tenant and one plugin.
// Its bytes count against the tenant's storage quota: a Put that would exceed
// it fails and writes nothing. Keys are at most 512 bytes.
type Store interface {
	// Put stores value under key, replacing any earlier value.
	Put(ctx context.Context, key string, value []byte) error
	// Get returns the value under key; found is false when there is none.
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, in byte order.
	List(ctx context.Context, prefix string) ([]string, error)
}

type storageKey struct{}

type storageBinding struct {
	client pluginv1.StorageClient
	tenant string
}

func withStorage(ctx context.Context, client pluginv1.StorageClient, tenant string) context.Context {
	return context.WithValue(ctx, storageKey{}, storageBinding{client: client, tenant: tenant})
}

// Storage returns the host's store for the tenant of the call that ctx
// belongs to. Use it inside Execute and hooks, with their context.
func Storage(ctx context.Context) Store {
	b, _ := ctx.Value(storageKey{}).(storageBinding)
	return &hostStore{binding: b}
}

// StorageForTenant returns the host's store for tenantID, for work that
// runs outside a call of that tenant, such as loading saved state in
// Initialize. ctx must come from the host: the context of Initialize,
// Execute or a hook.
func StorageForTenant(ctx context.Context, tenantID string) Store {
	b, _ := ctx.Value(storageKey{}).(storageBinding)
	b.tenant = tenantID
	return &hostStore{binding: b}
}

type hostStore struct {
	binding storageBinding
}

var _ Store = (*hostStore)(nil)

func (h *hostStore) client() (pluginv1.StorageClient, error) {
	if h.binding.client == nil {
		return nil, ErrStorageUnavailable
	}
	return h.binding.client, nil
}

func (h *hostStore) Put(ctx context.Context, key string, value []byte) error {
	c, err := h.client()
	if err != nil {
		return err
	}
	if _, err := c.Put(ctx, &pluginv1.StoragePutRequest{TenantId: h.binding.tenant, Key: key, Value: value}); err != nil {
		return fmt.Errorf("storage put %q: %w", key, err)
	}
	return nil
}

func (h *hostStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	c, err := h.client()
	if err != nil {
		return nil, false, err
	}
	resp, err := c.Get(ctx, &pluginv1.StorageGetRequest{TenantId: h.binding.tenant, Key: key})
	if err != nil {
		return nil, false, fmt.Errorf("storage get %q: %w", key, err)
	}
	return resp.Value, resp.Found, nil
}

func (h *hostStore) Delete(ctx context.Context, key string) error {
	c, err := h.client()
	if err != nil {
		return err
	}
	if _, err := c.Delete(ctx, &pluginv1.StorageDeleteRequest{TenantId: h.binding.tenant, Key: key}); err != nil {
		return fmt.Errorf("storage delete %q: %w", key, err)
	}
	return nil
}

func (h *hostStore) List(ctx context.Context, prefix string) ([]string, error) {
	c, err := h.client()
	if err != nil {
		return nil, err
	}
	resp, err := c.List(ctx, &pluginv1.StorageListRequest{TenantId: h.binding.tenant, Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("storage list %q: %w", prefix, err)
	}
	return resp.Keys, nil
}
