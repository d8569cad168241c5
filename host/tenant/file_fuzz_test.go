package tenant

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseFile parses arbitrary bytes as a tenants file. A file that
// ParseFile accepts must also be accepted by ApplyFile on a real store, and
// every tenant it lists must then have the file's plan and disabled flag.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(sampleFile))
	f.Add([]byte(`{"tenants": [{"name": "a", "plan": "free"}]}`))
	f.Add([]byte("tenants:\n  - name: a\n    plan: starter\n    quotas: {max_duration: 90m, storage_bytes: 1GiB}\n"))
	f.Add([]byte("tenants:\n  - &a {name: x, plan: free}\n  - *a\n"))
	f.Add([]byte("a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"))
	f.Add([]byte("tenants: []\n"))

	m, err := Open(filepath.Join(f.TempDir(), StoreFileName), Options{LockTimeout: time.Second})
	if err != nil {
		f.Fatalf("open tenant store: %v", err)
	}
	f.Cleanup(func() { _ = m.Close() })

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile(data, "fuzz.yaml")
		if err != nil {
			if file != nil {
				t.Errorf("ParseFile returned a file with error %v", err)
			}
			return
		}
		if _, err := m.ApplyFile(context.Background(), file); err != nil {
			t.Fatalf("ApplyFile rejected a file that ParseFile accepted: %v\nfile: %q", err, data)
		}
		for _, ft := range file.Tenants {
			got, err := m.Get(ft.Name)
			if err != nil {
				t.Fatalf("tenant %q missing after ApplyFile: %v", ft.Name, err)
			}
			if got.Plan != ft.Plan || got.Disabled != ft.Disabled {
				t.Errorf("tenant %q: plan %s disabled %v, want plan %s disabled %v", ft.Name, got.Plan, got.Disabled, ft.Plan, ft.Disabled)
			}
		}
	})
}
