package metrics

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/registry"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// PluginExecutor calls plugins through the hook chain. *registry.Registry
// is one, and so is what the scenario runner calls its steps with.
type PluginExecutor interface {
	Capabilities(id string) ([]string, error)
	Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error)
}

// ObserveExecutor returns e with every Execute recorded as ObserveCall
// records the API's calls, for calls that do not pass through the API,
// such as the steps of scenarios. The request's tenant is taken as
// admitted, because the caller gated the call itself. On a nil *Metrics it
// returns e.
func (m *Metrics) ObserveExecutor(e PluginExecutor) PluginExecutor {
	if m == nil {
		return e
	}
	return &observedExecutor{next: e, m: m}
}

type observedExecutor struct {
	next PluginExecutor
	m    *Metrics
}

func (o *observedExecutor) Capabilities(id string) ([]string, error) {
	return o.next.Capabilities(id)
}

func (o *observedExecutor) Execute(ctx context.Context, id string, req *pluginv1.ExecuteRequest) (*registry.Result, error) {
	start := time.Now()
	res, err := o.next.Execute(ctx, id, req)
	pluginID := id
	if status.Code(err) == codes.NotFound {
		pluginID = ""
	}
	var resp *pluginv1.ExecuteResponse
	if res != nil {
		resp = res.Response
	}
	o.m.observe(pluginID, req.GetTenantId(), req.GetParametersJson(), resp.GetSuccess(), resp.GetDataJson(), err, time.Since(start))
	return res, err
}
