// Package csvio reads `timestamp,value` CSV files as a stream of points and
// writes the results of an anomaly scan as CSV or JSON. It never loads a
// whole file: rows are read, checked and handed on one batch at a time.
package csvio

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// ErrEmpty is returned when the input holds no data row.
var ErrEmpty = errors.New("missing data rows: the input is empty or contains only a header")

// OutOfOrder selects what happens to a row whose timestamp is earlier than
// the previous row's.
type OutOfOrder int

const (
	// RejectOutOfOrder stops the read with a LineError. It is the default.
	RejectOutOfOrder OutOfOrder = iota
	// DropOutOfOrder skips the row and counts it in Reader.Dropped.
	DropOutOfOrder
)

// ParseOutOfOrder converts "reject" or "drop" to an OutOfOrder policy.
func ParseOutOfOrder(s string) (OutOfOrder, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "reject":
		return RejectOutOfOrder, nil
	case "drop":
		return DropOutOfOrder, nil
	}
	return 0, fmt.Errorf("invalid out-of-order policy %q: use reject or drop", s)
}

// LineError reports a row that was rejected, with its 1-based line number.
type LineError struct {
	// Line is the line of the input where the row starts.
	Line int
	// Field is the rejected text, or empty when the row as a whole is wrong.
	Field string
	// Reason describes the problem and how to fix it.
	Reason string
}

// Error formats the error as "line N: reason".
func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %q: %s", e.Line, e.Field, e.Reason)
}

// Row is one data row of the input.
type Row struct {
	// Line is the row's 1-based line number in the input.
	Line int
	// RawTimestamp is the timestamp exactly as written in the input.
	RawTimestamp string
	// Timestamp is the parsed timestamp, in UTC when the input has no zone.
	Timestamp time.Time
	// Value is the parsed value; it is always finite.
	Value float64
}

// Reader reads rows from a `timestamp,value` CSV stream. The header line is
// optional: a first line whose timestamp and value both fail to parse is
// taken as the header. Extra columns after the value are ignored.
type Reader struct {
	csv        *csv.Reader
	outOfOrder OutOfOrder
	started    bool
	rows       int
	dropped    int
	last       time.Time
}

// NewReader returns a Reader over r that applies the out-of-order policy.
func NewReader(r io.Reader, outOfOrder OutOfOrder) *Reader {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	c.TrimLeadingSpace = true
	c.Comment = '#'
	return &Reader{csv: c, outOfOrder: outOfOrder}
}

// Dropped returns how many out-of-order rows were skipped so far.
func (r *Reader) Dropped() int {
	return r.dropped
}

// Rows returns how many rows were returned so far.
func (r *Reader) Rows() int {
	return r.rows
}

// Next returns the next data row. It returns io.EOF after the last row,
// ErrEmpty when the input held no data row, and a *LineError for a row that
// cannot be used.
func (r *Reader) Next() (Row, error) {
	for {
		record, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			if r.rows == 0 {
				return Row{}, ErrEmpty
			}
			return Row{}, io.EOF
		}
		if err != nil {
			return Row{}, csvError(err)
		}
		line, _ := r.csv.FieldPos(0)
		if isBlank(record) {
			continue
		}
		first := !r.started
		r.started = true
		row, err := parseRow(record, line)
		if err != nil {
			if first && looksLikeHeader(record) {
				continue
			}
			return Row{}, err
		}
		if r.rows > 0 && row.Timestamp.Before(r.last) {
			if r.outOfOrder == DropOutOfOrder {
				r.dropped++
				continue
			}
			return Row{}, &LineError{Line: line, Field: row.RawTimestamp, Reason: fmt.Sprintf(
				"timestamp is earlier than the previous row's (%s): sort the file by time or drop such rows with the drop policy",
				r.last.Format(time.RFC3339Nano))}
		}
		r.last = row.Timestamp
		r.rows++
		return row, nil
	}
}

// csvError turns an encoding/csv parse error into a LineError.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &LineError{Line: pe.StartLine, Reason: fmt.Sprintf("malformed CSV: %v", pe.Err)}
	}
	return fmt.Errorf("read csv: %w", err)
}

func isBlank(record []string) bool {
	for _, f := range record {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// looksLikeHeader reports whether a first line that failed to parse is a
// header: neither of its first two fields is a timestamp or a number.
func looksLikeHeader(record []string) bool {
	if len(record) < 2 {
		return false
	}
	if _, err := ParseTimestamp(strings.TrimSpace(record[0])); err == nil {
		return false
	}
	_, err := parseValue(strings.TrimSpace(record[1]))
	return err != nil
}

func parseRow(record []string, line int) (Row, error) {
	if len(record) < 2 {
		return Row{}, &LineError{Line: line, Reason: fmt.Sprintf(
			"expected 2 fields (timestamp,value), found %d", len(record))}
	}
	rawTS := strings.TrimSpace(record[0])
	ts, err := ParseTimestamp(rawTS)
	if err != nil {
		return Row{}, &LineError{Line: line, Field: rawTS, Reason: err.Error()}
	}
	rawValue := strings.TrimSpace(record[1])
	value, err := parseValue(rawValue)
	if err != nil {
		return Row{}, &LineError{Line: line, Field: rawValue, Reason: err.Error()}
	}
	return Row{Line: line, RawTimestamp: rawTS, Timestamp: ts, Value: value}, nil
}

// parseValue parses a finite float64.
func parseValue(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("missing value: every row needs a number after the timestamp")
	}
	v, err := parseFloat(s)
	if err != nil {
		return 0, errors.New("invalid value: expected a decimal number such as 12.5")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("invalid value: NaN and infinite values are not accepted, remove the row or replace the value")
	}
	return v, nil
}
