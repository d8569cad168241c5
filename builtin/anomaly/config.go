package anomaly

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

//go:embed schema.json
var configSchema []byte

// DefaultMaxMetrics is the number of metrics a tenant may have when the
// config sets no max_metrics.
const DefaultMaxMetrics = 1000

// Config is the plugin's config: the detector settings shared by every
// metric, and the plugin's own limits. schema.json describes each field.
type Config struct {
	detect.Config
	// MaxMetrics bounds the number of metrics per tenant. Default 1000.
	MaxMetrics int `json:"max_metrics,omitempty"`
}

// ParseConfig decodes a config object strictly, fills in defaults and
// validates it.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return Config{}, fmt.Errorf("invalid anomaly-detector config: %w", err)
		}
	}
	cfg.Config = cfg.Config.WithDefaults()
	if cfg.MaxMetrics == 0 {
		cfg.MaxMetrics = DefaultMaxMetrics
	}
	if err := cfg.Config.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid anomaly-detector config: %w", err)
	}
	if cfg.MaxMetrics < 1 {
		return Config{}, fmt.Errorf("invalid anomaly-detector config: max_metrics %d must be at least 1", cfg.MaxMetrics)
	}
	return cfg, nil
}
