package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// ExecuteFunc sends one call with the given parameters to the
// anomaly-detector plugin, for example through the daemon, and returns the
// plugin's result. An error means no result was obtained.
type ExecuteFunc func(ctx context.Context, params json.RawMessage) (*sdk.ExecuteResult, error)

// RemoteScorer is a csvio.Scorer that sends each batch to the plugin's scan
// operation, so that a CSV is scored in a few calls rather than one per
// row. With a metric, Commit stores the scanned model as that metric;
// without, nothing is stored.
type RemoteScorer struct {
	exec    ExecuteFunc
	metric  string
	session string
	// Context is copied into every anomaly of the scan.
	Context map[string]string
	// Name labels the anomalies of a scan without a metric, such as the
	// scanned file's base name; see ScanParams.Name.
	Name string
	// OutOfOrder is the policy for rows older than the stored metric's
	// newest point; under DropOutOfOrder their results have Dropped set.
	OutOfOrder csvio.OutOfOrder
	// Anomalies collects the anomalies of every batch.
	Anomalies []detect.Anomaly
}

var _ csvio.Scorer = (*RemoteScorer)(nil)

// NewRemoteScorer returns a scorer for a scan of metric ("" for none)
// through exec.
func NewRemoteScorer(exec ExecuteFunc, metric string) *RemoteScorer {
	return &RemoteScorer{exec: exec, metric: metric}
}

// Score sends rows as one scan batch. An error about one point is a
// *csvio.LineError that names the point's line.
func (r *RemoteScorer) Score(ctx context.Context, rows []csvio.Row) ([]csvio.Result, error) {
	points := make([]PointParam, len(rows))
	for i, row := range rows {
		points[i] = PointParam{Timestamp: Timestamp{row.Timestamp}, Value: row.Value}
	}
	params := ScanParams{Operation: OpScan, Metric: r.metric, SessionID: r.session, Points: points, Context: r.Context}
	if r.metric == "" && r.session == "" {
		params.Name = r.Name
	}
	if r.OutOfOrder != csvio.RejectOutOfOrder {
		params.OutOfOrder = r.OutOfOrder.String()
	}
	out, err := r.call(ctx, params)
	if err != nil {
		return nil, r.lineError(rows, err)
	}
	if len(out.Results) != len(rows) {
		return nil, fmt.Errorf("%s returned %d results for %d rows", PluginID, len(out.Results), len(rows))
	}
	r.session = out.SessionID
	r.Anomalies = append(r.Anomalies, out.Anomalies...)
	attachAnomalies(out.Results, out.Anomalies)
	return out.Results, nil
}

// attachAnomalies gives each anomalous result its anomaly; both are in
// point order.
func attachAnomalies(results []csvio.Result, anomalies []detect.Anomaly) {
	next := 0
	for i := range results {
		if results[i].IsAnomaly && next < len(anomalies) {
			results[i].Anomaly = &anomalies[next]
			next++
		}
	}
}

// lineError turns a failed call about one point into a *csvio.LineError
// on that point's line. Other errors are returned as they are.
func (r *RemoteScorer) lineError(rows []csvio.Row, err error) error {
	var ce *CallError
	if !errors.As(err, &ce) || len(ce.Details) == 0 {
		return err
	}
	var d PointErrorDetails
	if json.Unmarshal(ce.Details, &d) != nil || d.Point < 0 || d.Point >= len(rows) || d.Reason == "" {
		return err
	}
	row := rows[d.Point]
	if ce.Code == codeOutOfOrder && r.metric != "" {
		return &csvio.LineError{Line: row.Line, Err: ce, Reason: fmt.Sprintf(
			"%s of metric %s: remove the rows that the metric already has, or skip them with --out-of-order drop", d.Reason, r.metric)}
	}
	if ce.Code == codeOutOfOrder {
		return &csvio.LineError{Line: row.Line, Err: ce, Reason: d.Reason + ": sort the rows by time, or skip such rows with --out-of-order drop"}
	}
	return &csvio.LineError{Line: row.Line, Err: ce, Reason: d.Reason}
}

// Commit ends the scan and, with a metric, stores it.
func (r *RemoteScorer) Commit(ctx context.Context) error {
	if r.session == "" {
		return nil
	}
	_, err := r.call(ctx, ScanParams{Operation: OpScan, Metric: r.metric, SessionID: r.session, Points: []PointParam{}, Commit: true})
	r.session = ""
	return err
}

// Abort ends the scan without storing anything.
func (r *RemoteScorer) Abort(ctx context.Context) error {
	if r.session == "" {
		return nil
	}
	_, err := r.call(ctx, ScanParams{Operation: OpScan, Metric: r.metric, SessionID: r.session, Abort: true})
	r.session = ""
	return err
}

func (r *RemoteScorer) call(ctx context.Context, params ScanParams) (ScanResult, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return ScanResult{}, fmt.Errorf("encode scan parameters: %w", err)
	}
	res, err := r.exec(ctx, raw)
	if err != nil {
		return ScanResult{}, fmt.Errorf("call %s: %w", PluginID, err)
	}
	if !res.Success {
		if res.Error != nil {
			return ScanResult{}, &CallError{Code: res.Error.Code, Message: res.Error.Message, Details: res.Error.Details}
		}
		return ScanResult{}, &CallError{Message: res.Message}
	}
	var out ScanResult
	if err := json.Unmarshal(res.Data, &out); err != nil {
		return ScanResult{}, fmt.Errorf("decode %s scan result: %w", PluginID, err)
	}
	return out, nil
}

// CallError is a scan call that the plugin reported as failed.
type CallError struct {
	// Code is the result's error code, such as out_of_order; empty when
	// the result carried none.
	Code    string
	Message string
	// Details are the result's JSON error details, such as
	// PointErrorDetails.
	Details json.RawMessage
}

// Error formats the error as "anomaly-detector scan failed: code: message".
func (e *CallError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s scan failed: %s", PluginID, e.Message)
	}
	return fmt.Sprintf("%s scan failed: %s: %s", PluginID, e.Code, e.Message)
}

// IngestSummary is the outcome of IngestCSV.
type IngestSummary struct {
	csvio.Summary
	// Anomalies are those the ingested points raised.
	Anomalies []detect.Anomaly `json:"anomalies"`
}

// IngestCSV streams a `timestamp,value` CSV into metric through exec, in
// batches of a scan session that commits at the end: a bad row or a failed
// call leaves the stored metric as it was. Under the drop policy, rows
// older than the metric's newest stored point are skipped and counted in
// Dropped, so that overlapping rows can be sent again. ingestContext is
// copied into every anomaly.
func IngestCSV(ctx context.Context, r io.Reader, exec ExecuteFunc, metric string, opts csvio.ScanOptions, ingestContext map[string]string) (IngestSummary, error) {
	if err := validMetricName(metric); err != nil {
		return IngestSummary{}, err
	}
	scorer := NewRemoteScorer(exec, metric)
	scorer.OutOfOrder = opts.OutOfOrder
	scorer.Context = ingestContext
	scorerDropped := 0
	count := func(batch []csvio.Row) error {
		results, err := scorer.Score(ctx, batch)
		if err != nil {
			return err
		}
		for _, res := range results {
			if res.Dropped {
				scorerDropped++
			}
		}
		return nil
	}
	summary, err := csvio.StreamCSV(ctx, r, opts.BatchSize, opts.OutOfOrder, count)
	summary.Rows -= scorerDropped
	summary.Dropped += scorerDropped
	if err == nil {
		err = scorer.Commit(ctx)
	} else if abortErr := scorer.Abort(ctx); abortErr != nil {
		err = fmt.Errorf("%w (and the scan could not be aborted: %v)", err, abortErr)
	}
	anomalies := scorer.Anomalies
	if anomalies == nil {
		anomalies = []detect.Anomaly{}
	}
	summary.Anomalies = len(anomalies)
	return IngestSummary{Summary: summary, Anomalies: anomalies}, err
}

// LocalScorer is a csvio.Scorer that runs a model in the calling process,
// for scans that need no daemon, such as evaluations.
type LocalScorer struct {
	model *detect.Model
	// Context is copied into every anomaly.
	Context map[string]string
}

var _ csvio.Scorer = (*LocalScorer)(nil)

// NewLocalScorer returns a scorer over a new model of metric.
func NewLocalScorer(metric string, cfg detect.Config) (*LocalScorer, error) {
	m, err := detect.NewModel(metric, cfg)
	if err != nil {
		return nil, err
	}
	return &LocalScorer{model: m}, nil
}

// Score observes rows in order.
func (l *LocalScorer) Score(_ context.Context, rows []csvio.Row) ([]csvio.Result, error) {
	out := make([]csvio.Result, len(rows))
	for i, row := range rows {
		if err := l.model.CheckOrder(row.Timestamp); err != nil {
			return nil, fmt.Errorf("line %d: %w", row.Line, err)
		}
		res := l.model.Observe(row.Timestamp, row.Value, l.Context)
		out[i] = csvio.Result{Score: res.Score, IsAnomaly: res.IsAnomaly}
		if res.IsAnomaly {
			out[i].Severity, out[i].Type = string(res.Anomaly.Severity), string(res.Anomaly.Type)
			out[i].Anomaly = res.Anomaly
		}
	}
	return out, nil
}

// Commit does nothing: a local scan keeps its model in memory only.
func (l *LocalScorer) Commit(context.Context) error { return nil }

// Abort does nothing.
func (l *LocalScorer) Abort(context.Context) error { return nil }

// scanTimeout bounds one call of an in-process ExecuteFunc.
const scanTimeout = time.Minute

// InProcess returns an ExecuteFunc that calls p directly for tenant, for
// tests and for tools that run the plugin in their own process.
func InProcess(p sdk.Plugin, tenant string) ExecuteFunc {
	return func(ctx context.Context, params json.RawMessage) (*sdk.ExecuteResult, error) {
		ctx, cancel := context.WithTimeout(ctx, scanTimeout)
		defer cancel()
		return p.Execute(ctx, &sdk.ExecuteRequest{TenantID: tenant, Parameters: params, Metadata: map[string]string{}})
	}
}
