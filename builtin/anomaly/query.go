package anomaly

import (
	"fmt"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// updateBaseline refreshes a metric's baseline now and stores the model.
func (c *call) updateBaseline(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var params MetricParams
	if err := decode(req, &params); err != nil {
		return nil, err
	}
	m, err := c.existing(params.Metric)
	if err != nil {
		return nil, err
	}
	staged := m.Clone()
	b, err := staged.UpdateBaseline()
	if err != nil {
		return nil, err
	}
	if err := c.save([]*detect.Model{staged}); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("baseline of %s updated from %s: center %s, scale %s", params.Metric,
		countOf(b.Samples, "point", "points"), formatNumber(b.Center), formatNumber(b.Scale))
	return sdk.OK(msg, BaselineResult{Metric: params.Metric, Baseline: b}), nil
}

// detect checks one value against a metric's baseline without adding it.
func (c *call) detect(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var params DetectParams
	if err := decode(req, &params); err != nil {
		return nil, err
	}
	if params.Value == nil {
		return nil, &opError{code: codeInvalid, msg: "missing value: detect checks one value, for example {\"value\": 12.5}"}
	}
	if err := checkValue(*params.Value); err != nil {
		return nil, &opError{code: codeInvalid, msg: err.Error()}
	}
	m, err := c.existing(params.Metric)
	if err != nil {
		return nil, err
	}
	ts := m.Newest()
	if params.Timestamp != nil {
		ts = params.Timestamp.Time
	}
	d, err := m.DetectValue(ts, *params.Value, params.Context)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("%s value %s is within the expected range %s to %s", params.Metric,
		formatNumber(d.Value), formatNumber(d.Expected.Lower), formatNumber(d.Expected.Upper))
	if d.IsAnomaly {
		msg = d.Anomaly.Message
	}
	return sdk.OK(msg, d), nil
}

// detectWindow checks a metric's retained points of a look-back.
func (c *call) detectWindow(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var params DetectWindowParams
	if err := decode(req, &params); err != nil {
		return nil, err
	}
	lookback, err := parseDuration("lookback", params.Lookback, "")
	if err != nil {
		return nil, err
	}
	m, err := c.existing(params.Metric)
	if err != nil {
		return nil, err
	}
	r, err := m.DetectWindow(lookback, params.Context)
	if err != nil {
		return nil, err
	}
	if r.Anomalies == nil {
		r.Anomalies = []detect.Anomaly{}
	}
	msg := fmt.Sprintf("%s in %s of %s from %s to %s", countOf(len(r.Anomalies), "anomaly", "anomalies"),
		countOf(r.Points, "point", "points"), params.Metric, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	if r.Truncated {
		msg += " (the look-back reaches past the retained points)"
	}
	return sdk.OK(msg, r), nil
}

// detectCollective looks for time buckets where several metrics are
// anomalous together.
func (c *call) detectCollective(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var params DetectCollectiveParams
	if err := decode(req, &params); err != nil {
		return nil, err
	}
	lookback, err := parseDuration("lookback", params.Lookback, "")
	if err != nil {
		return nil, err
	}
	bucket, err := parseDuration("bucket", params.Bucket, "1m")
	if err != nil {
		return nil, err
	}

	names := params.Metrics
	if len(names) == 0 {
		if names, err = c.sortedNames(); err != nil {
			return nil, err
		}
	}
	models := make([]*detect.Model, 0, len(names))
	for _, name := range names {
		m, err := c.existing(name)
		if err != nil {
			return nil, err
		}
		models = append(models, m)
	}

	minMetrics := params.MinMetrics
	if minMetrics == 0 {
		minMetrics = 2
	}
	found, err := detect.DetectCollective(models, detect.CollectiveOptions{
		Lookback: lookback, Bucket: bucket, MinMetrics: minMetrics, Context: params.Context,
	})
	if err != nil {
		return nil, &opError{code: codeInvalid, msg: err.Error()}
	}
	if found == nil {
		found = []detect.Anomaly{}
	}
	if names == nil {
		names = []string{}
	}
	msg := fmt.Sprintf("%s across %s", countOf(len(found), "collective anomaly", "collective anomalies"),
		countOf(len(models), "metric", "metrics"))
	return sdk.OK(msg, CollectiveResult{Metrics: names, Anomalies: found}), nil
}

// parseDuration parses a Go duration parameter, using def when it is empty.
func parseDuration(name, value, def string) (time.Duration, error) {
	if value == "" {
		value = def
	}
	if value == "" {
		return 0, &opError{code: codeInvalid, msg: fmt.Sprintf("missing %s: give a duration such as \"15m\"", name)}
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, &opError{code: codeInvalid, msg: fmt.Sprintf("invalid %s %q: give a positive duration such as \"15m\"", name, value)}
	}
	return d, nil
}
