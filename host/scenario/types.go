package scenario

import (
	"encoding/json"
	"fmt"
	"time"
)

// Scenario is a parsed and validated scenario file.
type Scenario struct {
	// Name identifies the scenario within its tenant.
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// MaxDuration bounds the execution, rollbacks excluded. Zero means the
	// tenant's max duration.
	MaxDuration Duration `json:"max_duration,omitempty"`
	// Rollback is RollbackOnFailure (also when empty) or RollbackAlways.
	Rollback    string      `json:"rollback,omitempty"`
	SteadyState SteadyState `json:"steady_state,omitempty"`
	Steps       []Step      `json:"steps"`
	Probes      []Probe     `json:"probes,omitempty"`
	Guards      []Guard     `json:"guards,omitempty"`
}

// Rollback policies.
const (
	RollbackOnFailure = "on_failure"
	RollbackAlways    = "always"
)

// SteadyState sets how long probes and guards run before the first step
// and after the last one.
type SteadyState struct {
	Before Duration `json:"before,omitempty"`
	After  Duration `json:"after,omitempty"`
}

// Step is one entry of a step list: a plugin call (Plugin set), a parallel
// group (Parallel set) or a loop (Loop set).
type Step struct {
	// Name labels the step in the journal. Parse fills it with the step's
	// JSON pointer, such as "steps/2/parallel/0", when the file gives none.
	Name  string   `json:"name,omitempty"`
	Delay Duration `json:"delay,omitempty"`

	Plugin     string          `json:"plugin,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Duration is how long the step lasts at least: after the call
	// returned, the step waits until Duration has passed since it started.
	Duration Duration `json:"duration,omitempty"`
	// Timeout is the call's deadline. Zero means DefaultCallTimeout.
	Timeout           Duration `json:"timeout,omitempty"`
	ContinueOnFailure bool     `json:"continue_on_failure,omitempty"`
	Rollback          *Action  `json:"rollback,omitempty"`

	Parallel []Step `json:"parallel,omitempty"`
	Loop     *Loop  `json:"loop,omitempty"`
}

// IsCall reports whether the step calls a plugin itself.
func (s Step) IsCall() bool { return s.Plugin != "" }

// Loop repeats its steps MaxIterations times unless the execution ends
// first.
type Loop struct {
	MaxIterations int    `json:"max_iterations"`
	Steps         []Step `json:"steps"`
}

// Action is a plugin call that undoes a step.
type Action struct {
	// Plugin defaults to the step's plugin.
	Plugin     string          `json:"plugin,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	Timeout    Duration        `json:"timeout,omitempty"`
}

// Probe measures the system under test at an interval and feeds the value
// to the guards on its metric. Exactly one of HTTP and Plugin is set.
type Probe struct {
	Name     string       `json:"name,omitempty"`
	Metric   string       `json:"metric"`
	Interval Duration     `json:"interval"`
	Timeout  Duration     `json:"timeout,omitempty"`
	HTTP     *HTTPProbe   `json:"http,omitempty"`
	Plugin   *PluginProbe `json:"plugin,omitempty"`
}

// HTTPProbe is an HTTP GET whose latency, status or body is the value.
type HTTPProbe struct {
	URL string `json:"url"`
	// Value is "latency_ms" (also when empty), "status_code", "body" or a
	// JSON pointer into a JSON body.
	Value string `json:"value,omitempty"`
}

// PluginProbe is a plugin call whose duration, success or data is the
// value.
type PluginProbe struct {
	Plugin     string          `json:"plugin"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Value is "duration_ms" (also when empty), "success" or a JSON
	// pointer into the result's data.
	Value string `json:"value,omitempty"`
}

// Guard aborts the execution when its metric degrades. Exactly one of
// Threshold and Anomaly is set.
type Guard struct {
	Name      string        `json:"name,omitempty"`
	Metric    string        `json:"metric"`
	Threshold *Threshold    `json:"threshold,omitempty"`
	Anomaly   *AnomalyGuard `json:"anomaly,omitempty"`
}

// Threshold fires when Consecutive values in a row are above Above or
// below Below.
type Threshold struct {
	Above       *float64 `json:"above,omitempty"`
	Below       *float64 `json:"below,omitempty"`
	Consecutive int      `json:"consecutive,omitempty"`
}

// AnomalyGuard fires when the anomaly-detector plugin reports an anomaly of
// at least Severity on the metric.
type AnomalyGuard struct {
	// Severity is low, medium, high or critical.
	Severity string `json:"severity"`
	// DetectorMetric is the metric's name in the anomaly detector. Default:
	// "scenario.<scenario name>.<metric>".
	DetectorMetric string `json:"detector_metric,omitempty"`
	// ResetBaseline clears the detector's model of the metric when an
	// execution starts, so that the baseline is learned afresh.
	ResetBaseline bool `json:"reset_baseline,omitempty"`
	// MinScore also requires the anomaly's score to be at least this.
	MinScore float64 `json:"min_score,omitempty"`
}

// Severities in increasing order, as the anomaly detector names them.
var Severities = []string{"low", "medium", "high", "critical"}

// SeverityRank returns the position of s in Severities, or -1.
func SeverityRank(s string) int {
	for i, name := range Severities {
		if name == s {
			return i
		}
	}
	return -1
}

// Duration is a time.Duration written as a Go duration string.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string such as "30s".
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("invalid duration %s: use a string such as \"30s\"", data)
	}
	parsed, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	*d = Duration(parsed)
	return nil
}
