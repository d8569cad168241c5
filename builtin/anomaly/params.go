package anomaly

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

// Operations selected by the "operation" parameter.
const (
	OpIngest           = "ingest"
	OpUpdateBaseline   = "update_baseline"
	OpDetect           = "detect"
	OpDetectWindow     = "detect_window"
	OpDetectCollective = "detect_collective"
	OpListMetrics      = "list_metrics"
	OpClearMetrics     = "clear_metrics"
	OpScan             = "scan"
)

// Timestamp is a point's time. In JSON it is a string in RFC 3339, in
// "2006-01-02 15:04:05" (UTC) or in Unix seconds, or a number of Unix
// seconds, from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z. It is written
// as RFC 3339 with nanoseconds.
type Timestamp struct {
	time.Time
}

// UnmarshalJSON accepts the forms listed on Timestamp. Its errors start
// with the rejected JSON value.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		parsed, err := csvio.ParseTimestamp(s)
		if err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
		t.Time = parsed
		return nil
	}
	secs, err := strconv.ParseFloat(string(data), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%s: invalid timestamp: use an RFC 3339 string or a number of Unix seconds", data)
	}
	parsed, err := csvio.UnixSeconds(secs)
	if err != nil {
		return fmt.Errorf("%s: %w", data, err)
	}
	t.Time = parsed
	return nil
}

// MarshalJSON writes RFC 3339 with nanoseconds.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// PointParam is one point in ingest and scan parameters.
type PointParam struct {
	// Metric overrides the call's metric for this point (ingest only).
	Metric string `json:"metric,omitempty"`
	// Timestamp is the point's own time.
	Timestamp Timestamp `json:"timestamp"`
	// Value must be finite.
	Value float64 `json:"value"`
}

// IngestParams are the parameters of the ingest operation.
type IngestParams struct {
	Operation string `json:"operation"`
	// Metric is the metric of points that name none.
	Metric string `json:"metric,omitempty"`
	// Points are added in order; each metric's points must not go back in
	// time, also against the metric's newest stored point.
	Points []PointParam `json:"points"`
	// OutOfOrder is "reject" (the default: the call fails and nothing is
	// added) or "drop" (such points are skipped and counted).
	OutOfOrder string `json:"out_of_order,omitempty"`
	// Context is copied into every anomaly the points raise.
	Context map[string]string `json:"context,omitempty"`
}

// IngestResult is the data of a successful ingest.
type IngestResult struct {
	// Ingested and Dropped count the points added and skipped.
	Ingested int `json:"ingested"`
	Dropped  int `json:"dropped"`
	// Metrics maps each metric of the call to the number of points the
	// call added to it.
	Metrics map[string]int64 `json:"metrics"`
	// TotalSamples maps each metric of the call to its number of points
	// after the call.
	TotalSamples map[string]int64 `json:"total_samples"`
	// Anomalies are those the points raised, in point order.
	Anomalies []detect.Anomaly `json:"anomalies"`
}

// MetricParams are the parameters of update_baseline.
type MetricParams struct {
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
}

// BaselineResult is the data of update_baseline.
type BaselineResult struct {
	Metric   string          `json:"metric"`
	Baseline detect.Baseline `json:"baseline"`
}

// DetectParams are the parameters of detect.
type DetectParams struct {
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	// Value is checked against the metric's baseline; it is not added.
	Value *float64 `json:"value"`
	// Timestamp selects the seasonal phase; absent means the metric's
	// newest point's timestamp.
	Timestamp *Timestamp        `json:"timestamp,omitempty"`
	Context   map[string]string `json:"context,omitempty"`
}

// DetectWindowParams are the parameters of detect_window.
type DetectWindowParams struct {
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	// Lookback is a Go duration such as "15m", counted back from the
	// metric's newest point.
	Lookback string            `json:"lookback"`
	Context  map[string]string `json:"context,omitempty"`
}

// DetectCollectiveParams are the parameters of detect_collective.
type DetectCollectiveParams struct {
	Operation string `json:"operation"`
	// Metrics lists at least two metrics; absent means all of the tenant's.
	Metrics []string `json:"metrics,omitempty"`
	// Lookback is a Go duration counted back from the newest point of the
	// metrics.
	Lookback string `json:"lookback"`
	// Bucket is a Go duration; default "1m".
	Bucket string `json:"bucket,omitempty"`
	// MinMetrics is the number of distinct metrics that must be anomalous in
	// a bucket; default 2.
	MinMetrics int               `json:"min_metrics,omitempty"`
	Context    map[string]string `json:"context,omitempty"`
}

// CollectiveResult is the data of detect_collective.
type CollectiveResult struct {
	Metrics   []string         `json:"metrics"`
	Anomalies []detect.Anomaly `json:"anomalies"`
}

// ListMetricsParams are the parameters of list_metrics.
type ListMetricsParams struct {
	Operation string `json:"operation"`
}

// MetricInfo describes one metric in list_metrics.
type MetricInfo struct {
	Name    string    `json:"name"`
	Samples int64     `json:"samples"`
	Newest  time.Time `json:"newest,omitzero"`
	Ready   bool      `json:"baseline_ready"`
	// Base is the current baseline; nil, and absent in JSON, until the
	// metric has min_baseline_samples points.
	Base *detect.Baseline `json:"baseline,omitempty"`
}

// ListMetricsResult is the data of list_metrics.
type ListMetricsResult struct {
	Metrics []MetricInfo `json:"metrics"`
}

// ClearMetricsParams are the parameters of clear_metrics. Exactly one of
// Metrics and All must be set.
type ClearMetricsParams struct {
	Operation string   `json:"operation"`
	Metrics   []string `json:"metrics,omitempty"`
	All       bool     `json:"all,omitempty"`
}

// ClearMetricsResult is the data of clear_metrics.
type ClearMetricsResult struct {
	Cleared []string `json:"cleared"`
}

// ScanParams are the parameters of scan, which scores a stream of points
// sent in batches without touching stored metrics until it commits.
type ScanParams struct {
	Operation string `json:"operation"`
	// Metric names the stored metric the scan starts from and, on commit,
	// replaces. Absent means a scan from an empty model that is never
	// stored.
	Metric string `json:"metric,omitempty"`
	// Name labels the anomalies of a scan without a metric, for example
	// with the scanned file's base name. Absent means "unnamed-scan". It is
	// read when the scan starts. A scan with a metric is named by it.
	Name string `json:"name,omitempty"`
	// SessionID continues a scan; absent starts one. The result carries the
	// id to send with the next batch.
	SessionID string `json:"session_id,omitempty"`
	// Points are scored in order after the session's earlier points and
	// the metric's stored points.
	Points []PointParam `json:"points"`
	// OutOfOrder is "reject" (the default: a point earlier than the one
	// before it fails the call) or "drop" (such points are skipped and
	// counted).
	OutOfOrder string `json:"out_of_order,omitempty"`
	// Commit ends the scan after this batch and, with Metric, stores the
	// scanned model as that metric.
	Commit bool `json:"commit,omitempty"`
	// Abort ends the scan without storing anything; Points must be empty.
	Abort   bool              `json:"abort,omitempty"`
	Context map[string]string `json:"context,omitempty"`
}

// ScanResult is the data of scan.
type ScanResult struct {
	// SessionID is the id to continue the scan with; empty once it ended.
	SessionID string `json:"session_id,omitempty"`
	// Results holds one entry per point of the batch, in order; a point
	// skipped as out of order has Dropped set.
	Results []csvio.Result `json:"results"`
	// Anomalies describes the points whose IsAnomaly is true, in order.
	Anomalies []detect.Anomaly `json:"anomalies"`
	// Dropped counts the points of the batch skipped as out of order.
	Dropped int `json:"dropped"`
	// Committed is set when the scan ended with a commit.
	Committed bool `json:"committed"`
}
