package csvio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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

// failingScorer fails at the batch that holds line failAt, and fails its
// commit with commitErr.
type failingScorer struct {
	failAt    int
	commitErr error
	aborted   bool
}

func (s *failingScorer) Score(_ context.Context, rows []Row) ([]Result, error) {
	for _, r := range rows {
		if r.Line == s.failAt {
			return nil, &LineError{Line: r.Line, Reason: "rejected by the scorer"}
		}
	}
	return make([]Result, len(rows)), nil
}

func (s *failingScorer) Commit(context.Context) error { return s.commitErr }
func (s *failingScorer) Abort(context.Context) error  { s.aborted = true; return nil }

// longSeries returns a headed CSV of n rows with a bad value on line bad.
func longSeries(n, bad int) string {
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	for i := range n {
		value := fmt.Sprintf("%d.25", 10000+i)
		if i+2 == bad {
			value = "n/a"
		}
		fmt.Fprintf(&b, "%d,%s\n", 1404172800+60*i, value)
	}
	return b.String()
}

// recordingWriter counts the writes that reach it.
type recordingWriter struct {
	writes int
	bytes.Buffer
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestScanCSVFailureWritesNothing(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		scorer Scorer
		want   string
	}{
		{"csv bad value", FormatCSV, &thresholdScorer{limit: 1e9}, "line 10000"},
		{"csv scorer error", FormatCSV, &failingScorer{failAt: 5000}, "line 5000"},
		{"json bad value", FormatJSON, &thresholdScorer{limit: 1e9}, "line 10000"},
		{"json scorer error", FormatJSON, &failingScorer{failAt: 5000}, "line 5000"},
	}
	for _, tt := range tests {
		for _, memory := range []int{spoolMemoryBytes, 4 << 10} {
			t.Run(fmt.Sprintf("%s staged in %d bytes", tt.name, memory), func(t *testing.T) {
				withSpoolMemory(t, memory)
				var out recordingWriter
				_, err := ScanCSV(context.Background(), strings.NewReader(longSeries(10320, 10000)), &out, tt.scorer,
					ScanOptions{Format: tt.format})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one naming %s", err, tt.want)
				}
				if out.writes != 0 {
					t.Errorf("a failed scan wrote %d times (%d bytes) to its output, want nothing", out.writes, out.Len())
				}
				assertNoStagedFiles(t)
			})
		}
	}
}

func TestScanCSVLargeOutputStagedInFile(t *testing.T) {
	for _, format := range []Format{FormatCSV, FormatJSON} {
		var inMemory, inFile bytes.Buffer
		input := longSeries(10320, -1)
		if _, err := ScanCSV(context.Background(), strings.NewReader(input), &inMemory, &thresholdScorer{limit: 20000}, ScanOptions{Format: format}); err != nil {
			t.Fatalf("scan in memory: %v", err)
		}
		withSpoolMemory(t, 4<<10)
		summary, err := ScanCSV(context.Background(), strings.NewReader(input), &inFile, &thresholdScorer{limit: 20000}, ScanOptions{Format: format})
		if err != nil {
			t.Fatalf("scan staged in a file: %v", err)
		}
		if summary.Rows != 10320 || summary.Anomalies != 320 {
			t.Errorf("summary %+v, want 10320 rows and 320 anomalies", summary)
		}
		if !bytes.Equal(inMemory.Bytes(), inFile.Bytes()) {
			t.Errorf("format %d: output staged in a file (%d bytes) differs from the output staged in memory (%d bytes)",
				format, inFile.Len(), inMemory.Len())
		}
		assertNoStagedFiles(t)
	}
}

// withSpoolMemory sets spoolMemoryBytes and a private TMPDIR for the test.
func withSpoolMemory(t *testing.T, bytes int) {
	t.Helper()
	old := spoolMemoryBytes
	spoolMemoryBytes = bytes
	t.Cleanup(func() { spoolMemoryBytes = old })
	t.Setenv("TMPDIR", t.TempDir())
}

// assertNoStagedFiles fails when a scan left a file in TMPDIR.
func assertNoStagedFiles(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("scan left %s in %s", e.Name(), os.TempDir())
	}
}

func TestScanCSVCommitFailureWritesNothing(t *testing.T) {
	scorer := &failingScorer{failAt: -1, commitErr: errors.New("storage quota exceeded")}
	var out recordingWriter
	_, err := ScanCSV(context.Background(), strings.NewReader(sample), &out, scorer, ScanOptions{})
	if err == nil || !strings.Contains(err.Error(), "commit scan: storage quota exceeded") {
		t.Fatalf("error %v, want the commit's failure", err)
	}
	if out.writes != 0 {
		t.Errorf("a scan whose commit failed wrote %q", out.String())
	}
}

func TestScanCSVDroppedByScorer(t *testing.T) {
	scorer := &dropScorer{before: 1404173100}
	var out bytes.Buffer
	summary, err := ScanCSV(context.Background(), strings.NewReader(longSeries(10, -1)), &out, scorer, ScanOptions{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if summary != (Summary{Rows: 5, Dropped: 5}) {
		t.Errorf("summary %+v, want 5 rows and 5 dropped", summary)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 6 {
		t.Errorf("%d output lines, want a header and 5 rows:\n%s", lines, out.String())
	}
}

// dropScorer drops the rows before a Unix time, as a scan of a stored
// metric does under the drop policy.
type dropScorer struct{ before int64 }

func (s *dropScorer) Score(_ context.Context, rows []Row) ([]Result, error) {
	out := make([]Result, len(rows))
	for i, r := range rows {
		out[i].Dropped = r.Timestamp.Unix() < s.before
	}
	return out, nil
}

func (s *dropScorer) Commit(context.Context) error { return nil }
func (s *dropScorer) Abort(context.Context) error  { return nil }

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
