package anomaly

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// csvSeries returns a `timestamp,value` CSV of n noisy rows around 50 with
// one spike at row spike (0-based), and its expected lines.
func csvSeries(n, spike int) string {
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	for i, pt := range points(90, n, 50) {
		v := pt.Value
		if i == spike {
			v = 90
		}
		fmt.Fprintf(&b, "%s,%g\n", pt.Timestamp.Format("2006-01-02 15:04:05"), v)
	}
	return b.String()
}

func TestScanBatchesAndCommit(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	scorer := NewRemoteScorer(InProcess(p, "acme"), "latency")
	var out bytes.Buffer
	summary, err := csvio.ScanCSV(context.Background(), strings.NewReader(csvSeries(1000, 700)), &out, scorer,
		csvio.ScanOptions{BatchSize: 128})
	if err != nil {
		t.Fatalf("ScanCSV: %v", err)
	}
	if summary.Rows != 1000 || summary.Anomalies != 1 {
		t.Errorf("summary %+v, want 1000 rows and 1 anomaly", summary)
	}
	records, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	if got := strings.Join(records[0], ","); got != "timestamp,value,anomaly_score,is_anomaly,severity,type" {
		t.Errorf("header %q", got)
	}
	if row := records[701]; row[3] != "true" || row[4] != "critical" || row[5] != "statistical_outlier" {
		t.Errorf("spike row %v, want a critical statistical_outlier", row)
	}
	if len(records) != 1001 {
		t.Errorf("%d output lines, want 1001", len(records))
	}

	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 1000 {
		t.Errorf("after commit: %+v, want latency with 1000 points", list.Metrics)
	}
	if p.sessions.get(scorer.session, "acme") != nil || len(p.sessions.sessions) != 0 {
		t.Error("scan session left open after commit")
	}
}

func TestScanWithoutMetricStoresNothing(t *testing.T) {
	storage := newMemStorage()
	p := newTestPlugin(t, storage, `{}`)
	scorer := NewRemoteScorer(InProcess(p, "acme"), "")
	var out bytes.Buffer
	if _, err := csvio.ScanCSV(context.Background(), strings.NewReader(csvSeries(200, 150)), &out, scorer,
		csvio.ScanOptions{Format: csvio.FormatJSON}); err != nil {
		t.Fatalf("ScanCSV: %v", err)
	}
	if !strings.Contains(out.String(), `"summary":{"rows":200,"anomalies":1,"dropped":0}`) {
		t.Errorf("JSON output ends %q", out.String()[max(0, out.Len()-120):])
	}
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 0 {
		t.Errorf("metrics %+v stored by a scan without a metric", list.Metrics)
	}
}

func TestScanBadRowAbortsAndStoresNothing(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	input := csvSeries(300, -1) + "2026-01-05 09:00:00,abc\n"
	scorer := NewRemoteScorer(InProcess(p, "acme"), "latency")
	_, err := csvio.ScanCSV(context.Background(), strings.NewReader(input), &bytes.Buffer{}, scorer, csvio.ScanOptions{BatchSize: 100})
	var lineErr *csvio.LineError
	if !errors.As(err, &lineErr) || lineErr.Line != 302 {
		t.Fatalf("error %v, want a LineError on line 302", err)
	}
	if len(p.sessions.sessions) != 0 {
		t.Error("scan session left open after an aborted scan")
	}
	mustFail(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "latency", Value: new(1.0)}, codeNotFound, "not found")
}

func TestIngestCSV(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	summary, err := IngestCSV(context.Background(), strings.NewReader(csvSeries(500, 400)), InProcess(p, "acme"), "latency", csvio.ScanOptions{}, nil)
	if err != nil {
		t.Fatalf("IngestCSV: %v", err)
	}
	if summary.Rows != 500 || len(summary.Anomalies) != 1 {
		t.Errorf("summary %+v, want 500 rows and 1 anomaly", summary)
	}
	_, err = IngestCSV(context.Background(), strings.NewReader(""), InProcess(p, "acme"), "latency", csvio.ScanOptions{}, nil)
	if !errors.Is(err, csvio.ErrEmpty) {
		t.Errorf("empty file: %v, want ErrEmpty", err)
	}
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if list.Metrics[0].Samples != 500 {
		t.Errorf("samples %d after a failed second ingest, want 500", list.Metrics[0].Samples)
	}
}

func TestScanSessionErrors(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustFail(t, p, "acme", ScanParams{Operation: OpScan, SessionID: "scan-nope", Points: points(1, 1, 1)},
		codeSessionGone, "scan session \"scan-nope\" not found")

	var first ScanResult
	mustOK(t, p, "acme", ScanParams{Operation: OpScan, Points: points(2, 10, 1)}, &first)
	mustFail(t, p, "other", ScanParams{Operation: OpScan, SessionID: first.SessionID, Points: points(3, 1, 1)},
		codeSessionGone, "belongs to another tenant")
	back := []PointParam{{Timestamp: Timestamp{t0.Add(-time.Minute)}, Value: 1}}
	mustFail(t, p, "acme", ScanParams{Operation: OpScan, SessionID: first.SessionID, Points: back},
		codeOutOfOrder, "point 0: timestamp")
	mustOK(t, p, "acme", ScanParams{Operation: OpScan, SessionID: first.SessionID, Abort: true}, nil)
	mustFail(t, p, "acme", ScanParams{Operation: OpScan, SessionID: first.SessionID, Points: points(4, 1, 1)},
		codeSessionGone, "not found")
}

func TestScanSessionsExpire(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	now := t0
	p.sessions.now = func() time.Time { return now }
	var first ScanResult
	mustOK(t, p, "acme", ScanParams{Operation: OpScan, Points: points(5, 3, 1)}, &first)
	now = now.Add(sessionIdleTimeout + time.Second)
	mustFail(t, p, "acme", ScanParams{Operation: OpScan, SessionID: first.SessionID, Points: points(6, 3, 1)[2:]},
		codeSessionGone, "expired")
}

func TestLocalScorer(t *testing.T) {
	scorer, err := NewLocalScorer("latency", detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	summary, err := csvio.ScanCSV(context.Background(), strings.NewReader(csvSeries(600, 500)), &out, scorer, csvio.ScanOptions{Format: csvio.FormatJSON})
	if err != nil || summary.Anomalies != 1 {
		t.Fatalf("local scan: %+v %v, want one anomaly", summary, err)
	}
	var doc struct {
		Rows []csvio.Result `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if a := doc.Rows[500].Anomaly; a == nil || a.ID == "" || a.Message == "" {
		t.Errorf("anomalous row %+v, want the anomaly's details", doc.Rows[500])
	}
}

// csvLines returns the header and the rows from..to-1 of a CSV.
func csvLines(input string, from, to int) string {
	lines := strings.SplitAfter(input, "\n")
	return lines[0] + strings.Join(lines[1+from:1+to], "")
}

func TestIngestCSVOverlap(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	all := csvSeries(520, -1)
	if _, err := IngestCSV(context.Background(), strings.NewReader(csvLines(all, 0, 500)), InProcess(p, "acme"), "latency", csvio.ScanOptions{}, nil); err != nil {
		t.Fatalf("first ingest: %v", err)
	}
	// The last 100 stored rows again, and 20 new ones.
	resend := csvLines(all, 400, 520)

	_, err := IngestCSV(context.Background(), strings.NewReader(resend), InProcess(p, "acme"), "latency", csvio.ScanOptions{BatchSize: 64}, nil)
	var lineErr *csvio.LineError
	if !errors.As(err, &lineErr) || lineErr.Line != 2 {
		t.Fatalf("overlap under reject: %v, want a LineError on line 2", err)
	}
	if !strings.Contains(err.Error(), "--out-of-order drop") {
		t.Errorf("error %q does not name --out-of-order drop", err)
	}

	summary, err := IngestCSV(context.Background(), strings.NewReader(resend), InProcess(p, "acme"), "latency",
		csvio.ScanOptions{BatchSize: 64, OutOfOrder: csvio.DropOutOfOrder}, nil)
	if err != nil {
		t.Fatalf("overlap under drop: %v", err)
	}
	if summary.Rows != 20 || summary.Dropped != 100 {
		t.Errorf("summary %+v, want 20 rows ingested and 100 dropped", summary.Summary)
	}
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if list.Metrics[0].Samples != 520 {
		t.Errorf("samples %d, want 520: every row once", list.Metrics[0].Samples)
	}
}

func TestRemoteScorerMapsPointToLine(t *testing.T) {
	// A plugin result that fails on the fourth point of the batch.
	exec := func(context.Context, json.RawMessage) (*sdk.ExecuteResult, error) {
		return failed(pointError(codeInvalidPoint, 3, "invalid value 1e400", "")), nil
	}
	rows := []csvio.Row{{Line: 7}, {Line: 8}, {Line: 10}, {Line: 12}, {Line: 13}}
	_, err := NewRemoteScorer(exec, "latency").Score(context.Background(), rows)
	var lineErr *csvio.LineError
	if !errors.As(err, &lineErr) || lineErr.Line != 12 {
		t.Fatalf("error %v, want a LineError on line 12", err)
	}
	if !strings.Contains(err.Error(), "invalid value 1e400") {
		t.Errorf("error %q lacks the plugin's reason", err)
	}

	// An out-of-order point of a scan without a metric names the flag.
	exec = func(context.Context, json.RawMessage) (*sdk.ExecuteResult, error) {
		return failed(pointError(codeOutOfOrder, 1, "timestamp 2026-01-05T00:00:00Z is earlier than the newest point 2026-01-05T00:10:00Z", "")), nil
	}
	_, err = NewRemoteScorer(exec, "").Score(context.Background(), rows)
	if !errors.As(err, &lineErr) || lineErr.Line != 8 || !strings.Contains(err.Error(), "--out-of-order drop") || strings.Contains(err.Error(), "of metric") {
		t.Errorf("error %v, want a LineError on line 8 that names --out-of-order drop and no metric", err)
	}
}
