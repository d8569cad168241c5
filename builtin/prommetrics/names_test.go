package prommetrics

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mockforge/mockforged/sdk"
)

// wantCode checks that err is an *sdk.ErrorDetail with code and a message
// containing substr.
func wantCode(t *testing.T, err error, code, substr string) {
	t.Helper()
	var detail *sdk.ErrorDetail
	if !errors.As(err, &detail) {
		t.Fatalf("error %v (%T), want an *sdk.ErrorDetail with code %s", err, err, code)
	}
	if detail.Code != code {
		t.Errorf("code %q, want %q (message %q)", detail.Code, code, detail.Message)
	}
	if !strings.Contains(detail.Message, substr) {
		t.Errorf("message %q does not contain %q", detail.Message, substr)
	}
}

func TestCheckMetricName(t *testing.T) {
	tests := []struct {
		name string
		kind metricType
		want string // substring of the error; empty for valid names
	}{
		{name: "chaos_faults_total", kind: counterType},
		{name: "chaos_latency_seconds", kind: histogramType},
		{name: "_queue_depth", kind: gaugeType},
		{name: "", kind: gaugeType, want: "missing name"},
		{name: "http-requests", kind: gaugeType, want: `invalid metric name "http-requests"`},
		{name: "1st_metric", kind: gaugeType, want: "not starting with a digit"},
		{name: "caf\u00e9_total", kind: counterType, want: "invalid metric name"},
		{name: "job:errors:rate5m", kind: gaugeType, want: "colons are reserved"},
		{name: "__internal", kind: gaugeType, want: "reserved for Prometheus"},
		{name: strings.Repeat("a", maxNameLength+1), kind: gaugeType, want: "bytes long"},
		{name: "requests", kind: counterType, want: `such as "requests_total"`},
		{name: "requests_total", kind: gaugeType, want: "only counter names end in _total"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+string(tt.kind), func(t *testing.T) {
			err := checkMetricName(tt.name, tt.kind)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid name rejected: %v", err)
				}
				return
			}
			wantCode(t, err, codeInvalidArgument, tt.want)
		})
	}
}

func TestCheckLabels(t *testing.T) {
	many := map[string]string{}
	for i := range maxLabels + 1 {
		many["l"+strings.Repeat("x", i)] = "v"
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{name: "valid", labels: map[string]string{"target_db": "orders", "fault": ""}},
		{name: "none", labels: nil},
		{name: "dash", labels: map[string]string{"target-db": "x"}, want: `invalid label name "target-db"`},
		{name: "double underscore", labels: map[string]string{"__name__": "x"}, want: "reserved for Prometheus"},
		{name: "tenant", labels: map[string]string{"tenant": "x"}, want: `label name "tenant" is reserved`},
		{name: "job", labels: map[string]string{"job": "x"}, want: `label name "job" is reserved`},
		{name: "le", labels: map[string]string{"le": "1"}, want: `label name "le" is reserved`},
		{name: "invalid UTF-8", labels: map[string]string{"a": "\xff"}, want: "not valid UTF-8"},
		{name: "long value", labels: map[string]string{"a": strings.Repeat("v", maxLabelValueLength+1)}, want: "bytes long"},
		{name: "too many", labels: many, want: "at most 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, err := checkLabels(tt.labels)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid labels rejected: %v", err)
				}
				if len(names) != len(tt.labels) {
					t.Errorf("names %v, want %d names", names, len(tt.labels))
				}
				return
			}
			wantCode(t, err, codeInvalidArgument, tt.want)
		})
	}
}

func TestCheckBuckets(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		want    string
	}{
		{name: "increasing", buckets: []float64{0.1, 0.5, 1}},
		{name: "negative bounds", buckets: []float64{-1, 0, 1}},
		{name: "equal", buckets: []float64{0.1, 0.1}, want: "increase strictly: 0.1 follows 0.1"},
		{name: "decreasing", buckets: []float64{1, 0.5}, want: "0.5 follows 1"},
		{name: "infinite", buckets: []float64{1, math.Inf(1)}, want: "+Inf is always added"},
		{name: "too many", buckets: make([]float64, maxBuckets+1), want: "at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkBuckets(tt.buckets)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid buckets rejected: %v", err)
				}
				return
			}
			wantCode(t, err, codeInvalidArgument, tt.want)
		})
	}
}
