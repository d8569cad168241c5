package tenant

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

func TestStoragePutGetDeleteList(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)

	for _, kv := range [][2]string{{"b/1", "one"}, {"a", "x"}, {"b/2", ""}, {"c", "zz"}} {
		if err := m.StoragePut(ctx, "acme", "kv", kv[0], []byte(kv[1])); err != nil {
			t.Fatalf("StoragePut(%q): %v", kv[0], err)
		}
	}
	// Sizes: b/1+one 6, a+x 2, b/2 3, c+zz 3.
	wantBytes(t, m, "acme", 14)

	if v, found, err := m.StorageGet("acme", "kv", "b/2"); err != nil || !found || len(v) != 0 {
		t.Errorf("StorageGet of an empty value = %q, %v, %v; want empty, true", v, found, err)
	}
	if _, found, err := m.StorageGet("acme", "kv", "nope"); err != nil || found {
		t.Errorf("StorageGet of a missing key: found = %v, err = %v", found, err)
	}
	if _, found, _ := m.StorageGet("acme", "other-plugin", "a"); found {
		t.Error("another plugin sees the key of plugin kv")
	}
	keys, err := m.StorageList("acme", "kv", "b/")
	if err != nil || !slices.Equal(keys, []string{"b/1", "b/2"}) {
		t.Errorf("StorageList(b/) = %v, %v", keys, err)
	}
	keys, _ = m.StorageList("acme", "kv", "")
	if !slices.Equal(keys, []string{"a", "b/1", "b/2", "c"}) {
		t.Errorf("StorageList() = %v, want every key in byte order", keys)
	}

	if err := m.StoragePut(ctx, "acme", "kv", "a", []byte("longer")); err != nil {
		t.Fatal(err)
	}
	wantBytes(t, m, "acme", 19)
	deleted, err := m.StorageDelete(ctx, "acme", "kv", "b/1")
	if err != nil || !deleted {
		t.Errorf("StorageDelete = %v, %v", deleted, err)
	}
	wantBytes(t, m, "acme", 13)
	if deleted, err := m.StorageDelete(ctx, "acme", "kv", "b/1"); err != nil || deleted {
		t.Errorf("second StorageDelete = %v, %v; want false, nil", deleted, err)
	}
	if deleted, err := m.StorageDelete(ctx, "acme", "never-used", "x"); err != nil || deleted {
		t.Errorf("StorageDelete for an unused plugin = %v, %v; want false, nil", deleted, err)
	}
}

func wantBytes(t *testing.T, m *Manager, name string, want int64) {
	t.Helper()
	u, err := m.Usage(name)
	if err != nil {
		t.Fatal(err)
	}
	if u.StorageBytes != want {
		t.Errorf("storage bytes = %d, want %d", u.StorageBytes, want)
	}
}

func TestStorageQuota(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, StoreFileName)
	m := openManagerAt(t, path, nil)
	mustCreate(t, m, "acme", PlanFree)
	limit := LimitOf(100)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{StorageBytes: &limit}, nil); err != nil {
		t.Fatal(err)
	}

	if err := m.StoragePut(ctx, "acme", "kv", "k1", bytes.Repeat([]byte("a"), 58)); err != nil {
		t.Fatal(err) // 60 bytes
	}
	if err := m.StoragePut(ctx, "acme", "kv", "k2", bytes.Repeat([]byte("b"), 38)); err != nil {
		t.Fatal(err) // 40 bytes: exactly at the quota
	}

	t.Run("new key over quota writes nothing", func(t *testing.T) {
		err := m.StoragePut(ctx, "acme", "kv", "k3", []byte("c"))
		s := wantCode(t, err, codes.ResourceExhausted)
		for _, want := range []string{"100 of 100", `"k3"`, "set-quota acme --max-storage"} {
			if !strings.Contains(s.Message(), want) {
				t.Errorf("message %q does not contain %q", s.Message(), want)
			}
		}
		if _, found, _ := m.StorageGet("acme", "kv", "k3"); found {
			t.Error("the rejected key was written")
		}
		wantBytes(t, m, "acme", 100)
	})
	t.Run("growing an existing key over quota keeps the old value", func(t *testing.T) {
		err := m.StoragePut(ctx, "acme", "kv", "k2", bytes.Repeat([]byte("B"), 39))
		wantCode(t, err, codes.ResourceExhausted)
		v, _, _ := m.StorageGet("acme", "kv", "k2")
		if !bytes.Equal(v, bytes.Repeat([]byte("b"), 38)) {
			t.Errorf("value after a rejected write = %q, want the old one", v)
		}
		wantBytes(t, m, "acme", 100)
	})
	t.Run("new plugin over quota creates no bucket", func(t *testing.T) {
		err := m.StoragePut(ctx, "acme", "fresh-plugin", "k", []byte("v"))
		wantCode(t, err, codes.ResourceExhausted)
		keys, err := m.StorageList("acme", "fresh-plugin", "")
		if err != nil || len(keys) != 0 {
			t.Errorf("StorageList of the new plugin = %v, %v; want nothing", keys, err)
		}
	})
	t.Run("shrinking write above a lowered quota succeeds", func(t *testing.T) {
		lower := LimitOf(10)
		_, exceeded, err := m.SetQuotas(ctx, "acme", QuotaOverrides{StorageBytes: &lower}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(exceeded) != 1 || exceeded[0].Quota != QuotaStorageBytes || exceeded[0].Usage != 100 {
			t.Errorf("exceeded = %+v, want storage_bytes at 100", exceeded)
		}
		if err := m.StoragePut(ctx, "acme", "kv", "k1", []byte("small")); err != nil {
			t.Errorf("shrinking write: %v", err)
		}
		wantBytes(t, m, "acme", 47)
		if v, found, _ := m.StorageGet("acme", "kv", "k2"); !found || len(v) != 38 {
			t.Error("lowering the quota deleted data")
		}
	})

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := openManagerAt(t, path, nil)
	wantBytes(t, m2, "acme", 47)
	if _, found, _ := m2.StorageGet("acme", "kv", "k3"); found {
		t.Error("the rejected key is in the store after reopening")
	}
}

func TestStorageKeyValidation(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	tests := []struct {
		name, plugin, key string
	}{
		{"empty key", "kv", ""},
		{"key over 512 bytes", "kv", strings.Repeat("k", 513)},
		{"empty plugin", "", "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, m.StoragePut(ctx, "acme", tt.plugin, tt.key, []byte("v")), codes.InvalidArgument)
			_, _, err := m.StorageGet("acme", tt.plugin, tt.key)
			wantCode(t, err, codes.InvalidArgument)
			_, err = m.StorageDelete(ctx, "acme", tt.plugin, tt.key)
			wantCode(t, err, codes.InvalidArgument)
		})
	}
	if err := m.StoragePut(ctx, "acme", "kv", strings.Repeat("k", 512), nil); err != nil {
		t.Errorf("a 512-byte key: %v", err)
	}
	wantCode(t, m.StoragePut(ctx, "ghost", "kv", "k", nil), codes.NotFound)
}

// TestStorageServer calls the Storage service over a real gRPC connection
// on a unix socket, as a plugin does through go-plugin's broker.
func TestStorageServer(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	mustCreate(t, m, "other", PlanFree)
	limit := LimitOf(20)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{StorageBytes: &limit}, nil); err != nil {
		t.Fatal(err)
	}
	client := startStorageServer(t, m, "plugin-a")

	if _, err := client.Put(ctx, &pluginv1.StoragePutRequest{TenantId: "acme", Key: "state", Value: []byte("v1")}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := client.Get(ctx, &pluginv1.StorageGetRequest{TenantId: "acme", Key: "state"})
	if err != nil || !got.Found || string(got.Value) != "v1" {
		t.Errorf("Get = %v, %v", got, err)
	}
	got, err = client.Get(ctx, &pluginv1.StorageGetRequest{TenantId: "other", Key: "state"})
	if err != nil || got.Found {
		t.Errorf("Get from another tenant = %v, %v; want not found", got, err)
	}
	list, err := client.List(ctx, &pluginv1.StorageListRequest{TenantId: "acme", Prefix: "st"})
	if err != nil || !slices.Equal(list.Keys, []string{"state"}) {
		t.Errorf("List = %v, %v", list, err)
	}
	_, err = client.Put(ctx, &pluginv1.StoragePutRequest{TenantId: "acme", Key: "big", Value: make([]byte, 20)})
	wantCode(t, err, codes.ResourceExhausted)
	_, err = client.Put(ctx, &pluginv1.StoragePutRequest{TenantId: "", Key: "k"})
	s := wantCode(t, err, codes.InvalidArgument)
	if !strings.Contains(s.Message(), "sdk.StorageForTenant") {
		t.Errorf("message %q does not say how to name the tenant", s.Message())
	}
	_, err = client.Put(ctx, &pluginv1.StoragePutRequest{TenantId: "acme", Key: strings.Repeat("x", 513)})
	wantCode(t, err, codes.InvalidArgument)
	_, err = client.Get(ctx, &pluginv1.StorageGetRequest{TenantId: "ghost", Key: "k"})
	wantCode(t, err, codes.NotFound)
	del, err := client.Delete(ctx, &pluginv1.StorageDeleteRequest{TenantId: "acme", Key: "state"})
	if err != nil || !del.Deleted {
		t.Errorf("Delete = %v, %v", del, err)
	}
	wantBytes(t, m, "acme", 0)
}

func startStorageServer(t *testing.T, m *Manager, pluginID string) pluginv1.StorageClient {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "storage.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pluginv1.RegisterStorageServer(srv, m.NewStorageServer(pluginID))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pluginv1.NewStorageClient(conn)
}
