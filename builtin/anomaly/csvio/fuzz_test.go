package csvio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"testing"
)

// FuzzScanCSV streams arbitrary bytes through ScanCSV in both output
// formats. A scan must either fail and write nothing, or write output
// that holds exactly the rows it counted: the CSV output read back by a
// Reader gives the same timestamps and values, and the JSON output is one
// valid document.
func FuzzScanCSV(f *testing.F) {
	f.Add([]byte(sample), false)
	f.Add([]byte("1404172800,1\n1404172800.5,2\n1404172799,3\n"), true)
	f.Add([]byte("# comment\n\n\"2014-07-01T00:00:00Z\",\"1e3\",extra\n"), false)
	f.Add([]byte("timestamp,value\n2014-07-01 00:00:00,NaN\n"), false)
	f.Add([]byte("\"2014-07-01 00:00:00\n"), false)
	f.Add([]byte("2014-07-01T00:00:00+14:00,1\n2014-06-30T23:00:00-12:00,2\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, drop bool) {
		policy := RejectOutOfOrder
		if drop {
			policy = DropOutOfOrder
		}
		var csvOut bytes.Buffer
		summary, err := ScanCSV(context.Background(), bytes.NewReader(data), &csvOut, &thresholdScorer{limit: 10}, ScanOptions{Format: FormatCSV, BatchSize: 3, OutOfOrder: policy})
		if err != nil {
			var lineErr *LineError
			if !errors.As(err, &lineErr) && !errors.Is(err, ErrEmpty) {
				t.Errorf("ScanCSV error %v is neither a LineError nor ErrEmpty", err)
			}
			if csvOut.Len() != 0 {
				t.Errorf("failed scan wrote %d bytes of output, want none", csvOut.Len())
			}
			return
		}
		rows := readAllRows(t, csvOut.Bytes())
		if len(rows) != summary.Rows {
			t.Fatalf("summary counts %d rows, CSV output holds %d:\n%s", summary.Rows, len(rows), csvOut.Bytes())
		}
		inputRows := readInputRows(t, data, policy)
		for i := range rows {
			if rows[i].RawTimestamp != inputRows[i].RawTimestamp || rows[i].Value != inputRows[i].Value {
				t.Errorf("row %d: output %q,%v, input %q,%v", i, rows[i].RawTimestamp, rows[i].Value, inputRows[i].RawTimestamp, inputRows[i].Value)
			}
		}

		var jsonOut bytes.Buffer
		if _, err := ScanCSV(context.Background(), bytes.NewReader(data), &jsonOut, &thresholdScorer{limit: 10}, ScanOptions{Format: FormatJSON, OutOfOrder: policy}); err != nil {
			t.Fatalf("JSON scan failed where the CSV scan succeeded: %v", err)
		}
		var doc struct {
			Rows    []json.RawMessage `json:"rows"`
			Summary Summary           `json:"summary"`
		}
		if err := json.Unmarshal(jsonOut.Bytes(), &doc); err != nil {
			t.Fatalf("JSON output is invalid: %v\n%s", err, jsonOut.Bytes())
		}
		if len(doc.Rows) != summary.Rows || doc.Summary != summary {
			t.Errorf("JSON output holds %d rows and summary %+v, want %d rows and %+v", len(doc.Rows), doc.Summary, summary.Rows, summary)
		}
	})
}

// readInputRows returns every row a Reader accepts from data.
func readInputRows(t *testing.T, data []byte, policy OutOfOrder) []Row {
	t.Helper()
	reader := NewReader(bytes.NewReader(data), policy)
	var rows []Row
	for {
		row, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("read input again: %v", err)
		}
		if math.IsNaN(row.Value) || math.IsInf(row.Value, 0) {
			t.Fatalf("line %d: Reader returned the non-finite value %v", row.Line, row.Value)
		}
		rows = append(rows, row)
	}
}

// readAllRows reads a scan's CSV output back, which must succeed.
func readAllRows(t *testing.T, out []byte) []Row {
	t.Helper()
	reader := NewReader(bytes.NewReader(out), RejectOutOfOrder)
	var rows []Row
	for {
		row, err := reader.Next()
		if errors.Is(err, io.EOF) || (errors.Is(err, ErrEmpty) && len(rows) == 0) {
			return rows
		}
		if err != nil {
			t.Fatalf("read CSV output back: %v\n%s", err, out)
		}
		rows = append(rows, row)
	}
}
