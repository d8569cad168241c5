package scenariorun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/api"
	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// callOutcome is the result of one plugin call, success or not.
type callOutcome struct {
	success bool
	version string
	message string
	// errText is the call's error: the plugin's error code and message, or
	// the host's reason when the call did not reach the plugin.
	errText string
	// errCode is the plugin's error code, such as "not_found". It is empty
	// when the plugin returned no error.
	errCode string
	data    json.RawMessage
	// notServed is set when the plugin was not served.
	notServed bool
}

func (c callOutcome) reason() string {
	if c.errText != "" {
		return c.errText
	}
	if c.message != "" {
		return c.message
	}
	return "the plugin reported failure without a message"
}

// call calls plugin id for the execution through the hook chain. With
// gated, the tenant must be enabled and have the plugin's permissions.
func (o *Orchestrator) call(ctx context.Context, e *execution, id string, params json.RawMessage, timeout time.Duration, gated bool) callOutcome {
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	if gated {
		caps, err := o.opts.Executor.Capabilities(id)
		if err == nil {
			err = o.opts.Gate.CheckCall(e.rec.Tenant, caps)
		}
		if err != nil {
			return callOutcome{errText: status.Convert(err).Message(), notServed: isNotServed(err)}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := &pluginv1.ExecuteRequest{
		TenantId:       e.rec.Tenant,
		ScenarioId:     e.rec.Scenario,
		ExecutionId:    e.rec.ID,
		RequestId:      newRequestID(),
		ParametersJson: params,
		Metadata:       map[string]string{},
	}
	// Plugins that create long-lived faults bound them by this value, as
	// for calls through the API.
	if limit, limited, err := o.opts.Gate.MaxDuration(e.rec.Tenant); err == nil && limited {
		req.Metadata[api.MetadataMaxDuration] = limit.String()
	}
	res, err := o.opts.Executor.Execute(ctx, id, req)
	out := callOutcome{}
	if res != nil {
		out.version = res.PluginVersion
		out.success = res.Response.GetSuccess()
		out.message = res.Response.GetMessage()
		out.data = res.Response.GetDataJson()
		if pe := res.Response.GetError(); pe != nil {
			out.errCode = pe.GetCode()
			out.errText = pe.GetCode() + ": " + pe.GetMessage()
		}
	}
	if err != nil {
		out.success = false
		out.errText = status.Convert(err).Message()
		out.notServed = isNotServed(err)
	}
	return out
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
