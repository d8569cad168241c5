package tenant

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFileName)
	m := openManagerAt(t, path, nil)

	mustCreate(t, m, "acme", PlanProfessional)
	mustCreate(t, m, "beta", PlanFree)
	fifty, hour := LimitOf(50), DurationLimitOf(time.Hour)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{ConcurrentExecutions: &fifty, MaxDuration: &hour}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Grant(ctx, "beta", PermissionViewObservability); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetDisabled(ctx, "beta", true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddScenario(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := m.StoragePut(ctx, "acme", "kv", "key", []byte("value")); err != nil {
		t.Fatal(err)
	}
	token, _, err := m.CreateToken(ctx, "acme", "ops")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Admit(ctx, "acme", nil, time.Minute); err != nil {
		t.Fatal(err)
	}
	wantTenants := m.List()
	wantTokens, _ := m.ListTokens("acme")

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openManagerAt(t, path, nil)

	if got := m.List(); !reflect.DeepEqual(got, wantTenants) {
		t.Errorf("tenants after reopening:\n%+v\nwant\n%+v", got, wantTenants)
	}
	if got, _ := m.ListTokens("acme"); !reflect.DeepEqual(got, wantTokens) {
		t.Errorf("tokens after reopening = %+v, want %+v", got, wantTokens)
	}
	if tenant, _, err := m.VerifyToken(token); err != nil || tenant != "acme" {
		t.Errorf("VerifyToken after reopening = %q, %v", tenant, err)
	}
	if v, found, err := m.StorageGet("acme", "kv", "key"); err != nil || !found || string(v) != "value" {
		t.Errorf("StorageGet after reopening = %q, %v, %v", v, found, err)
	}
	u, _ := m.Usage("acme")
	if u.ConcurrentExecutions != 0 || u.RequestsLastMinute != 0 {
		t.Errorf("in-memory counters after reopening = %d running, %d requests; want 0 and 0",
			u.ConcurrentExecutions, u.RequestsLastMinute)
	}
	if u.Scenarios != 1 || u.StorageBytes != 8 || u.Tokens != 1 {
		t.Errorf("usage after reopening = %+v", u)
	}
}

func TestOpenRejectsBadStores(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    error
		message string
	}{
		{
			name:    "garbage",
			prepare: func(t *testing.T, path string) { writeFile(t, path, []byte(strings.Repeat("not a database ", 1000))) },
			want:    ErrStoreCorrupt,
			message: "invalid database",
		},
		{
			name:    "empty file",
			prepare: func(t *testing.T, path string) { writeFile(t, path, nil) },
			want:    ErrStoreCorrupt,
			message: "the file is empty",
		},
		{
			name: "damaged meta pages",
			prepare: func(t *testing.T, path string) {
				makeStore(t, path)
				overwrite(t, path, 0, make([]byte, 2*4096))
			},
			want: ErrStoreCorrupt,
		},
		{
			name: "foreign bbolt file",
			prepare: func(t *testing.T, path string) {
				rawUpdate(t, path, func(tx *bbolt.Tx) error {
					_, err := tx.CreateBucket([]byte("someone-else"))
					return err
				})
			},
			want:    ErrStoreCorrupt,
			message: "not a tenant store",
		},
		{
			name: "undecodable tenant record",
			prepare: func(t *testing.T, path string) {
				makeStore(t, path)
				rawUpdate(t, path, func(tx *bbolt.Tx) error {
					return tx.Bucket(bucketTenants).Put([]byte("acme"), []byte("{not json"))
				})
			},
			want:    ErrStoreCorrupt,
			message: `tenant record "acme"`,
		},
		{
			name: "token of a missing tenant",
			prepare: func(t *testing.T, path string) {
				makeStore(t, path)
				rawUpdate(t, path, func(tx *bbolt.Tx) error {
					return tx.Bucket(bucketTokens).Put(make([]byte, 32), []byte(`{"id":"abc","tenant":"ghost"}`))
				})
			},
			want:    ErrStoreCorrupt,
			message: `"ghost", which does not exist`,
		},
		{
			name: "newer version",
			prepare: func(t *testing.T, path string) {
				makeStore(t, path)
				rawUpdate(t, path, func(tx *bbolt.Tx) error {
					return tx.Bucket(bucketMeta).Put(keyVersion, []byte("99"))
				})
			},
			message: "store version 99 is newer",
		},
		{
			name:    "directory in place of the file",
			prepare: func(t *testing.T, path string) { _ = os.Mkdir(path, 0o700) },
			message: "not a regular file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), StoreFileName)
			tt.prepare(t, path)
			before, _ := os.ReadFile(path)

			m, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
			if err == nil {
				_ = m.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not contain %q and the path", err, tt.message)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("Open changed the rejected file")
			}
		})
	}
}

func TestOpenLockedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), StoreFileName)
	openManagerAt(t, path, nil)
	// flock locks belong to the open file description, so a second open in
	// the same process conflicts just as another process would.
	m, err := Open(path, Options{LockTimeout: 150 * time.Millisecond})
	if err == nil {
		_ = m.Close()
		t.Fatal("second Open succeeded, want ErrStoreLocked")
	}
	if !errors.Is(err, ErrStoreLocked) {
		t.Errorf("error %q does not wrap ErrStoreLocked", err)
	}
	if !strings.Contains(err.Error(), "another mockforged") {
		t.Errorf("error %q does not name the likely cause", err)
	}
}

func TestOpenCorrectsStorageAccounting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFileName)
	m := openManagerAt(t, path, nil)
	mustCreate(t, m, "acme", PlanFree)
	if err := m.StoragePut(ctx, "acme", "kv", "key", []byte("value")); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, path, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTenants).Put([]byte("acme"), []byte(`{"name":"acme","plan":"free","storage_bytes":999}`))
	})
	m = openManagerAt(t, path, nil)
	wantBytes(t, m, "acme", 8)
	_ = m.Close()
	m = openManagerAt(t, path, nil)
	wantBytes(t, m, "acme", 8)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, offset int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, offset); err != nil {
		t.Fatal(err)
	}
}

// makeStore creates a store with one tenant and closes it.
func makeStore(t *testing.T, path string) {
	t.Helper()
	m, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(context.Background(), "seed", PlanFree); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawUpdate changes the bbolt file directly, bypassing the manager.
func rawUpdate(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}
