// Command misbehave is a plugin for the daemon's end-to-end tests. Its
// behaviour is chosen at build time with -ldflags "-X main.mode=MODE":
//
//	ok          a well-behaved no-op plugin with id "noop" (default)
//	stdout      prints to stdout before serving, which breaks the handshake
//	hang        never completes the handshake
//	exit        exits at once with status 3
//	protocol2   speaks only plugin protocol version 2
//	hook        a hook plugin that rejects calls whose parameters hold
//	            "reject": true and counts the calls it saw
//	panic       panics in Execute
//	storage     runs the operation in its parameters on sdk.Storage(ctx):
//	            {"op": "put"|"get"|"delete"|"list", "key": K, "value": V}
//	selfid      a no-op plugin whose id is the value after the last
//	            "mockforged-test-id=" in the final 4 KiB of its own
//	            executable, so that copies of one binary with different
//	            trailers are different plugins
//	cleanupexit exits with status 4 from inside Cleanup
//	flood       writes "lines" lines of "line_kib" KiB each to stderr in
//	            every call (defaults 4 and 200)
//	allocate    when called, sets its address-space limit to 1 GiB and
//	            allocates and touches memory until the Go runtime dies
//
// -X main.id=ID and -X main.version=V override the metadata, and
// -X main.caps=a,b sets the declared capabilities (default observability).
// In every mode that executes, a "sleep_ms" parameter makes Execute wait
// that long, or until the call's deadline, before it answers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/mockforge/mockforged/sdk"
)

var (
	mode    = "ok"
	id      = ""
	version = "1.0.0"
	caps    = ""
)

func main() {
	switch mode {
	case "stdout":
		fmt.Println("hello from a plugin that talks too early")
		sdk.Serve(&noop{id: pick("noisy")})
	case "hang":
		time.Sleep(time.Hour)
	case "exit":
		os.Exit(3)
	case "protocol2":
		serveProtocol2()
	case "hook":
		sdk.Serve(&hookPlugin{noop: noop{id: pick("audit-hook")}})
	case "panic":
		sdk.Serve(&noop{id: pick("panicky"), panics: true})
	case "storage":
		sdk.Serve(&storagePlugin{noop: noop{id: pick("storage")}})
	case "selfid":
		sdk.Serve(&noop{id: idFromExecutable()})
	case "cleanupexit":
		sdk.Serve(&cleanupExit{noop: noop{id: pick("cleanup-exit")}})
	case "flood":
		sdk.Serve(&flood{noop: noop{id: pick("flood")}})
	case "allocate":
		sdk.Serve(&allocator{noop: noop{id: pick("allocate")}})
	default:
		sdk.Serve(&noop{id: pick("noop")})
	}
}

func pick(fallback string) string {
	if id != "" {
		return id
	}
	return fallback
}

// serveProtocol2 speaks a protocol version the host does not support.
func serveProtocol2() {
	hs := sdk.Handshake()
	hs.ProtocolVersion = 2
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: hs,
		VersionedPlugins: map[int]goplugin.PluginSet{
			2: {sdk.PluginName: &goplugin.NetRPCUnsupportedPlugin{}},
		},
		GRPCServer: goplugin.DefaultGRPCServer,
	})
}

type noop struct {
	id     string
	panics bool
}

func (n *noop) Metadata() sdk.Metadata {
	return sdk.Metadata{ID: n.id, Name: "test plugin " + n.id, Version: version}
}

func (n *noop) Capabilities() []sdk.Capability {
	if caps == "" {
		return []sdk.Capability{sdk.CapabilityObservability}
	}
	var out []sdk.Capability
	for _, c := range strings.Split(caps, ",") {
		out = append(out, sdk.Capability(c))
	}
	return out
}

func (n *noop) ConfigSchema() []byte { return nil }

func (n *noop) Initialize(context.Context, json.RawMessage) error { return nil }

func (n *noop) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	if err := sleepIfAsked(ctx, req.Parameters); err != nil {
		return nil, err
	}
	if n.panics {
		panic("deliberate panic for tests")
	}
	return &sdk.ExecuteResult{Success: true, Message: "ok", Data: req.Parameters}, nil
}

func (n *noop) Cleanup(context.Context) error {
	sdk.Logger().Info("cleanup ran", "plugin", n.id)
	return nil
}

// sleepIfAsked waits for the "sleep_ms" parameter, or until ctx ends.
func sleepIfAsked(ctx context.Context, params json.RawMessage) error {
	var p struct {
		SleepMS int `json:"sleep_ms"`
	}
	_ = json.Unmarshal(params, &p)
	if p.SleepMS <= 0 {
		return nil
	}
	select {
	case <-time.After(time.Duration(p.SleepMS) * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// storagePlugin runs one storage operation per call on the calling
// tenant's storage.
type storagePlugin struct {
	noop
}

func (s *storagePlugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityFaultInjection}
}

func (s *storagePlugin) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var p struct {
		Op    string `json:"op"`
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(req.Parameters, &p); err != nil {
		return nil, fmt.Errorf("decode parameters: %w", err)
	}
	store := sdk.Storage(ctx)
	switch p.Op {
	case "put":
		if err := store.Put(ctx, p.Key, []byte(p.Value)); err != nil {
			return nil, fmt.Errorf("put %q: %w", p.Key, err)
		}
		return sdk.OK("stored", nil), nil
	case "get":
		value, found, err := store.Get(ctx, p.Key)
		if err != nil {
			return nil, fmt.Errorf("get %q: %w", p.Key, err)
		}
		return sdk.OK("read", map[string]any{"found": found, "value": string(value)}), nil
	case "delete":
		if err := store.Delete(ctx, p.Key); err != nil {
			return nil, fmt.Errorf("delete %q: %w", p.Key, err)
		}
		return sdk.OK("deleted", nil), nil
	case "list":
		keys, err := store.List(ctx, p.Key)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", p.Key, err)
		}
		return sdk.OK("listed", map[string]any{"keys": keys}), nil
	default:
		return nil, fmt.Errorf("unknown op %q: use put, get, delete or list", p.Op)
	}
}

// hookPlugin rejects calls with "reject": true and records what it saw.
type hookPlugin struct {
	noop
	before, after, failed atomic.Int64
}

func (h *hookPlugin) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityHook}
}

func (h *hookPlugin) Execute(context.Context, *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	return sdk.OK("hook counters", map[string]int64{
		"before": h.before.Load(), "after": h.after.Load(), "on_error": h.failed.Load(),
	}), nil
}

func (h *hookPlugin) BeforeExecute(_ context.Context, call *sdk.HookCall) error {
	h.before.Add(1)
	var p struct {
		Reject bool `json:"reject"`
	}
	_ = json.Unmarshal(call.Request.Parameters, &p)
	if p.Reject {
		return errors.New("rejected by the test hook")
	}
	return nil
}

func (h *hookPlugin) AfterExecute(context.Context, *sdk.HookCall) error {
	h.after.Add(1)
	return errors.New("after hook always fails in tests")
}

func (h *hookPlugin) OnError(context.Context, *sdk.HookCall) error {
	h.failed.Add(1)
	return nil
}
