package anomaly

import (
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// ingest adds points to their metrics' models. The whole call is checked
// before any point is added, and the models are stored before they replace
// the ones in memory, so a failed call changes nothing.
func (c *call) ingest(req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	var in struct {
		IngestParams
		Points []pointInput `json:"points"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	params := in.IngestParams
	points, err := pointsFromInput(in.Points)
	if err != nil {
		return nil, err
	}
	params.Points = points
	policy, err := csvio.ParseOutOfOrder(params.OutOfOrder)
	if err != nil {
		return nil, &opError{code: codeInvalid, msg: err.Error()}
	}
	if err := checkPointCount(len(params.Points)); err != nil {
		return nil, err
	}
	models, order, err := c.stageModels(params)
	if err != nil {
		return nil, err
	}
	keep, dropped, err := checkOrder(params, models, policy)
	if err != nil {
		return nil, err
	}

	result := IngestResult{Dropped: dropped, Metrics: map[string]int64{}, TotalSamples: map[string]int64{}, Anomalies: []detect.Anomaly{}}
	for _, name := range order {
		result.Metrics[name] = 0
	}
	for i, pt := range params.Points {
		if !keep[i] {
			continue
		}
		name := pointMetric(pt, params)
		res := models[name].Observe(pt.Timestamp.Time, pt.Value, params.Context)
		result.Ingested++
		result.Metrics[name]++
		if res.IsAnomaly {
			result.Anomalies = append(result.Anomalies, *res.Anomaly)
		}
	}
	staged := make([]*detect.Model, 0, len(order))
	for _, name := range order {
		staged = append(staged, models[name])
		result.TotalSamples[name] = models[name].Samples()
	}
	if err := c.save(staged); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("ingested %s into %s, %s", countOf(result.Ingested, "point", "points"),
		countOf(len(order), "metric", "metrics"), countOf(len(result.Anomalies), "anomaly", "anomalies"))
	if dropped > 0 {
		msg += ", dropped " + countOf(dropped, "out-of-order point", "out-of-order points")
	}
	return sdk.OK(msg, result), nil
}

func checkPointCount(n int) error {
	switch {
	case n == 0:
		return &opError{code: codeInvalid, msg: "missing points: send at least one {\"timestamp\", \"value\"} point"}
	case n > maxPointsPerCall:
		return &opError{code: codeInvalid, msg: fmt.Sprintf("%d points in one call, at most %d: split them into batches", n, maxPointsPerCall)}
	}
	return nil
}

// pointInput is a point as sent. Its pointers tell a missing or null
// timestamp or value from a zero one.
type pointInput struct {
	Metric    string     `json:"metric,omitempty"`
	Timestamp *Timestamp `json:"timestamp"`
	Value     *float64   `json:"value"`
}

// pointsFromInput converts the points of a call. A point without a
// timestamp or a value, null counting as missing, fails the call.
func pointsFromInput(in []pointInput) ([]PointParam, error) {
	out := make([]PointParam, len(in))
	for i, p := range in {
		switch {
		case p.Timestamp == nil && p.Value == nil:
			return nil, pointError(codeInvalidPoint, i, "missing timestamp and value",
				`give every point both, such as {"timestamp": "2026-01-05T10:00:00Z", "value": 12.5}`)
		case p.Timestamp == nil:
			return nil, pointError(codeInvalidPoint, i, "missing timestamp",
				`give every point a "timestamp": an RFC 3339 string or a number of Unix seconds (null counts as missing)`)
		case p.Value == nil:
			return nil, pointError(codeInvalidPoint, i, "missing value",
				`give every point a "value": a finite number such as 12.5 (null counts as missing)`)
		}
		out[i] = PointParam{Metric: p.Metric, Timestamp: *p.Timestamp, Value: *p.Value}
	}
	return out, nil
}

func pointMetric(pt PointParam, params IngestParams) string {
	if pt.Metric != "" {
		return pt.Metric
	}
	return params.Metric
}

// stageModels checks every point's metric name and value, and returns a
// copy of each metric's model (a new model for a new metric) to ingest
// into, with the metrics in order of first appearance.
func (c *call) stageModels(params IngestParams) (map[string]*detect.Model, []string, error) {
	models := map[string]*detect.Model{}
	var order []string
	for i, pt := range params.Points {
		name := pointMetric(pt, params)
		if err := validMetricName(name); err != nil {
			fix := ""
			if name == "" {
				fix = `set "metric" on the call or on the point`
			}
			return nil, nil, pointError(codeInvalidPoint, i, err.Error(), fix)
		}
		if err := checkValue(pt.Value); err != nil {
			return nil, nil, pointError(codeInvalidPoint, i, fmt.Sprintf("metric %q: %v", name, err), "")
		}
		if models[name] != nil {
			continue
		}
		m, found, err := c.model(name)
		if err != nil {
			return nil, nil, err
		}
		if found {
			m = m.Clone()
		} else if m, err = c.newModel(name, countNew(c.t, order)); err != nil {
			return nil, nil, err
		}
		models[name] = m
		order = append(order, name)
	}
	return models, order, nil
}

// countNew returns how many of the staged metrics are not yet known.
func countNew(t *tenant, staged []string) int {
	n := 0
	for _, name := range staged {
		if t.names == nil || !t.names[name] {
			n++
		}
	}
	return n
}

func checkValue(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("invalid value %v: NaN and infinite values are not accepted", v)
	}
	return nil
}

// checkOrder marks the points to add. A point earlier than the newest
// point of its metric (stored or earlier in the call) is an error under
// the reject policy. The drop policy skips it, and also a point at the
// newest stored point's time, so that points sent again are not added
// twice.
func checkOrder(params IngestParams, models map[string]*detect.Model, policy csvio.OutOfOrder) ([]bool, int, error) {
	newest := map[string]time.Time{}
	for name, m := range models {
		if m.Samples() > 0 {
			newest[name] = m.Newest()
		}
	}
	stored := maps.Clone(newest)
	keep := make([]bool, len(params.Points))
	dropped := 0
	for i, pt := range params.Points {
		name := pointMetric(pt, params)
		last, seen := newest[name]
		storedNewest, hasStored := stored[name]
		if policy == csvio.DropOutOfOrder && ((hasStored && !pt.Timestamp.After(storedNewest)) || (seen && pt.Timestamp.Before(last))) {
			dropped++
			continue
		}
		if seen && pt.Timestamp.Before(last) {
			return nil, 0, &opError{code: codeOutOfOrder, msg: fmt.Sprintf(
				"point %d (metric %q): timestamp %s is earlier than the metric's newest point %s: send points in time order or set out_of_order to drop",
				i, name, pt.Timestamp.UTC().Format(time.RFC3339Nano), last.UTC().Format(time.RFC3339Nano))}
		}
		newest[name] = pt.Timestamp.Time
		keep[i] = true
	}
	return keep, dropped, nil
}
