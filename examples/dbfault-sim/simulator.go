package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/mockforge/mockforged/sdk"
)

//go:embed config.schema.json
var configSchema []byte

// Fault types the simulator understands.
const (
	faultConnectionTimeout = "connection_timeout"
	faultQueryError        = "query_error"
	faultSlowQuery         = "slow_query"
)

// defaultTimeoutMS is the simulated connection timeout when the config sets
// none.
const defaultTimeoutMS = 5000

// maxLatencyMS caps latency_ms so that a typo cannot park a call for hours.
const maxLatencyMS = 10 * 60 * 1000

type config struct {
	DefaultTimeoutMS int `json:"default_timeout_ms"`
}

type parameters struct {
	FaultType string `json:"fault_type"`
	LatencyMS *int64 `json:"latency_ms"`
	// Payload is echoed back; it lets tests send large messages.
	Payload string `json:"payload"`
}

// simulator is the example plugin.
type simulator struct {
	version string

	mu     sync.RWMutex
	config config
}

var (
	_ sdk.Plugin          = (*simulator)(nil)
	_ sdk.ConfigValidator = (*simulator)(nil)
)

func newSimulator(version string) *simulator {
	return &simulator{version: version, config: config{DefaultTimeoutMS: defaultTimeoutMS}}
}

func (s *simulator) Metadata() sdk.Metadata {
	return sdk.Metadata{
		ID:          "db-fault-simulator",
		Name:        "Database fault simulator",
		Version:     s.version,
		Description: "Simulates database faults (timeouts, query errors, slow queries) without a database.",
		Author:      "mockforged authors",
		Homepage:    "https://github.com/mockforge/mockforged",
		Repository:  "https://github.com/mockforge/mockforged",
		Tags:        []string{"database", "example", "simulation"},
	}
}

func (s *simulator) Capabilities() []sdk.Capability {
	return []sdk.Capability{sdk.CapabilityFaultInjection}
}

func (s *simulator) ConfigSchema() []byte {
	return configSchema
}

func (s *simulator) ValidateConfig(_ context.Context, raw json.RawMessage) error {
	_, err := parseConfig(raw)
	return err
}

func (s *simulator) Initialize(_ context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.config = cfg
	s.mu.Unlock()
	sdk.Logger().Info("configured", "default_timeout_ms", cfg.DefaultTimeoutMS)
	return nil
}

func parseConfig(raw json.RawMessage) (config, error) {
	cfg := config{DefaultTimeoutMS: defaultTimeoutMS}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return config{}, fmt.Errorf("invalid config: %w", err)
	}
	if cfg.DefaultTimeoutMS <= 0 {
		return config{}, fmt.Errorf("invalid config: default_timeout_ms is %d; set a positive number of milliseconds", cfg.DefaultTimeoutMS)
	}
	return cfg, nil
}

func (s *simulator) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var p parameters
	if err := req.DecodeParameters(&p); err != nil {
		return nil, &sdk.ErrorDetail{Code: "invalid_parameters", Message: err.Error()}
	}
	if p.LatencyMS != nil && (*p.LatencyMS < 0 || *p.LatencyMS > maxLatencyMS) {
		return nil, &sdk.ErrorDetail{
			Code:    "invalid_parameters",
			Message: fmt.Sprintf("latency_ms is %d; use 0 to %d", *p.LatencyMS, maxLatencyMS),
		}
	}
	s.mu.RLock()
	timeout := time.Duration(s.config.DefaultTimeoutMS) * time.Millisecond
	s.mu.RUnlock()

	switch p.FaultType {
	case faultSlowQuery:
		latency := time.Duration(0)
		if p.LatencyMS != nil {
			latency = time.Duration(*p.LatencyMS) * time.Millisecond
		}
		if err := sleep(ctx, latency); err != nil {
			return nil, err
		}
		return sdk.OK(fmt.Sprintf("query answered after %s", latency), map[string]any{
			"fault_type": p.FaultType,
			"latency_ms": latency.Milliseconds(),
			"payload":    p.Payload,
		}), nil
	case faultConnectionTimeout:
		if p.LatencyMS != nil {
			timeout = time.Duration(*p.LatencyMS) * time.Millisecond
		}
		if err := sleep(ctx, timeout); err != nil {
			return nil, err
		}
		return nil, &sdk.ErrorDetail{
			Code:      "connection_timeout",
			Message:   fmt.Sprintf("could not connect to database: connection timed out after %s", timeout),
			Retryable: true,
		}
	case faultQueryError:
		return nil, &sdk.ErrorDetail{
			Code:    "query_error",
			Message: `ERROR: canceling statement due to statement timeout (SQLSTATE 57014)`,
			Details: json.RawMessage(`{"sqlstate":"57014"}`),
		}
	default:
		return nil, &sdk.ErrorDetail{
			Code:    "invalid_parameters",
			Message: fmt.Sprintf("fault_type %q is not supported; use %s, %s or %s", p.FaultType, faultConnectionTimeout, faultQueryError, faultSlowQuery),
		}
	}
}

// sleep waits for d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("simulated fault interrupted: %w", ctx.Err())
	}
}

func (s *simulator) Cleanup(context.Context) error {
	sdk.Logger().Info("cleanup")
	return nil
}
