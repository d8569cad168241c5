package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/tenant"
)

// publicMethods may be called without a tenant token by any user who can
// reach the socket: health checks and reflection, so that grpcurl and
// service managers work.
var publicMethods = []string{
	"/grpc.health.v1.Health/Check",
	"/grpc.health.v1.Health/Watch",
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}

// openTenants opens the tenant store, applies the tenants file and creates
// the default tenant when there is none.
func openTenants(ctx context.Context, opts Options, log hclog.Logger) (*tenant.Manager, error) {
	m, err := tenant.Open(filepath.Join(opts.DataDir, tenant.StoreFileName), tenant.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if opts.TenantsFile != "" {
		f, err := tenant.LoadFile(opts.TenantsFile)
		if err != nil {
			m.Close()
			return nil, err
		}
		results, err := m.ApplyFile(ctx, f)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("apply tenants file %s: %w", opts.TenantsFile, err)
		}
		log.Info("tenants file applied", "file", opts.TenantsFile, "tenants", len(results))
	}
	if _, err := m.EnsureDefault(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// tenantGate adapts the tenant manager to the API's Admitter.
type tenantGate struct {
	*tenant.Manager
}

// MaxDuration returns the tenant's maximum experiment duration; limited is
// false when it is unlimited.
func (g tenantGate) MaxDuration(tenantID string) (time.Duration, bool, error) {
	limit, err := g.Manager.MaxDuration(tenantID)
	if err != nil {
		return 0, false, err
	}
	return limit.Max(), !limit.IsUnlimited(), nil
}
