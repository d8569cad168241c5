package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mockforge/mockforged/sdk"
)

// latencyInjector is a complete plugin: it reports a delay that a scenario
// asked for and rejects delays over its configured limit.
type latencyInjector struct {
	maxMS int
}

func (l *latencyInjector) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID:          "latency-injector",
		Name:        "Latency injector",
		Version:     "0.1.0",
		Description: "Reports the latency a scenario step asked for.",
	}
}

func (l *latencyInjector) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityTrafficShaping}
}

func (l *latencyInjector) ConfigSchema() []byte {
	return []byte(`{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"type": "object",
		"additionalProperties": false,
		"properties": {"max_ms": {"type": "integer", "minimum": 1}}
	}`)
}

func (l *latencyInjector) Initialize(_ context.Context, config json.RawMessage) error {
	cfg := struct {
		MaxMS int `json:"max_ms"`
	}{MaxMS: 1000}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	l.maxMS = cfg.MaxMS
	return nil
}

func (l *latencyInjector) Execute(_ context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var p struct {
		DelayMS int `json:"delay_ms"`
	}
	if err := req.DecodeParameters(&p); err != nil {
		return nil, err
	}
	if p.DelayMS > l.maxMS {
		return sdk.Failed("too_slow", fmt.Sprintf("delay_ms %d is over max_ms %d", p.DelayMS, l.maxMS)), nil
	}
	return sdk.OK(fmt.Sprintf("would delay by %d ms", p.DelayMS), map[string]int{"delay_ms": p.DelayMS}), nil
}

func (l *latencyInjector) Cleanup(context.Context) error { return nil }

// The plugin's main function is one line:
//
//	func main() { sdk.Serve(&latencyInjector{}) }
//
// This example calls the plugin's methods in the order the daemon does. Use
// package sdktest to drive it over the real gRPC transport in tests.
func Example() {
	var p sdk.Plugin = &latencyInjector{}
	ctx := context.Background()
	if err := p.Initialize(ctx, json.RawMessage(`{"max_ms": 100}`)); err != nil {
		fmt.Println("initialize:", err)
		return
	}
	res, err := p.Execute(ctx, &sdk.ExecuteRequest{Parameters: json.RawMessage(`{"delay_ms": 20}`)})
	if err != nil {
		fmt.Println("execute:", err)
		return
	}
	fmt.Println(res.Success, res.Message, string(res.Data))
	res, _ = p.Execute(ctx, &sdk.ExecuteRequest{Parameters: json.RawMessage(`{"delay_ms": 500}`)})
	fmt.Println(res.Success, res.Error.Code)
	if err := p.Cleanup(ctx); err != nil {
		fmt.Println("cleanup:", err)
	}
	// Output:
	// true would delay by 20 ms {"delay_ms":20}
	// false too_slow
}

// ExampleOK shows a successful result carrying data.
func ExampleOK() {
	res := sdk.OK("2 rows", map[string]any{"rows": 2})
	fmt.Println(res.Success, string(res.Data))
	// Output: true {"rows":2}
}

// ExampleErrorDetail shows how a plugin chooses the error code that callers
// see: it returns an *ErrorDetail from Execute.
func ExampleErrorDetail() {
	var err error = &sdk.ErrorDetail{Code: "connection_timeout", Message: "no answer after 5s", Retryable: true}
	var detail *sdk.ErrorDetail
	fmt.Println(errors.As(err, &detail), detail.Code, detail.Retryable)
	// Output: true connection_timeout true
}

// ExampleExecuteRequest_DecodeParameters shows that unknown parameters are
// rejected, so that a misspelled name is an error.
func ExampleExecuteRequest_DecodeParameters() {
	req := &sdk.ExecuteRequest{Parameters: json.RawMessage(`{"latency_ms": 5, "latncy": 1}`)}
	var p struct {
		LatencyMS int `json:"latency_ms"`
	}
	fmt.Println(req.DecodeParameters(&p))
	// Output: invalid parameters: json: unknown field "latncy"
}
