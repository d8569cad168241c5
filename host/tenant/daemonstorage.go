package tenant

import "context"

// DaemonStorage is the daemon's own access to the tenants' storage. It
// works like the Storage methods of Manager, quotas included, except that
// it also reads and writes the storage of a disabled tenant. The daemon
// uses it only to finish work that it admitted while the tenant was
// enabled, such as the journal of a scenario execution that was running
// when the tenant was disabled. Requests of plugins and API callers go
// through the Manager's methods, which reject disabled tenants.
type DaemonStorage struct {
	m *Manager
}

// DaemonStorage returns the daemon's own access to the tenants' storage.
func (m *Manager) DaemonStorage() DaemonStorage {
	return DaemonStorage{m: m}
}

// StoragePut works like Manager.StoragePut for enabled and disabled tenants.
func (d DaemonStorage) StoragePut(ctx context.Context, tenantID, pluginID, key string, value []byte) error {
	return d.m.storagePut(ctx, tenantID, pluginID, key, value, false)
}

// StorageGet works like Manager.StorageGet for enabled and disabled tenants.
func (d DaemonStorage) StorageGet(tenantID, pluginID, key string) (value []byte, found bool, err error) {
	return d.m.storageGet(tenantID, pluginID, key, false)
}

// StorageDelete works like Manager.StorageDelete for enabled and disabled
// tenants.
func (d DaemonStorage) StorageDelete(ctx context.Context, tenantID, pluginID, key string) (deleted bool, err error) {
	return d.m.storageDelete(ctx, tenantID, pluginID, key, false)
}

// StorageList works like Manager.StorageList for enabled and disabled
// tenants.
func (d DaemonStorage) StorageList(tenantID, pluginID, prefix string) ([]string, error) {
	return d.m.storageList(tenantID, pluginID, prefix, false)
}
