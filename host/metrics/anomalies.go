package metrics

import (
	"encoding/json"
	"regexp"
	"slices"
	"sync"
)

// anomalyPluginID is the id of the built-in anomaly detector, whose results
// the daemon reads to count anomalies.
const anomalyPluginID = "anomaly-detector"

// maxAnomalyMetrics caps the distinct values of the metric label of
// mockforged_anomalies_detected_total. The first names seen since the daemon
// started keep their own value; later ones count as "_other".
const maxAnomalyMetrics = 100

// anomalyMetricPattern is the form a metric name must have to become a
// label value. It follows the Prometheus metric name rules, but allows '.'
// and '-' because the anomaly detector's examples use names like
// "checkout.latency_ms". A name starts with a letter, so that it never
// equals "_other", and has at most 128 bytes.
var anomalyMetricPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]{0,127}$`)

// Severities and types of the anomaly detector; other values count as
// "_other".
var (
	anomalySeverities = []string{"low", "medium", "high", "critical"}
	anomalyTypes      = []string{"statistical_outlier", "trend_anomaly", "seasonal_anomaly", "collective_anomaly"}
)

// anomaly is the part of an anomaly in the detector's results that the
// metrics read.
type anomaly struct {
	Metric   string `json:"metric"`
	Severity string `json:"severity"`
	Type     string `json:"type"`
}

// anomalyResult matches the data of the detector's operations: ingest,
// scan, detect_window and detect_collective return "anomalies", and detect
// returns "anomaly" when the value is anomalous.
type anomalyResult struct {
	Anomalies []anomaly `json:"anomalies"`
	Anomaly   *anomaly  `json:"anomaly"`
}

// countAnomalies counts the anomalies in the data of a successful call to
// the anomaly detector. Data of another shape counts nothing.
func (m *Metrics) countAnomalies(data []byte) {
	if len(data) == 0 {
		return
	}
	var res anomalyResult
	if err := json.Unmarshal(data, &res); err != nil {
		return
	}
	if res.Anomaly != nil {
		res.Anomalies = append(res.Anomalies, *res.Anomaly)
	}
	for _, a := range res.Anomalies {
		metric := otherLabel
		if anomalyMetricPattern.MatchString(a.Metric) {
			metric = m.anomalyMetrics.label(a.Metric)
		}
		m.anomalies.WithLabelValues(metric, oneOf(a.Severity, anomalySeverities), oneOf(a.Type, anomalyTypes)).Inc()
	}
}

func oneOf(value string, allowed []string) string {
	if slices.Contains(allowed, value) {
		return value
	}
	return otherLabel
}

// boundedValues admits the first max distinct values and maps every later
// one to "_other".
type boundedValues struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func newBoundedValues(max int) *boundedValues {
	return &boundedValues{max: max, seen: map[string]bool{}}
}

func (b *boundedValues) label(value string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[value] {
		return value
	}
	if len(b.seen) >= b.max {
		return otherLabel
	}
	b.seen[value] = true
	return value
}
