package detect

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSeverityFor(t *testing.T) {
	tests := []struct {
		deviation float64
		want      Severity
	}{
		{3, SeverityLow},
		{4.49, SeverityLow},
		{4.5, SeverityMedium},
		{5.99, SeverityMedium},
		{6, SeverityHigh},
		{8.99, SeverityHigh},
		{9, SeverityCritical},
		{1000, SeverityCritical},
	}
	for _, tt := range tests {
		if got := SeverityFor(tt.deviation, 3); got != tt.want {
			t.Errorf("SeverityFor(%v, 3) = %s, want %s", tt.deviation, got, tt.want)
		}
	}
}

func TestCollectiveSeverityFor(t *testing.T) {
	tests := []struct {
		share float64
		want  Severity
	}{
		{0.2, SeverityLow},
		{0.25, SeverityMedium},
		{0.49, SeverityMedium},
		{0.5, SeverityHigh},
		{0.74, SeverityHigh},
		{0.75, SeverityCritical},
		{1, SeverityCritical},
	}
	for _, tt := range tests {
		if got := CollectiveSeverityFor(tt.share); got != tt.want {
			t.Errorf("CollectiveSeverityFor(%v) = %s, want %s", tt.share, got, tt.want)
		}
	}
}

// TestSeverityOfSpikes checks the severity of real detections at each band.
func TestSeverityOfSpikes(t *testing.T) {
	tests := []struct {
		sigmas float64
		want   Severity
	}{
		{4, SeverityLow},
		{5, SeverityMedium},
		{7, SeverityHigh},
		{12, SeverityCritical},
	}
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			// A constant baseline of known spread: alternating 99 and 101
			// has mean 100 and standard deviation 1.
			values := make([]float64, 400)
			for i := range values {
				values[i] = 99 + 2*float64(i%2)
			}
			m := newTestModel(t, Config{EnableTrend: new(false), EnablePattern: new(false)})
			feed(t, m, values)
			res := m.Observe(t0.Add(400*time.Minute), 100+tt.sigmas, nil)
			if !res.IsAnomaly {
				t.Fatalf("no anomaly for a %v sigma value (score %v)", tt.sigmas, res.Score)
			}
			if res.Anomaly.Severity != tt.want {
				t.Errorf("severity %s for %v sigma (deviation %v), want %s",
					res.Anomaly.Severity, tt.sigmas, res.Anomaly.Deviation, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"defaults", `{}`, ""},
		{"sensitivity too high", `{"sensitivity": 1.5}`, "invalid sensitivity 1.5"},
		{"sensitivity negative", `{"sensitivity": -0.1}`, "invalid sensitivity -0.1"},
		{"sensitivity zero", `{"sensitivity": 0}`, ""},
		{"threshold negative", `{"std_dev_threshold": -1}`, "invalid std_dev_threshold"},
		{"min samples", `{"min_baseline_samples": 1}`, "invalid min_baseline_samples 1"},
		{"seasonal without period", `{"enable_seasonal": true}`, "missing seasonal_period"},
		{"seasonal points", `{"enable_seasonal": true, "seasonal_period": 288}`, ""},
		{"seasonal duration", `{"enable_seasonal": true, "seasonal_period": "24h"}`, ""},
		{"seasonal auto", `{"enable_seasonal": true, "seasonal_period": "auto"}`, ""},
		{"seasonal one point", `{"seasonal_period": 1}`, "invalid seasonal_period 1"},
		{"window above retention", `{"moving_average_window": 50, "retention_points": 32}`, "invalid moving_average_window 50"},
		{"score threshold zero", `{"score_threshold": 0}`, "invalid score_threshold 0"},
		{"score threshold above 1", `{"score_threshold": 1.5}`, "invalid score_threshold 1.5"},
		{"spike threshold below 3", `{"spike_threshold": 2}`, "invalid spike_threshold 2"},
		{"spike threshold above 1000", `{"spike_threshold": 2000}`, "invalid spike_threshold 2000"},
		{"spikes off", `{"spike_threshold": -1}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			if err := json.Unmarshal([]byte(tt.json), &cfg); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			err := cfg.WithDefaults().Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSeasonalPeriodJSON(t *testing.T) {
	tests := []struct {
		in   string
		want SeasonalPeriod
	}{
		{`288`, SeasonalPeriod{Points: 288}},
		{`"288"`, SeasonalPeriod{Points: 288}},
		{`"24h"`, SeasonalPeriod{Duration: 24 * time.Hour}},
		{`"auto"`, SeasonalPeriod{Auto: true}},
	}
	for _, tt := range tests {
		var got SeasonalPeriod
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Errorf("unmarshal %s: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("unmarshal %s = %+v, want %+v", tt.in, got, tt.want)
		}
		data, err := json.Marshal(got)
		if err != nil {
			t.Errorf("marshal %+v: %v", got, err)
			continue
		}
		var back SeasonalPeriod
		if err := json.Unmarshal(data, &back); err != nil || back != got {
			t.Errorf("round trip of %s gave %s = %+v (%v)", tt.in, data, back, err)
		}
	}
	var p SeasonalPeriod
	if err := json.Unmarshal([]byte(`"weekly"`), &p); err == nil {
		t.Error(`unmarshal "weekly" succeeded, want an error`)
	}
}

func TestEffectiveThreshold(t *testing.T) {
	cfg := Config{}.WithDefaults()
	if got := cfg.EffectiveThreshold(); got != 3 {
		t.Errorf("default effective threshold = %v, want 3", got)
	}
	s := 1.0
	cfg.Sensitivity = &s
	if got := cfg.EffectiveThreshold(); got < 2.09 || got > 2.11 {
		t.Errorf("effective threshold at sensitivity 1 = %v, want 2.1", got)
	}
	if got := cfg.EffectiveScoreThreshold(); got >= defaultScoreThreshold {
		t.Errorf("score threshold at sensitivity 1 = %v, want below the default %v", got, defaultScoreThreshold)
	}
}
