package tenant

import (
	"context"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestDaemonStorageOfDisabledTenant(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	if _, err := m.SetDisabled(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	daemon := m.DaemonStorage()

	err := m.StoragePut(ctx, "acme", "ns", "k", []byte("v"))
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Manager.StoragePut on a disabled tenant = %v, want FailedPrecondition", err)
	}
	if err := daemon.StoragePut(ctx, "acme", "ns", "k", []byte("v")); err != nil {
		t.Fatalf("DaemonStorage.StoragePut on a disabled tenant: %v", err)
	}
	value, found, err := daemon.StorageGet("acme", "ns", "k")
	if err != nil || !found || string(value) != "v" {
		t.Errorf("DaemonStorage.StorageGet = %q, %v, %v; want v, true, nil", value, found, err)
	}
	if _, _, err := m.StorageGet("acme", "ns", "k"); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Manager.StorageGet on a disabled tenant = %v, want FailedPrecondition", err)
	}
	keys, err := daemon.StorageList("acme", "ns", "")
	if err != nil || !slices.Equal(keys, []string{"k"}) {
		t.Errorf("DaemonStorage.StorageList = %v, %v; want [k]", keys, err)
	}
	got, err := m.Get("acme")
	if err != nil || got.StorageBytes != 2 {
		t.Errorf("storage bytes = %d, %v; want 2 (key plus value)", got.StorageBytes, err)
	}
	deleted, err := daemon.StorageDelete(ctx, "acme", "ns", "k")
	if err != nil || !deleted {
		t.Errorf("DaemonStorage.StorageDelete = %v, %v; want true, nil", deleted, err)
	}
	if _, err := daemon.StorageList("nobody", "ns", ""); status.Code(err) != codes.NotFound {
		t.Errorf("DaemonStorage.StorageList of an unknown tenant = %v, want NotFound", err)
	}
}

func TestDaemonStorageKeepsQuota(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	limit := LimitOf(10)
	if _, _, err := m.SetQuotas(ctx, "acme", QuotaOverrides{StorageBytes: &limit}, nil); err != nil {
		t.Fatal(err)
	}
	err := m.DaemonStorage().StoragePut(ctx, "acme", "ns", "key", []byte("twelve bytes"))
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("DaemonStorage.StoragePut above the quota = %v, want ResourceExhausted", err)
	}
}
