package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// steppingClock advances by step on every reading, so that a benchmark
// keeps a rate-limit window full at a steady rate without sleeping.
type steppingClock struct {
	now  time.Time
	step time.Duration
}

func (c *steppingClock) Now() time.Time {
	c.now = c.now.Add(c.step)
	return c.now
}

// BenchmarkAdmitRelease measures the gating of one call: every check of
// Admit plus the release. The tenant is on the enterprise plan with its
// window at the limit of 10000 calls per minute, so every call also expires
// one entry. The clock advances 6ms per reading to keep that steady state.
// It reports the median (p50-ns) and the 99th percentile (p99-ns) of single
// calls, timed with time.Now and time.Since, so they include part of the
// cost of those clock reads.
func BenchmarkAdmitRelease(b *testing.B) {
	ctx := context.Background()
	clock := &steppingClock{now: time.Now(), step: rateWindow / 10000}
	m, err := Open(filepath.Join(b.TempDir(), StoreFileName), Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Create(ctx, "bench", PlanEnterprise); err != nil {
		b.Fatal(err)
	}
	capabilities := []string{"fault_injection", "metrics"}

	samples := make([]time.Duration, 0, 1<<20)
	for b.Loop() {
		start := time.Now()
		release, err := m.Admit(ctx, "bench", capabilities, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		release()
		if len(samples) < cap(samples) {
			samples = append(samples, time.Since(start))
		}
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkAdmitReleaseParallel measures Admit and release from all cores
// at once, spread over 64 tenants without a rate limit.
func BenchmarkAdmitReleaseParallel(b *testing.B) {
	ctx := context.Background()
	m, err := Open(filepath.Join(b.TempDir(), StoreFileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	unlimited := Unlimited()
	const tenants = 64
	for i := range tenants {
		name := fmt.Sprintf("t%d", i)
		if _, err := m.Create(ctx, name, PlanEnterprise); err != nil {
			b.Fatal(err)
		}
		if _, _, err := m.SetQuotas(ctx, name, QuotaOverrides{RequestsPerMinute: &unlimited, ConcurrentExecutions: &unlimited}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			release, err := m.Admit(ctx, fmt.Sprintf("t%d", i%tenants), nil, time.Minute)
			if err != nil {
				b.Error(err)
				return
			}
			release()
			i++
		}
	})
}

// BenchmarkOpen10000Tenants measures Open of a store with 10,000 tenants,
// each with one token and one plugin storage entry: the file check, the
// decoding of every record and the storage accounting.
func BenchmarkOpen10000Tenants(b *testing.B) {
	path := filepath.Join(b.TempDir(), StoreFileName)
	writeBenchStore(b, path, 10000)
	for b.Loop() {
		m, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(m.List()); n != 10000 {
			b.Fatalf("loaded %d tenants, want 10000", n)
		}
		if err := m.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// writeBenchStore writes n tenants, tokens and storage entries in one
// transaction, which is much faster than n calls of Create.
func writeBenchStore(b *testing.B, path string, n int) {
	b.Helper()
	m, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	fifty := LimitOf(50)
	err = db.Update(func(tx *bbolt.Tx) error {
		for i := range n {
			name := fmt.Sprintf("tenant-%05d", i)
			t := Tenant{Name: name, Plan: Plans()[i%4].Name, CreatedAt: now, UpdatedAt: now,
				Overrides: QuotaOverrides{RequestsPerMinute: &fifty}, Granted: []Permission{PermissionManageUsers},
				Scenarios: 3, StorageBytes: int64(len("key") + 64)}
			if err := putTenant(tx, t); err != nil {
				return err
			}
			info, _ := json.Marshal(TokenInfo{ID: newTokenID(), Tenant: name, CreatedAt: now})
			h := hashToken(newToken())
			if err := tx.Bucket(bucketTokens).Put(h[:], info); err != nil {
				return err
			}
			pb, err := pluginBucket(tx, name, "bench-plugin", true)
			if err != nil {
				return err
			}
			if err := pb.Put([]byte("key"), make([]byte, 64)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
