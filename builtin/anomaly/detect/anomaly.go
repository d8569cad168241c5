package detect

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

// Type is the kind of an anomaly.
type Type string

// Anomaly types.
const (
	// TypeStatistical is a value far from the metric's baseline.
	TypeStatistical Type = "statistical_outlier"
	// TypeTrend is a sustained shift of the moving average; it is reported
	// once per shift, at the point where the shift is detected.
	TypeTrend Type = "trend_anomaly"
	// TypeSeasonal is a value far from the baseline of its phase of the
	// season, such as a peak at an hour that is normally quiet.
	TypeSeasonal Type = "seasonal_anomaly"
	// TypeCollective is several metrics anomalous in the same time bucket.
	TypeCollective Type = "collective_anomaly"
)

// Statistics that an anomaly can report besides the observed value.
const (
	// StatisticMovingAverage is the mean of the last moving_average_window
	// points, which a trend anomaly tests.
	StatisticMovingAverage = "moving_average"
	// StatisticMeanAbsoluteChange is the short-run mean absolute change
	// between consecutive points, which a change of volatility tests.
	StatisticMeanAbsoluteChange = "mean_absolute_change"
	// StatisticLevelCUSUM is the cumulative sum of the points' z-scores
	// against the baseline since the shift started, in standard deviations:
	// positive above the baseline, negative below. A level shift record
	// tests it against the largest sum the metric has had, on either side.
	StatisticLevelCUSUM = "level_cusum"
	// StatisticVolatilityCUSUM is the same sum of the volatility's
	// z-scores: positive when values change from point to point more than
	// usual, negative when less. A volatility shift record tests it.
	StatisticVolatilityCUSUM = "volatility_cusum"
	// StatisticRecentScore is the calibrated score of the last 8 points
	// (the anomaly's anomaly_score). An anomaly raised by the score without
	// an out-of-range value tests it against 0 to the level at which such
	// a score is anomalous.
	StatisticRecentScore = "recent_score"
)

// Severity grades an anomaly.
type Severity string

// Severities, from least to most severe.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// SeverityFor grades a point anomaly by its deviation d, in standard
// deviations, against the effective threshold k:
//
//	d < 1.5k       low
//	1.5k <= d < 2k medium
//	2k <= d < 3k   high
//	d >= 3k        critical
//
// With the default k = 3 the boundaries are 4.5, 6 and 9 standard deviations.
func SeverityFor(deviation, k float64) Severity {
	switch {
	case deviation >= 3*k:
		return SeverityCritical
	case deviation >= 2*k:
		return SeverityHigh
	case deviation >= 1.5*k:
		return SeverityMedium
	}
	return SeverityLow
}

// CollectiveSeverityFor grades a collective anomaly by the share of the
// checked metrics that are anomalous in the bucket:
//
//	share < 0.25        low
//	0.25 <= share < 0.5 medium
//	0.5 <= share < 0.75 high
//	share >= 0.75       critical
func CollectiveSeverityFor(share float64) Severity {
	switch {
	case share >= 0.75:
		return SeverityCritical
	case share >= 0.5:
		return SeverityHigh
	case share >= 0.25:
		return SeverityMedium
	}
	return SeverityLow
}

// Range is an inclusive interval of expected values.
type Range struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Anomaly is one detected anomaly.
type Anomaly struct {
	// ID is unique within the process, even for anomalies of the same
	// millisecond.
	ID string `json:"id"`
	// Metric is the metric's name; for a collective anomaly, the metrics
	// involved joined by commas.
	Metric string `json:"metric"`
	// Timestamp is the anomalous point's own timestamp; for a collective
	// anomaly, the start of the bucket.
	Timestamp time.Time `json:"timestamp"`
	// Start is the first point of a trend shift, or the bucket's start for a
	// collective anomaly; zero for other types.
	Start time.Time `json:"start,omitzero"`
	// Value is the observed value of the point (for a collective anomaly,
	// the number of anomalous metrics).
	Value float64 `json:"value"`
	// Statistic names the statistic that Expected describes when it is
	// not Value itself: one of the Statistic constants. Empty when Value
	// was tested.
	Statistic string `json:"statistic,omitempty"`
	// StatisticValue is the value of Statistic at the point; nil when
	// Statistic is empty.
	StatisticValue *float64 `json:"statistic_value,omitempty"`
	// Expected is the range that Value, or Statistic when it is set, was
	// tested against.
	Expected Range `json:"expected_range"`
	// Deviation is the distance from the baseline in standard deviations of
	// the tested statistic, capped at MaxDeviation. For a level shift record
	// it is the moving average's distance from the baseline's center, and
	// for a volatility shift record the mean absolute change's distance from
	// its usual level. Either sets the record's severity. For a collective
	// anomaly it is the share of metrics.
	Deviation float64 `json:"deviation_score"`
	// Score is the calibrated anomaly score of the point, in [0, 1].
	Score    float64  `json:"anomaly_score"`
	Severity Severity `json:"severity"`
	Type     Type     `json:"type"`
	// Message is a one-line summary for humans.
	Message string `json:"message"`
	// Context is the caller's context, copied unchanged; empty when the
	// caller gave none.
	Context map[string]string `json:"context"`
	// Metrics lists the metrics of a collective anomaly.
	Metrics []string `json:"metrics,omitempty"`
	// levelSide is the side (+1 above, -1 below) of the level shift that
	// the anomaly reports as a trend, or 0 when it reports none. It is
	// kept apart from Statistic, which a score-only anomaly sets to its
	// score.
	levelSide int
}

// idPrefix makes ids from different processes differ; idCounter makes them
// unique within one.
var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return hex.EncodeToString(b[:])
}

// NewID returns a new anomaly id: a per-process random prefix and a counter.
func NewID() string {
	return "anm-" + idPrefix + "-" + strconv.FormatUint(idCounter.Add(1), 10)
}
