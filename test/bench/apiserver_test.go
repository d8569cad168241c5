package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/api"
	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/daemon"
	"github.com/mockforge/mockforged/host/hooks"
	"github.com/mockforge/mockforged/host/launch"
	"github.com/mockforge/mockforged/host/pluginconfig"
	"github.com/mockforge/mockforged/host/pluginfile"
	"github.com/mockforge/mockforged/host/registry"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// BenchmarkExecuteAPIServer calls the daemon's API handler (host/api) as a
// Go method in the benchmark process, wired as host/daemon wires it: the
// tenant gate, the registry that launched the no-op plugin binary, and the
// hook chain. It measures the daemon's own work per call (validation,
// tenant admission, routing, hooks, audit) plus the call to the plugin,
// without the socket API in front, so that `-cpuprofile` shows the
// daemon's side in Go terms. Every call carries the caller that the API's
// authentication interceptor stores for a connection from the daemon's own
// user. audit=file writes the audit log to a file as the daemon does;
// audit=off runs with an empty hook chain.
func BenchmarkExecuteAPIServer(b *testing.B) {
	for _, audit := range []string{"file", "off"} {
		b.Run("audit="+audit, func(b *testing.B) {
			srv, err := newInProcessAPI(b, audit == "file")
			if err != nil {
				b.Fatal(err)
			}
			call := func(ctx context.Context) error {
				resp, err := srv.Execute(asAdmin(ctx), &apiv1.ExecuteRequest{PluginId: noopPluginID, ParametersJson: noopParameters})
				if err != nil {
					return err
				}
				if !resp.Success {
					return fmt.Errorf("no-op call returned success false: %s", resp.Message)
				}
				return nil
			}
			for _, callers := range callerCounts {
				b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
					benchCalls(b, callers, call)
				})
			}
		})
	}
}

// newInProcessAPI builds the daemon's registry, tenant gate and API
// handler in the benchmark process, the way host/daemon wires them, and
// loads the no-op plugin from a plugins directory. With withAudit, the hook
// chain holds the audit hook writing to a file.
func newInProcessAPI(b *testing.B, withAudit bool) (*api.Server, error) {
	root := b.TempDir()
	log := hclog.New(&hclog.LoggerOptions{Name: "bench", Level: hclog.Warn, Output: os.Stderr})
	binaries, err := pluginfile.OpenStore(filepath.Join(root, "data", "bin"))
	if err != nil {
		return nil, err
	}
	configs, err := pluginconfig.OpenStore(filepath.Join(root, "data", "configs"))
	if err != nil {
		return nil, err
	}
	tenants, err := openBenchTenants(filepath.Join(root, "data", tenant.StoreFileName), log)
	if err != nil {
		return nil, err
	}
	b.Cleanup(func() { tenants.Close() })
	var chain hooks.Chain
	if withAudit {
		auditFile, err := os.OpenFile(filepath.Join(root, "data", "audit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		b.Cleanup(func() { auditFile.Close() })
		chain = hooks.Chain{hooks.NewAudit(auditFile)}
	}
	reg := registry.New(registry.Options{
		Binaries:  binaries,
		Configs:   configs,
		Logger:    log,
		Env:       launch.Environment(daemon.DefaultPluginEnv),
		HostHooks: chain,
		Storage:   tenants.NewStorageServer,
	})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		reg.Shutdown(ctx)
	})

	pluginsDir := filepath.Join(root, "plugins.d")
	if err := os.MkdirAll(pluginsDir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(pluginsDir, "noop")
	if err := copyExecutable(bins.noop, path); err != nil {
		return nil, err
	}
	reg.FileChanged(path)
	authn := auth.New(auth.Config{
		AdminUIDs:     auth.DefaultAdminUIDs(),
		Tokens:        tenants,
		Logger:        log,
		DefaultTenant: tenant.DefaultTenant,
	})
	srv := api.NewServer(reg, api.Info{}, 30*time.Second, authn, tenantGate{tenants}, log)
	err = waitUntil(15*time.Second, 10*time.Millisecond, "the in-process registry to serve the no-op plugin", func(ctx context.Context) error {
		_, err := srv.Execute(asAdmin(ctx), &apiv1.ExecuteRequest{PluginId: noopPluginID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return srv, nil
}

// openBenchTenants opens a tenant store with the default tenant, as the
// daemon does when no tenants are configured, and raises its rate limit to
// benchRequestsPerMinute as startDaemon does.
func openBenchTenants(path string, log hclog.Logger) (*tenant.Manager, error) {
	ctx := context.Background()
	tenants, err := tenant.Open(path, tenant.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if _, err := tenants.EnsureDefault(ctx); err != nil {
		tenants.Close()
		return nil, err
	}
	limit := tenant.LimitOf(benchRequestsPerMinute)
	if _, _, err := tenants.SetQuotas(ctx, tenant.DefaultTenant, tenant.QuotaOverrides{RequestsPerMinute: &limit}, nil); err != nil {
		tenants.Close()
		return nil, err
	}
	return tenants, nil
}

// tenantGate adapts the tenant manager to api.Admitter, as the daemon's
// own unexported adapter does.
type tenantGate struct {
	*tenant.Manager
}

var _ api.Admitter = tenantGate{}

// MaxDuration returns the tenant's maximum experiment duration; limited is
// false when it is unlimited.
func (g tenantGate) MaxDuration(tenantID string) (time.Duration, bool, error) {
	limit, err := g.Manager.MaxDuration(tenantID)
	if err != nil {
		return 0, false, err
	}
	return limit.Max(), !limit.IsUnlimited(), nil
}

// asAdmin returns ctx carrying the caller that the API's authentication
// interceptor stores for a connection from the daemon's own user.
func asAdmin(ctx context.Context) context.Context {
	return auth.NewContext(ctx, auth.Caller{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), PID: int32(os.Getpid()), Admin: true})
}

// copyExecutable copies the file at src to dst with mode 0755.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
