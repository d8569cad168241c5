package dbfault

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mockforge/mockforged/sdk"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

// servePluginEnv makes the test binary serve the plugin instead of running
// tests, so that a test can start it as a real plugin process, the way
// go-plugin tests itself.
const servePluginEnv = "MOCKFORGED_DBFAULT_SERVE_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(servePluginEnv) == "1" {
		sdk.Serve(New())
		return
	}
	os.Exit(m.Run())
}

func TestPluginProcess(t *testing.T) {
	_, upstream := requirePostgres(t)
	// go-plugin starts the process with this process's environment.
	t.Setenv(servePluginEnv, "1")
	client := sdktest.StartProcess(t, os.Args[0])
	ctx := testContext(t)

	info, err := client.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.Metadata.ID != PluginID || !info.HasConfigValidator {
		t.Errorf("info %+v, expected id %s with a config validator", info.Metadata, PluginID)
	}
	if !bytes.Equal(info.ConfigSchema, configSchema) {
		t.Error("the config schema reported over gRPC differs from schema.json")
	}
	if err := client.ValidateConfig(ctx, json.RawMessage(`{"proxies":[{"name":"x","upstream":"nowhere","protocol":"tcp"}]}`)); err == nil || !strings.Contains(err.Error(), `invalid upstream address "nowhere"`) {
		t.Errorf("validate a bad config: %v, expected an invalid upstream error", err)
	}

	cfg := `{"proxies":[{"name":"pg","upstream":"` + upstream + `","protocol":"postgres"}]}`
	if err := client.Initialize(ctx, json.RawMessage(cfg)); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	res, err := client.ExecuteParams(ctx, map[string]any{"operation": OpListProxies})
	if err != nil || !res.Success {
		t.Fatalf("list proxies: %v %+v", err, res)
	}
	var listed struct{ Proxies []ProxyInfo }
	if err := json.Unmarshal(res.Data, &listed); err != nil || len(listed.Proxies) != 1 {
		t.Fatalf("list proxies returned %s: %v", res.Data, err)
	}
	addr := listed.Proxies[0].Address

	tenantCall := func(params string) *sdk.ExecuteResult {
		t.Helper()
		res, err := client.Execute(ctx, &sdk.ExecuteRequest{
			TenantID:   "acme",
			Parameters: json.RawMessage(params),
			Metadata:   map[string]string{MetadataMaxDuration: "5m"},
		})
		if err != nil {
			t.Fatalf("execute %s: %v", params, err)
		}
		return res
	}
	res = tenantCall(`{"operation":"add_fault","proxy":"pg","type":"query_error","sqlstate":"40001","duration":"10m"}`)
	if res.Success || res.Error == nil || res.Error.Code != CodeLimitExceeded {
		t.Errorf("fault longer than the plan allows: %+v, expected code %s", res, CodeLimitExceeded)
	}
	res = tenantCall(`{"operation":"add_fault","proxy":"pg","type":"query_error","sqlstate":"40001","duration":"5m"}`)
	if !res.Success {
		t.Fatalf("add fault: %+v", res.Error)
	}

	conn := connectPostgres(t, addr, nil)
	_, err = conn.Exec(ctx, `SELECT 1`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "40001" {
		t.Errorf("query through the plugin process's proxy: %v, expected SQLSTATE 40001", err)
	}
	res = tenantCall(`{"operation":"list_faults"}`)
	var faults struct{ Faults []FaultInfo }
	if err := json.Unmarshal(res.Data, &faults); err != nil || len(faults.Faults) != 1 || faults.Faults[0].Tenant != "acme" {
		t.Errorf("list faults returned %s (%v), expected one fault of tenant acme", res.Data, err)
	}

	if err := client.Cleanup(ctx); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("proxy %s still accepts connections after cleanup", addr)
	}
}
