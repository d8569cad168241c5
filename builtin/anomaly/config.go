package anomaly

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

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

// explainConfigError returns what is wrong with the config raw, which the
// decoder rejected with err: the key and what it takes, rather than the Go
// type that the decoder names.
func explainConfigError(raw json.RawMessage, err error) string {
	var syntax *json.SyntaxError
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON ends early: write one complete JSON object, such as {\"sensitivity\": 0.8}"
	}
	if errors.As(err, &syntax) {
		return fmt.Sprintf("%v: write one JSON object, such as {\"sensitivity\": 0.8}", err)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] != '{' {
		return fmt.Sprintf("expected a JSON object such as {\"sensitivity\": 0.8}, found %s", describeJSON(trimmed))
	}
	fe := checkJSON(trimmed, reflect.TypeFor[Config](), "", "")
	if fe == nil {
		return err.Error()
	}
	// A key whose own parser rejected it, such as seasonal_period, has a
	// message that names the key already.
	if key, msg, ok := strings.Cut(fe.msg, " "); ok && strings.HasPrefix(msg, "invalid "+key) {
		return msg
	}
	return fe.msg
}

// firstNullKey returns the first key, in sorted order, of the config
// object raw whose value is null, or "".
func firstNullKey(raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return ""
	}
	keys := make([]string, 0, len(obj))
	for key, value := range obj {
		if string(bytes.TrimSpace(value)) == "null" {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	return keys[0]
}

// ParseConfig decodes a config object strictly, fills in defaults and
// validates it.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return Config{}, fmt.Errorf("invalid anomaly-detector config: %s", explainConfigError(raw, err))
		}
		if key := firstNullKey(raw); key != "" {
			// The schema rejects null too; a key left out takes its default.
			return Config{}, fmt.Errorf("invalid anomaly-detector config: %s is null: give a value, or leave the key out for its default", key)
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
