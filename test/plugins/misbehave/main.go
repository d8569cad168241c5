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
//
// -X main.id=ID and -X main.version=V override the metadata.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/mockforge/mockforged/sdk"
)

var (
	mode    = "ok"
	id      = ""
	version = "1.0.0"
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
	return []sdk.Capability{sdk.CapabilityObservability}
}

func (n *noop) ConfigSchema() []byte { return nil }

func (n *noop) Initialize(context.Context, json.RawMessage) error { return nil }

func (n *noop) Execute(_ context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	if n.panics {
		panic("deliberate panic for tests")
	}
	return &sdk.ExecuteResult{Success: true, Message: "ok", Data: req.Parameters}, nil
}

func (n *noop) Cleanup(context.Context) error {
	sdk.Logger().Info("cleanup ran", "plugin", n.id)
	return nil
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
