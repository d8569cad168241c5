package hooks

import (
	"context"
	"errors"
	"fmt"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// PluginHook runs the hooks of a plugin process through its RunHook call.
type PluginHook struct {
	// ID is the hook plugin's id.
	ID  string
	RPC pluginv1.PluginClient
}

var _ Hook = (*PluginHook)(nil)

// Name returns "plugin:ID".
func (p *PluginHook) Name() string { return "plugin:" + p.ID }

// Before runs the plugin's before_execute hook.
func (p *PluginHook) Before(ctx context.Context, call *Call) error {
	return p.run(ctx, pluginv1.HookPoint_HOOK_POINT_BEFORE_EXECUTE, call)
}

// After runs the plugin's after_execute hook.
func (p *PluginHook) After(ctx context.Context, call *Call) error {
	return p.run(ctx, pluginv1.HookPoint_HOOK_POINT_AFTER_EXECUTE, call)
}

// OnError runs the plugin's on_error hook.
func (p *PluginHook) OnError(ctx context.Context, call *Call) error {
	return p.run(ctx, pluginv1.HookPoint_HOOK_POINT_ON_ERROR, call)
}

func (p *PluginHook) run(ctx context.Context, point pluginv1.HookPoint, call *Call) error {
	req := &pluginv1.RunHookRequest{
		Point:         point,
		PluginId:      call.PluginID,
		PluginVersion: call.PluginVersion,
		Request:       call.Request,
		Response:      call.Response,
	}
	if point == pluginv1.HookPoint_HOOK_POINT_ON_ERROR {
		req.Error = call.FailureMessage()
	}
	resp, err := p.RPC.RunHook(ctx, req)
	if err != nil {
		return fmt.Errorf("call hook plugin %s: %w", p.ID, err)
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	return nil
}
