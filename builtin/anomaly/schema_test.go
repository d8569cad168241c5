package anomaly

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(configSchema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return schema
}

func TestSchemaAcceptsAndRejects(t *testing.T) {
	schema := compileSchema(t)
	tests := []struct {
		config string
		valid  bool
	}{
		{`{}`, true},
		{`{"std_dev_threshold": 2.5, "robust": true, "sensitivity": 0.9}`, true},
		{`{"enable_seasonal": true, "seasonal_period": "24h", "seasonal_phases": 24}`, true},
		{`{"enable_seasonal": true, "seasonal_period": 288}`, true},
		{`{"seasonal_period": "auto"}`, true},
		{`{"seasonal_period": "1h30m"}`, true},
		{`{"seasonal_period": "weekly"}`, false},
		{`{"sensitivity": 1.2}`, false},
		{`{"min_baseline_samples": 1}`, false},
		{`{"std_dev_threshhold": 3}`, false},
		{`{"score_threshold": 0}`, false},
		{`{"max_metrics": 0}`, false},
		{`{"spike_threshold": 6}`, true},
		{`{"spike_threshold": -1}`, true},
		{`{"spike_threshold": 2}`, false},
		{`{"spike_threshold": 1001}`, false},
	}
	for _, tt := range tests {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.config))
		if err != nil {
			t.Fatal(err)
		}
		err = schema.Validate(inst)
		if (err == nil) != tt.valid {
			t.Errorf("schema validation of %s: %v, want valid=%v", tt.config, err, tt.valid)
		}
		// What the schema accepts, the plugin accepts too.
		if tt.valid {
			if _, err := ParseConfig(json.RawMessage(tt.config)); err != nil {
				t.Errorf("ParseConfig(%s) rejected a config the schema accepts: %v", tt.config, err)
			}
		}
	}
}

// TestSchemaDefaultsMatchCode keeps the documented defaults in step with
// the values the code applies.
func TestSchemaDefaultsMatchCode(t *testing.T) {
	var doc struct {
		Properties map[string]struct {
			Default any `json:"default"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(configSchema, &doc); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"std_dev_threshold":       detect.DefaultStdDevThreshold,
		"min_baseline_samples":    float64(detect.DefaultMinBaselineSamples),
		"sensitivity":             *cfg.Sensitivity,
		"robust":                  cfg.Robust,
		"moving_average_window":   float64(cfg.MovingAverageWindow),
		"enable_trend":            *cfg.EnableTrend,
		"enable_pattern":          *cfg.EnablePattern,
		"enable_novelty":          *cfg.EnableNovelty,
		"enable_seasonal":         cfg.EnableSeasonal,
		"seasonal_phases":         float64(cfg.SeasonalPhases),
		"retention_points":        float64(cfg.RetentionPoints),
		"baseline_window":         float64(cfg.BaselineWindow),
		"baseline_refresh_points": float64(cfg.BaselineRefresh),
		"cooldown_points":         float64(cfg.CooldownPoints),
		"spike_threshold":         cfg.SpikeThreshold,
		"max_metrics":             float64(cfg.MaxMetrics),
	}
	for key, value := range want {
		prop, ok := doc.Properties[key]
		if !ok {
			t.Errorf("schema has no property %q", key)
			continue
		}
		if prop.Default != value {
			t.Errorf("schema default of %s = %v, code default = %v", key, prop.Default, value)
		}
	}
	if len(doc.Properties) != len(want)+2 { // plus seasonal_period and score_threshold, which have no default
		t.Errorf("schema has %d properties, want %d", len(doc.Properties), len(want)+2)
	}
}
