package tenant

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// MaxStorageKeyBytes is the longest key plugin storage accepts.
const MaxStorageKeyBytes = 512

// entrySize returns what one storage entry counts against the storage
// quota: the length of its key plus the length of its value.
func entrySize(key, value []byte) int64 {
	return int64(len(key) + len(value))
}

func validateStorageKey(pluginID, key string) error {
	switch {
	case pluginID == "":
		return errInvalid(errors.New("plugin storage needs a plugin ID; it is empty"))
	case key == "":
		return errInvalid(errors.New("invalid storage key: it is empty; use 1 to 512 bytes"))
	case len(key) > MaxStorageKeyBytes:
		return errInvalid(fmt.Errorf("invalid storage key %.40q...: it has %d bytes, and the limit is %d; use a shorter key",
			key, len(key), MaxStorageKeyBytes))
	}
	return nil
}

// StoragePut stores value under key in the plugin storage of the tenant
// and plugin, replacing any earlier value. It fails with ResourceExhausted
// and writes nothing when the write would take the tenant's storage above
// its quota. A write that does not grow the storage succeeds even above
// the quota.
func (m *Manager) StoragePut(ctx context.Context, tenantID, pluginID, key string, value []byte) error {
	return m.storagePut(ctx, tenantID, pluginID, key, value, true)
}

func (m *Manager) storagePut(ctx context.Context, tenantID, pluginID, key string, value []byte, checkEnabled bool) error {
	if err := validateStorageKey(pluginID, key); err != nil {
		return err
	}
	k := []byte(key)
	_, err := m.update(ctx, tenantID, func(tx *bbolt.Tx, t *Tenant) error {
		if checkEnabled && t.Disabled {
			return errTenantDisabled(t.Name)
		}
		b, err := pluginBucket(tx, tenantID, pluginID, true)
		if err != nil {
			return err
		}
		delta := entrySize(k, value)
		if old, found := getEntry(b, k); found {
			delta -= entrySize(k, old)
		}
		limit := t.Quotas().StorageBytes
		if delta > 0 && !limit.Allows(t.StorageBytes+delta) {
			return errQuotaExceeded(*t, QuotaStorageBytes,
				fmt.Sprintf("uses %d of %s storage bytes allowed, and writing key %q needs %d more", t.StorageBytes, limit, key, delta),
				fmt.Sprintf("delete entries, or raise the limit with `mockforged tenants set-quota %s --max-storage BYTES`", t.Name))
		}
		if err := b.Put(k, value); err != nil {
			return err
		}
		t.StorageBytes += delta
		return nil
	})
	return err
}

// StorageGet returns the value under key; found is false when there is none.
func (m *Manager) StorageGet(tenantID, pluginID, key string) (value []byte, found bool, err error) {
	return m.storageGet(tenantID, pluginID, key, true)
}

func (m *Manager) storageGet(tenantID, pluginID, key string, checkEnabled bool) (value []byte, found bool, err error) {
	if err := validateStorageKey(pluginID, key); err != nil {
		return nil, false, err
	}
	if err := m.checkExists(tenantID, checkEnabled); err != nil {
		return nil, false, err
	}
	err = m.db.View(func(tx *bbolt.Tx) error {
		b, err := pluginBucket(tx, tenantID, pluginID, false)
		if b == nil || err != nil {
			return err
		}
		v, ok := getEntry(b, []byte(key))
		if ok {
			value, found = bytes.Clone(v), true
			if value == nil {
				value = []byte{}
			}
		}
		return nil
	})
	return value, found, errStore(m.path, err)
}

// StorageDelete removes key and reports whether it was there.
func (m *Manager) StorageDelete(ctx context.Context, tenantID, pluginID, key string) (deleted bool, err error) {
	return m.storageDelete(ctx, tenantID, pluginID, key, true)
}

func (m *Manager) storageDelete(ctx context.Context, tenantID, pluginID, key string, checkEnabled bool) (deleted bool, err error) {
	if err := validateStorageKey(pluginID, key); err != nil {
		return false, err
	}
	k := []byte(key)
	_, err = m.update(ctx, tenantID, func(tx *bbolt.Tx, t *Tenant) error {
		if checkEnabled && t.Disabled {
			return errTenantDisabled(t.Name)
		}
		b, err := pluginBucket(tx, tenantID, pluginID, false)
		if err != nil {
			return err
		}
		if b == nil {
			return errNoChange
		}
		old, found := getEntry(b, k)
		if !found {
			return errNoChange
		}
		size := entrySize(k, old)
		if err := b.Delete(k); err != nil {
			return err
		}
		t.StorageBytes -= size
		deleted = true
		return nil
	})
	return deleted, err
}

// StorageList returns the keys that start with prefix, in byte order.
//
// NOTE: the list is not paged. A plugin's storage client accepts gRPC
// messages of 4 MiB by default, so a List over more than about 8,000 keys of
// the maximum length fails on the plugin's side.
func (m *Manager) StorageList(tenantID, pluginID, prefix string) ([]string, error) {
	return m.storageList(tenantID, pluginID, prefix, true)
}

func (m *Manager) storageList(tenantID, pluginID, prefix string, checkEnabled bool) ([]string, error) {
	if pluginID == "" {
		return nil, validateStorageKey(pluginID, prefix)
	}
	if err := m.checkExists(tenantID, checkEnabled); err != nil {
		return nil, err
	}
	keys := []string{}
	err := m.db.View(func(tx *bbolt.Tx) error {
		b, err := pluginBucket(tx, tenantID, pluginID, false)
		if b == nil || err != nil {
			return err
		}
		p := []byte(prefix)
		c := b.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			keys = append(keys, string(k))
		}
		return nil
	})
	return keys, errStore(m.path, err)
}

// checkExists fails unless the tenant exists and, with checkEnabled, is
// enabled.
func (m *Manager) checkExists(tenantID string, checkEnabled bool) error {
	st, err := m.state(tenantID)
	if err != nil {
		return err
	}
	if checkEnabled && st.record.Load().Disabled {
		return errTenantDisabled(tenantID)
	}
	return nil
}

// pluginBucket returns the bucket of one tenant's and one plugin's entries,
// creating it when create is true. Without create, a missing bucket is nil
// with no error.
func pluginBucket(tx *bbolt.Tx, tenantID, pluginID string, create bool) (*bbolt.Bucket, error) {
	root := tx.Bucket(bucketStorage)
	if !create {
		tb := root.Bucket([]byte(tenantID))
		if tb == nil {
			return nil, nil
		}
		return tb.Bucket([]byte(pluginID)), nil
	}
	tb, err := root.CreateBucketIfNotExists([]byte(tenantID))
	if err != nil {
		return nil, fmt.Errorf("create storage bucket of tenant %q: %w", tenantID, err)
	}
	pb, err := tb.CreateBucketIfNotExists([]byte(pluginID))
	if err != nil {
		return nil, fmt.Errorf("create storage bucket of plugin %q: %w", pluginID, err)
	}
	return pb, nil
}

// getEntry looks key up with a cursor, because bbolt's Get does not tell an
// empty value from a missing key.
func getEntry(b *bbolt.Bucket, key []byte) (value []byte, found bool) {
	k, v := b.Cursor().Seek(key)
	if !bytes.Equal(k, key) {
		return nil, false
	}
	return v, true
}
