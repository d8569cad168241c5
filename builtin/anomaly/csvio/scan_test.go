package csvio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// thresholdScorer flags values above a limit and records its calls.
type thresholdScorer struct {
	limit     float64
	batches   []int
	committed bool
	aborted   bool
}

func (s *thresholdScorer) Score(_ context.Context, rows []Row) ([]Result, error) {
	s.batches = append(s.batches, len(rows))
	out := make([]Result, len(rows))
	for i, r := range rows {
		if r.Value > s.limit {
			out[i] = Result{Score: 1, IsAnomaly: true, Severity: "high", Type: "statistical_outlier"}
		}
	}
	return out, nil
}

func (s *thresholdScorer) Commit(context.Context) error { s.committed = true; return nil }
func (s *thresholdScorer) Abort(context.Context) error  { s.aborted = true; return nil }

const sample = "timestamp,value\n2014-07-01 00:00:00,1\n2014-07-01 00:05:00,50\n2014-07-01 00:10:00,2\n"

func TestScanCSVOutput(t *testing.T) {
	scorer := &thresholdScorer{limit: 10}
	var out bytes.Buffer
	summary, err := ScanCSV(context.Background(), strings.NewReader(sample), &out, scorer, ScanOptions{BatchSize: 2})
	if err != nil {
		t.Fatalf("ScanCSV: %v", err)
	}
	want := "timestamp,value,anomaly_score,is_anomaly,severity,type\n" +
		"2014-07-01 00:00:00,1,0.000000,false,,\n" +
		"2014-07-01 00:05:00,50,1.000000,true,high,statistical_outlier\n" +
		"2014-07-01 00:10:00,2,0.000000,false,,\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if summary != (Summary{Rows: 3, Anomalies: 1}) {
		t.Errorf("summary %+v", summary)
	}
	if len(scorer.batches) != 2 || !scorer.committed || scorer.aborted {
		t.Errorf("batches %v committed %v aborted %v; want [2 1], committed", scorer.batches, scorer.committed, scorer.aborted)
	}
}

func TestScanCSVJSON(t *testing.T) {
	var out bytes.Buffer
	if _, err := ScanCSV(context.Background(), strings.NewReader(sample), &out, &thresholdScorer{limit: 10},
		ScanOptions{Format: FormatJSON}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rows []struct {
			Timestamp string  `json:"timestamp"`
			Value     float64 `json:"value"`
			IsAnomaly bool    `json:"is_anomaly"`
		} `json:"rows"`
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(doc.Rows) != 3 || !doc.Rows[1].IsAnomaly || doc.Summary.Anomalies != 1 {
		t.Errorf("document %+v", doc)
	}
}

func TestScanCSVBadRowAborts(t *testing.T) {
	scorer := &thresholdScorer{limit: 10}
	input := sample + "2014-07-01 00:15:00,oops\n"
	_, err := ScanCSV(context.Background(), strings.NewReader(input), &bytes.Buffer{}, scorer, ScanOptions{})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 5 {
		t.Fatalf("error %v, want a LineError on line 5", err)
	}
	if !scorer.aborted || scorer.committed {
		t.Errorf("aborted %v committed %v, want aborted only", scorer.aborted, scorer.committed)
	}
	if len(scorer.batches) != 0 {
		t.Errorf("batches %v scored before the bad row ended the first batch, want none", scorer.batches)
	}
}

func TestScanCSVEmptyFile(t *testing.T) {
	scorer := &thresholdScorer{}
	_, err := ScanCSV(context.Background(), strings.NewReader("timestamp,value\n"), &bytes.Buffer{}, scorer, ScanOptions{})
	if !errors.Is(err, ErrEmpty) || !scorer.aborted {
		t.Errorf("error %v aborted %v, want ErrEmpty and an abort", err, scorer.aborted)
	}
}

func TestScanCSVQuotesTimestamps(t *testing.T) {
	var out bytes.Buffer
	input := "\"2014-07-01 00:00:00\",1\n"
	if _, err := ScanCSV(context.Background(), strings.NewReader(input), &out, &thresholdScorer{limit: 10}, ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n2014-07-01 00:00:00,1,") {
		t.Errorf("output %q", out.String())
	}
}
