// Package sdktest drives a mockforged plugin the way the host does, so that
// an author can test a plugin without a daemon: in-process over go-plugin's
// gRPC transport with NewInProcess, or as a real subprocess with
// StartProcess. Both return a Client with the same methods.
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/mockforge/mockforged/proto/plugin/v1"
	"github.com/mockforge/mockforged/sdk"
)

// Info is what a plugin reports about itself.
type Info struct {
	Metadata           sdk.Metadata
	Capabilities       []sdk.Capability
	ConfigSchema       []byte
	HasHooks           bool
	HasConfigValidator bool
}

// Client calls a plugin through its gRPC interface.
type Client struct {
	rpc    pluginv1.PluginClient
	client *goplugin.Client
}

// NewInProcess serves p inside the test process and connects to it over
// go-plugin's gRPC transport, so that the SDK's adapters run exactly as in a
// subprocess. The server stops when the test ends.
func NewInProcess(t testing.TB, p sdk.Plugin) *Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach, closed, err := sdk.ServeInProcess(ctx, p)
	if err != nil {
		cancel()
		t.Fatalf("sdktest: serve plugin in process: %v", err)
	}
	c := connect(t, &goplugin.ClientConfig{Reattach: reattach})
	t.Cleanup(func() {
		cancel()
		<-closed
	})
	return c
}

// StartProcess launches the plugin binary at path as the host would and
// connects to it. The process is killed when the test ends.
func StartProcess(t testing.TB, path string) *Client {
	t.Helper()
	return connect(t, &goplugin.ClientConfig{
		Cmd:          exec.Command(path),
		StartTimeout: 30 * time.Second,
	})
}

func connect(t testing.TB, cfg *goplugin.ClientConfig) *Client {
	t.Helper()
	cfg.HandshakeConfig = sdk.Handshake()
	set := goplugin.PluginSet{sdk.PluginName: &clientPlugin{}}
	if cfg.Reattach != nil {
		// go-plugin negotiates no version when it attaches to a running
		// server, so it takes the plain plugin set.
		cfg.Plugins = set
	} else {
		cfg.VersionedPlugins = map[int]goplugin.PluginSet{sdk.ProtocolVersion: set}
	}
	cfg.AllowedProtocols = []goplugin.Protocol{goplugin.ProtocolGRPC}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "sdktest", Output: os.Stderr, Level: hclog.Warn})
	cfg.GRPCDialOptions = []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes),
		grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes),
	)}
	client := goplugin.NewClient(cfg)
	t.Cleanup(client.Kill)
	proto, err := client.Client()
	if err != nil {
		t.Fatalf("sdktest: connect to plugin: %v", err)
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("sdktest: dispense plugin: %v", err)
	}
	return &Client{rpc: raw.(pluginv1.PluginClient), client: client}
}

// Kill stops the plugin process at once, without Cleanup. It does nothing
// for an in-process plugin.
func (c *Client) Kill() {
	c.client.Kill()
}

// Info returns the plugin's metadata, capabilities and config schema.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	resp, err := c.rpc.GetInfo(ctx, &pluginv1.GetInfoRequest{})
	if err != nil {
		return nil, err
	}
	md := resp.GetMetadata()
	info := &Info{
		Metadata: sdk.Metadata{
			ID:          md.GetId(),
			Name:        md.GetName(),
			Version:     md.GetVersion(),
			Description: md.GetDescription(),
			Author:      md.GetAuthor(),
			Homepage:    md.GetHomepage(),
			Repository:  md.GetRepository(),
			Tags:        md.GetTags(),
			APIVersion:  md.GetApiVersion(),
		},
		ConfigSchema:       resp.ConfigSchema,
		HasHooks:           resp.HasHooks,
		HasConfigValidator: resp.HasConfigValidator,
	}
	for _, d := range md.GetDependencies() {
		info.Metadata.Dependencies = append(info.Metadata.Dependencies, sdk.Dependency{ID: d.Id, Version: d.Version})
	}
	for _, name := range resp.Capabilities {
		info.Capabilities = append(info.Capabilities, sdk.Capability(name))
	}
	return info, nil
}

// ValidateConfig runs the plugin's own config checks. It does not apply the
// config's JSON Schema; the host does that before calling the plugin.
func (c *Client) ValidateConfig(ctx context.Context, config json.RawMessage) error {
	resp, err := c.rpc.ValidateConfig(ctx, &pluginv1.ValidateConfigRequest{ConfigJson: config})
	if err != nil {
		return err
	}
	if resp.Error != "" {
		return fmt.Errorf("%s", resp.Error)
	}
	return nil
}

// Initialize applies config.
func (c *Client) Initialize(ctx context.Context, config json.RawMessage) error {
	_, err := c.rpc.Initialize(ctx, &pluginv1.InitializeRequest{ConfigJson: config})
	return err
}

// Execute performs one call. A returned error means the plugin produced no
// result at all, for example because it panicked.
func (c *Client) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	resp, err := c.rpc.Execute(ctx, &pluginv1.ExecuteRequest{
		TenantId:       req.TenantID,
		ScenarioId:     req.ScenarioID,
		ExecutionId:    req.ExecutionID,
		RequestId:      req.RequestID,
		ParametersJson: req.Parameters,
		Metadata:       req.Metadata,
	})
	if err != nil {
		return nil, err
	}
	res := &sdk.ExecuteResult{Success: resp.Success, Message: resp.Message}
	if len(resp.DataJson) > 0 {
		res.Data = resp.DataJson
	}
	if e := resp.Error; e != nil {
		res.Error = &sdk.ErrorDetail{Code: e.Code, Message: e.Message, Retryable: e.Retryable}
		if len(e.DetailsJson) > 0 {
			res.Error.Details = e.DetailsJson
		}
	}
	return res, nil
}

// ExecuteParams is Execute with parameters given as a Go value that is
// marshalled to a JSON object.
func (c *Client) ExecuteParams(ctx context.Context, params any) (*sdk.ExecuteResult, error) {
	data, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("sdktest: marshal parameters: %w", err)
	}
	return c.Execute(ctx, &sdk.ExecuteRequest{Parameters: data})
}

// Cleanup asks the plugin to release what it holds.
func (c *Client) Cleanup(ctx context.Context) error {
	_, err := c.rpc.Cleanup(ctx, &pluginv1.CleanupRequest{})
	return err
}

// Build compiles the main package pkg (an import path or a directory) into
// a binary in a temporary directory and returns its path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin")
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sdktest: build %s: %v", pkg, err)
	}
	return out
}

// clientPlugin is the host half of go-plugin's plugin pair.
type clientPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (clientPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("sdktest: the test side serves no plugin")
}

func (clientPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return pluginv1.NewPluginClient(conn), nil
}
