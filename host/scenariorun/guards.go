package scenariorun

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariostore"
)

// guardState is a guard with its count of consecutive breaches.
type guardState struct {
	name     string
	guard    *scenario.Guard
	breaches int
	// outOfOrderReported is set once the journal records that the
	// detector rejected a value as older than its model's newest point.
	outOfOrderReported bool
}

// detectedAnomaly is the part of an anomaly-detector anomaly a guard uses.
type detectedAnomaly struct {
	Type     string  `json:"type"`
	Severity string  `json:"severity"`
	Score    float64 `json:"anomaly_score"`
	Value    float64 `json:"value"`
	Message  string  `json:"message"`
}

// anomalyCallTimeout bounds one call to the anomaly detector.
const anomalyCallTimeout = 10 * time.Second

// evaluateGuards journals each probe value and checks the guards on its
// metric, one value at a time, until values is closed.
func (e *execution) evaluateGuards(ctx context.Context, values <-chan probeValue) {
	byMetric := map[string][]*guardState{}
	for i := range e.def.Guards {
		g := &e.def.Guards[i]
		name := g.Name
		if name == "" {
			name = "guards/" + strconv.Itoa(i)
		}
		byMetric[g.Metric] = append(byMetric[g.Metric], &guardState{name: name, guard: g})
	}
	e.resetBaselines(ctx)
	for v := range values {
		if ctx.Err() != nil {
			continue // drain, so that no probe blocks
		}
		value := v.value
		e.record(scenariostore.Event{Type: scenariostore.EventProbeValue, Probe: v.probe, Metric: v.metric, Value: &value})
		for _, gs := range byMetric[v.metric] {
			if ctx.Err() != nil {
				break
			}
			if reason := e.check(ctx, gs, v); reason != "" {
				e.record(scenariostore.Event{Type: scenariostore.EventGuardFired, Guard: gs.name, Metric: v.metric, Value: &value, Reason: reason})
				e.abort(scenariostore.VerdictAborted, fmt.Sprintf("guard %s fired: %s", gs.name, reason))
			}
		}
	}
}

// check returns why the guard fires on v, or "".
func (e *execution) check(ctx context.Context, gs *guardState, v probeValue) string {
	if t := gs.guard.Threshold; t != nil {
		breach := ""
		switch {
		case t.Above != nil && v.value > *t.Above:
			breach = fmt.Sprintf("%s is %g, above %g", v.metric, v.value, *t.Above)
		case t.Below != nil && v.value < *t.Below:
			breach = fmt.Sprintf("%s is %g, below %g", v.metric, v.value, *t.Below)
		}
		if breach == "" {
			gs.breaches = 0
			return ""
		}
		gs.breaches++
		need := max(t.Consecutive, 1)
		if gs.breaches < need {
			return ""
		}
		if need > 1 {
			breach += fmt.Sprintf(" for %d values in a row", need)
		}
		return breach
	}
	return e.checkAnomaly(ctx, gs, v)
}

// checkAnomaly feeds v to the anomaly detector and returns why the guard
// fires, or "". Every anomaly reported is journaled.
func (e *execution) checkAnomaly(ctx context.Context, gs *guardState, v probeValue) string {
	a := gs.guard.Anomaly
	params, _ := json.Marshal(map[string]any{
		"operation":    "ingest",
		"metric":       e.detectorMetric(gs.guard),
		"points":       []map[string]any{{"timestamp": v.at.UTC().Format(time.RFC3339Nano), "value": v.value}},
		"out_of_order": "reject",
		"context":      map[string]string{"scenario": e.rec.Scenario, "execution": e.rec.ID, "guard": gs.name},
	})
	out := e.o.call(ctx, e, AnomalyPluginID, params, anomalyCallTimeout, true)
	if !out.success {
		e.recordIngestFailure(ctx, gs, v, out)
		return ""
	}
	var result struct {
		Anomalies []detectedAnomaly `json:"anomalies"`
	}
	if err := json.Unmarshal(out.data, &result); err != nil {
		e.record(scenariostore.Event{Type: scenariostore.EventProbeFailed, Guard: gs.name, Metric: v.metric, Plugin: AnomalyPluginID, Error: "decode ingest result: " + err.Error()})
		return ""
	}
	fired := ""
	for _, an := range result.Anomalies {
		value, score := an.Value, an.Score
		e.record(scenariostore.Event{Type: scenariostore.EventAnomaly, Guard: gs.name, Metric: v.metric, Value: &value,
			Severity: an.Severity, Score: &score, Message: an.Message, PluginVersion: out.version})
		if fired == "" && scenario.SeverityRank(an.Severity) >= scenario.SeverityRank(a.Severity) && an.Score >= a.MinScore {
			fired = fmt.Sprintf("%s anomaly of severity %s (score %.2f) on %s at value %g, at or above %s", an.Type, an.Severity, an.Score, v.metric, an.Value, a.Severity)
		}
	}
	return fired
}

// anomalyOutOfOrder is the anomaly detector's error code for a point older
// than the newest point of its metric.
const anomalyOutOfOrder = "out_of_order"

// recordIngestFailure journals a failed ingest of a guard's value. Values
// that the detector rejects as out of order are journaled once per guard,
// with the fix. Probe times never go back while the daemon runs, so the
// model's newer points come from before a restart on a clock that was
// ahead.
func (e *execution) recordIngestFailure(ctx context.Context, gs *guardState, v probeValue, out callOutcome) {
	if ctx.Err() != nil {
		return
	}
	msg := out.reason()
	if out.errCode == anomalyOutOfOrder {
		if gs.outOfOrderReported {
			return
		}
		gs.outOfOrderReported = true
		msg = fmt.Sprintf("%s; the detector's model of %s holds points later than the daemon's clock, as after the clock stepped back: this guard sees no values until the clock passes them. Set reset_baseline: true on guard %s, or clear the metric with the anomaly detector's clear_metrics operation",
			msg, e.detectorMetric(gs.guard), gs.name)
	}
	e.record(scenariostore.Event{Type: scenariostore.EventProbeFailed, Guard: gs.name, Metric: v.metric, Plugin: AnomalyPluginID, Error: msg})
}

// detectorMetric returns the guard's metric name in the anomaly detector.
func (e *execution) detectorMetric(g *scenario.Guard) string {
	if g.Anomaly.DetectorMetric != "" {
		return g.Anomaly.DetectorMetric
	}
	return "scenario." + e.rec.Scenario + "." + g.Metric
}

// anomalyNotFound is the anomaly detector's error code for a metric it
// has no model of.
const anomalyNotFound = "not_found"

// resetBaselines clears the detector's models of the anomaly guards that
// ask for a fresh baseline. It clears each metric in its own call, because
// the detector clears nothing when one metric of a call is unknown. A
// metric the detector does not know, as in the first execution, has no
// baseline to clear, so its not_found is no failure.
func (e *execution) resetBaselines(ctx context.Context) {
	var metrics []string
	for i := range e.def.Guards {
		g := &e.def.Guards[i]
		if g.Anomaly == nil || !g.Anomaly.ResetBaseline {
			continue
		}
		if metric := e.detectorMetric(g); !slices.Contains(metrics, metric) {
			metrics = append(metrics, metric)
		}
	}
	for _, metric := range metrics {
		params, _ := json.Marshal(map[string]any{"operation": "clear_metrics", "metrics": []string{metric}})
		out := e.o.call(ctx, e, AnomalyPluginID, params, anomalyCallTimeout, true)
		if out.success || out.errCode == anomalyNotFound || ctx.Err() != nil {
			continue
		}
		e.record(scenariostore.Event{Type: scenariostore.EventProbeFailed, Plugin: AnomalyPluginID,
			Error: fmt.Sprintf("reset the baseline of %s: %s", metric, out.reason())})
	}
}
