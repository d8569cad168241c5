package csvio

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

// DefaultBatchSize is the number of rows sent to a Scorer at once when
// ScanOptions.BatchSize is zero.
const DefaultBatchSize = 2000

// Result is a detector's output for one row.
type Result struct {
	// Score is the calibrated anomaly score in [0, 1].
	Score float64 `json:"anomaly_score"`
	// IsAnomaly is the detector's decision for the row.
	IsAnomaly bool `json:"is_anomaly"`
	// Severity is low, medium, high or critical; empty when IsAnomaly is false.
	Severity string `json:"severity,omitempty"`
	// Type is the anomaly type; empty when IsAnomaly is false.
	Type string `json:"type,omitempty"`
	// Anomaly describes the anomaly, with its id, message and expected
	// range, when the scorer provides it; the JSON output carries it.
	Anomaly *detect.Anomaly `json:"anomaly,omitempty"`
	// Dropped is set when the scorer skipped the row, as a scan under the
	// drop policy skips rows at or before a stored metric's newest point.
	// A dropped row is not written and counts in Summary.Dropped.
	Dropped bool `json:"dropped,omitempty"`
}

// Scorer scores rows in order, one batch at a time, keeping its state
// between batches. ScanCSV calls Commit after the last batch, or Abort when
// the scan fails, so that a scorer can apply the whole scan or nothing.
type Scorer interface {
	// Score returns one Result per row, in the same order.
	Score(ctx context.Context, rows []Row) ([]Result, error)
	// Commit makes the scan's effect final.
	Commit(ctx context.Context) error
	// Abort discards the scan's effect.
	Abort(ctx context.Context) error
}

// ScanOptions configures ScanCSV. The zero value writes CSV, sends batches
// of DefaultBatchSize rows and rejects out-of-order rows.
type ScanOptions struct {
	// Format is the output format.
	Format Format
	// BatchSize is the number of rows per Scorer call; 0 means DefaultBatchSize.
	BatchSize int
	// OutOfOrder is the policy for rows whose timestamp goes backwards.
	OutOfOrder OutOfOrder
}

// Summary counts what a stream contained.
type Summary struct {
	// Rows is the number of rows scored and written by ScanCSV, or read and
	// handed on by StreamCSV.
	Rows int `json:"rows"`
	// Anomalies is the number of rows marked as anomalies.
	Anomalies int `json:"anomalies"`
	// Dropped is the number of out-of-order rows that were skipped.
	Dropped int `json:"dropped"`
}

// ScanCSV streams the `timestamp,value` CSV in r through scorer in batches
// and writes each row with its result to w in the chosen format. The
// output is staged (in memory up to spoolMemoryBytes, then in a temporary
// file) and reaches w only after the last row was scored and the scorer
// committed, so a failed scan writes nothing to w. On any error before the
// commit it aborts the scorer and returns the error.
func ScanCSV(ctx context.Context, r io.Reader, w io.Writer, scorer Scorer, opts ScanOptions) (summary Summary, err error) {
	staged := newSpool()
	defer func() {
		if discardErr := staged.Discard(); discardErr != nil {
			err = errors.Join(err, discardErr)
		}
	}()
	out, err := newResultWriter(staged, opts.Format)
	if err != nil {
		return Summary{}, err
	}
	scorerDropped := 0
	score := func(batch []Row) error {
		results, err := scorer.Score(ctx, batch)
		var lineErr *LineError
		if errors.As(err, &lineErr) {
			return err // names its line already
		}
		if err != nil {
			return fmt.Errorf("score the rows of lines %d to %d: %w", batch[0].Line, batch[len(batch)-1].Line, err)
		}
		if len(results) != len(batch) {
			return fmt.Errorf("score rows: scorer returned %d results for %d rows", len(results), len(batch))
		}
		for i := range batch {
			if results[i].Dropped {
				scorerDropped++
				continue
			}
			if results[i].IsAnomaly {
				summary.Anomalies++
			}
			if err := out.WriteRow(batch[i], results[i]); err != nil {
				return err
			}
			summary.Rows++
		}
		return nil
	}
	stats, err := StreamCSV(ctx, r, opts.BatchSize, opts.OutOfOrder, score)
	summary.Dropped = stats.Dropped + scorerDropped
	if err == nil {
		err = out.Close(summary)
	}
	if err != nil {
		if abortErr := scorer.Abort(ctx); abortErr != nil {
			err = errors.Join(err, fmt.Errorf("abort scan: %w", abortErr))
		}
		return summary, err
	}
	if err := scorer.Commit(ctx); err != nil {
		return summary, fmt.Errorf("commit scan: %w", err)
	}
	if _, err := staged.WriteTo(w); err != nil {
		return summary, fmt.Errorf("write output after the scan completed: %w", err)
	}
	return summary, nil
}

// StreamCSV reads the `timestamp,value` CSV in r and calls fn with batches of
// at most batchSize rows (DefaultBatchSize when batchSize is 0), in order.
// The batch slice is reused between calls. It stops at the first error from
// the input, from fn or from ctx. The returned Summary has Rows and Dropped
// set; Anomalies is left at zero.
func StreamCSV(ctx context.Context, r io.Reader, batchSize int, outOfOrder OutOfOrder, fn func([]Row) error) (Summary, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	reader := NewReader(r, outOfOrder)
	batch := make([]Row, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(batch)
		batch = batch[:0]
		return err
	}
	for {
		row, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Summary{Rows: reader.Rows(), Dropped: reader.Dropped()}, err
		}
		batch = append(batch, row)
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return Summary{Rows: reader.Rows(), Dropped: reader.Dropped()}, err
			}
		}
	}
	err := flush()
	return Summary{Rows: reader.Rows(), Dropped: reader.Dropped()}, err
}
