package sdktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/sdk"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

// adapterPlugin exercises every conversion of the SDK's adapters.
type adapterPlugin struct {
	config  json.RawMessage
	cleaned bool
}

func (a *adapterPlugin) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID: "adapter", Name: "Adapter", Version: "1.2.3", Description: "d", Author: "a",
		Homepage: "h", Repository: "r", Tags: []string{"t1", "t2"},
		Dependencies: []sdk.Dependency{{ID: "other", Version: ">= 1.0.0"}},
	}
}

func (a *adapterPlugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityMetrics, "custom_thing"}
}

func (a *adapterPlugin) ConfigSchema() []byte { return []byte(`{"type":"object"}`) }

func (a *adapterPlugin) Initialize(_ context.Context, config json.RawMessage) error {
	a.config = config
	return nil
}

func (a *adapterPlugin) ValidateConfig(_ context.Context, config json.RawMessage) error {
	if strings.Contains(string(config), "forbidden") {
		return errors.New("forbidden is not allowed")
	}
	return nil
}

func (a *adapterPlugin) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var p struct {
		Mode string `json:"mode"`
	}
	if err := req.DecodeParameters(&p); err != nil {
		return nil, err
	}
	switch p.Mode {
	case "echo":
		return sdk.OK("echo", map[string]any{
			"tenant": req.TenantID, "scenario": req.ScenarioID, "execution": req.ExecutionID,
			"request": req.RequestID, "metadata": req.Metadata, "config": a.config,
		}), nil
	case "detail":
		return nil, &sdk.ErrorDetail{Code: "custom", Message: "custom failure", Retryable: true, Details: json.RawMessage(`{"k":1}`)}
	case "plain-error":
		return nil, errors.New("plain failure")
	case "deadline":
		_, ok := ctx.Deadline()
		if !ok {
			return sdk.Failed("no_deadline", "the caller's deadline did not arrive"), nil
		}
		<-ctx.Done()
		return nil, ctx.Err()
	case "bad-data":
		return &sdk.ExecuteResult{Success: true, Data: json.RawMessage(`[1,2]`)}, nil
	case "panic":
		panic("boom")
	}
	return sdk.Failed("unknown_mode", "unknown mode "+p.Mode), nil
}

func (a *adapterPlugin) Cleanup(context.Context) error {
	a.cleaned = true
	return nil
}

func TestInProcessAdapters(t *testing.T) {
	p := &adapterPlugin{}
	c := sdktest.NewInProcess(t, p)
	ctx := context.Background()

	t.Run("info", func(t *testing.T) {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		md := info.Metadata
		if md.ID != "adapter" || md.Version != "1.2.3" || md.Homepage != "h" || md.Repository != "r" || len(md.Tags) != 2 {
			t.Errorf("metadata = %+v", md)
		}
		if md.APIVersion != sdk.APIVersion {
			t.Errorf("api version = %q, want the SDK's %q", md.APIVersion, sdk.APIVersion)
		}
		if len(md.Dependencies) != 1 || md.Dependencies[0].Version != ">= 1.0.0" {
			t.Errorf("dependencies = %+v", md.Dependencies)
		}
		if len(info.Capabilities) != 2 || info.Capabilities[1] != "custom_thing" {
			t.Errorf("capabilities = %v", info.Capabilities)
		}
		if !info.HasConfigValidator || info.HasHooks {
			t.Errorf("has validator %v, has hooks %v; want true, false", info.HasConfigValidator, info.HasHooks)
		}
	})
	t.Run("config", func(t *testing.T) {
		if err := c.ValidateConfig(ctx, json.RawMessage(`{"x":"forbidden"}`)); err == nil || !strings.Contains(err.Error(), "forbidden is not allowed") {
			t.Errorf("validate: got %v", err)
		}
		if err := c.Initialize(ctx, json.RawMessage(`{"x":1}`)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("request fields reach the plugin", func(t *testing.T) {
		res, err := c.Execute(ctx, &sdk.ExecuteRequest{
			TenantID: "t", ScenarioID: "s", ExecutionID: "e", RequestID: "r",
			Parameters: json.RawMessage(`{"mode":"echo"}`), Metadata: map[string]string{"k": "v"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"config":{"x":1},"execution":"e","metadata":{"k":"v"},"request":"r","scenario":"s","tenant":"t"}`
		if string(res.Data) != want {
			t.Errorf("data = %s, want %s", res.Data, want)
		}
	})
	t.Run("error detail", func(t *testing.T) {
		res, err := c.ExecuteParams(ctx, map[string]string{"mode": "detail"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Success || res.Error.Code != "custom" || !res.Error.Retryable || string(res.Error.Details) != `{"k":1}` {
			t.Errorf("result = %+v, error = %+v", res, res.Error)
		}
	})
	t.Run("plain error", func(t *testing.T) {
		res, err := c.ExecuteParams(ctx, map[string]string{"mode": "plain-error"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Success || res.Error.Code != "plugin_error" || res.Error.Message != "plain failure" {
			t.Errorf("error = %+v", res.Error)
		}
	})
	t.Run("unknown parameter", func(t *testing.T) {
		res, err := c.ExecuteParams(ctx, map[string]string{"mode": "echo", "typo": "x"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Success || !strings.Contains(res.Error.Message, `unknown field "typo"`) {
			t.Errorf("error = %+v", res.Error)
		}
	})
	t.Run("deadline crosses the boundary", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		res, err := c.ExecuteParams(dctx, map[string]string{"mode": "deadline"})
		// The plugin sees a deadline slightly before the caller's, so either
		// the caller's deadline ends the call, or the plugin's failure with
		// code deadline_exceeded arrives first. Both show the deadline
		// crossed; a plugin without it would fail with no_deadline.
		switch {
		case err != nil:
			if status.Code(err) != codes.DeadlineExceeded {
				t.Errorf("got %v, want DeadlineExceeded", err)
			}
		case res.Success || res.Error == nil || res.Error.Code != "deadline_exceeded":
			t.Errorf("result = %+v, want a failure with code deadline_exceeded", res)
		}
	})
	t.Run("data must be an object", func(t *testing.T) {
		_, err := c.ExecuteParams(ctx, map[string]string{"mode": "bad-data"})
		if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "JSON object") {
			t.Errorf("got %v, want Internal naming the JSON object rule", err)
		}
	})
	t.Run("panic becomes an error", func(t *testing.T) {
		_, err := c.ExecuteParams(ctx, map[string]string{"mode": "panic"})
		if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "boom") {
			t.Errorf("got %v, want Internal with the panic value", err)
		}
		res, err := c.ExecuteParams(ctx, map[string]string{"mode": "echo"})
		if err != nil || !res.Success {
			t.Errorf("plugin unusable after a panic: %v %v", res, err)
		}
	})
	t.Run("cleanup", func(t *testing.T) {
		if err := c.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		if !p.cleaned {
			t.Error("Cleanup did not reach the plugin")
		}
	})
	t.Run("storage unavailable outside the daemon", func(t *testing.T) {
		_, _, err := sdk.Storage(ctx).Get(ctx, "k")
		if !errors.Is(err, sdk.ErrStorageUnavailable) {
			t.Errorf("got %v, want ErrStorageUnavailable", err)
		}
	})
}

func TestSubprocessPlugin(t *testing.T) {
	bin := sdktest.Build(t, "github.com/mockforge/mockforged/examples/dbfault-sim")
	c := sdktest.StartProcess(t, bin)
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Metadata.ID != "db-fault-simulator" {
		t.Fatalf("id = %q", info.Metadata.ID)
	}
	if err := c.Initialize(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	res, err := c.ExecuteParams(ctx, map[string]any{"fault_type": "query_error"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Success || res.Error.Code != "query_error" {
		t.Errorf("result = %+v", res)
	}
	if err := c.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
}
