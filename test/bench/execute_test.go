package bench

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/daemon"
	"github.com/mockforge/mockforged/host/launch"
	"github.com/mockforge/mockforged/sdk"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

// noopPlugin is the in-process counterpart of the no-op test plugin: its
// Execute returns the parameters as data.
type noopPlugin struct{}

var _ sdk.Plugin = noopPlugin{}

func (noopPlugin) Metadata() sdk.Metadata {
	return sdk.Metadata{ID: noopPluginID, Name: "in-process no-op plugin", Version: "1.0.0"}
}

func (noopPlugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityObservability}
}

func (noopPlugin) ConfigSchema() []byte { return nil }

func (noopPlugin) Initialize(context.Context, json.RawMessage) error { return nil }

func (noopPlugin) Execute(_ context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	return &sdk.ExecuteResult{Success: true, Message: "ok", Data: req.Parameters}, nil
}

func (noopPlugin) Cleanup(context.Context) error { return nil }

// checkResult turns an unsuccessful result into an error.
func checkResult(res *sdk.ExecuteResult, err error) error {
	if err != nil {
		return err
	}
	if !res.Success {
		return fmt.Errorf("no-op call returned success false: %s", res.Message)
	}
	return nil
}

// BenchmarkExecuteInProcess calls a no-op plugin's Execute directly through
// the sdk.Plugin interface: the cost of the plugin itself, without any
// transport.
func BenchmarkExecuteInProcess(b *testing.B) {
	var p sdk.Plugin = noopPlugin{}
	call := func(ctx context.Context) error {
		return checkResult(p.Execute(ctx, &sdk.ExecuteRequest{Parameters: noopParameters}))
	}
	for _, callers := range callerCounts {
		b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
			benchCalls(b, callers, call)
		})
	}
}

// BenchmarkExecuteGoPlugin calls the no-op plugin binary over go-plugin's
// gRPC transport, with no daemon in between. transport=plain connects the
// way sdktest.StartProcess does. transport=mtls launches the plugin with
// the daemon's own launcher (host/launch), which verifies the binary's
// checksum and turns on go-plugin's automatic mutual TLS, so its calls cross
// the same connection as the daemon's calls to its plugins.
func BenchmarkExecuteGoPlugin(b *testing.B) {
	b.Run("transport=plain", func(b *testing.B) {
		client := sdktest.StartProcess(b, bins.noop)
		call := func(ctx context.Context) error {
			return checkResult(client.Execute(ctx, &sdk.ExecuteRequest{Parameters: noopParameters}))
		}
		for _, callers := range callerCounts {
			b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
				benchCalls(b, callers, call)
			})
		}
	})
	b.Run("transport=mtls", func(b *testing.B) {
		proc, err := launchNoop()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { proc.Stop(5 * time.Second) })
		call := func(ctx context.Context) error {
			return executeProto(ctx, proc.RPC)
		}
		for _, callers := range callerCounts {
			b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
				benchCalls(b, callers, call)
			})
		}
	})
}

// noopChecksum is the SHA-256 of the no-op plugin binary, computed once:
// the daemon also has it before it launches, from its binary store.
var noopChecksum struct {
	once sync.Once
	sum  []byte
	err  error
}

// launchNoop starts the no-op plugin binary with the daemon's launcher and
// the daemon's default plugin environment.
func launchNoop() (*launch.Process, error) {
	noopChecksum.once.Do(func() {
		data, err := os.ReadFile(bins.noop)
		sum := sha256.Sum256(data)
		noopChecksum.sum, noopChecksum.err = sum[:], err
	})
	if noopChecksum.err != nil {
		return nil, noopChecksum.err
	}
	return launch.Start(context.Background(), launch.Config{
		Name:         "noop",
		Path:         bins.noop,
		Checksum:     noopChecksum.sum,
		Env:          launch.Environment(daemon.DefaultPluginEnv),
		StartTimeout: 10 * time.Second,
		Logger:       hclog.New(&hclog.LoggerOptions{Name: "bench", Level: hclog.Warn, Output: os.Stderr}),
	})
}

// BenchmarkExecuteDaemon calls the no-op plugin end to end: the daemon's
// Execute RPC over its unix socket, which routes the call through the hook
// chain and the audit log to the plugin process and back.
func BenchmarkExecuteDaemon(b *testing.B) {
	d, err := sharedNoopDaemon()
	if err != nil {
		b.Fatal(err)
	}
	call := func(ctx context.Context) error {
		return d.executeNoop(ctx, noopPluginID)
	}
	for _, callers := range callerCounts {
		b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
			benchCalls(b, callers, call)
		})
	}
}
