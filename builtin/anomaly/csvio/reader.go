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
	"strconv"
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

// String returns "reject" or "drop", the form ParseOutOfOrder reads.
func (o OutOfOrder) String() string {
	if o == DropOutOfOrder {
		return "drop"
	}
	return "reject"
}

// LineError reports a row that was rejected, with its 1-based line number.
type LineError struct {
	// Line is the line of the input where the row starts.
	Line int
	// Field is the rejected text, or empty when the row as a whole is wrong.
	Field string
	// Reason describes the problem and how to fix it.
	Reason string
	// Err is the underlying error, if any, such as the plugin's failed
	// result; Reason already describes it.
	Err error
}

// Error formats the error as "line N: reason".
func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %q: %s", e.Line, e.Field, e.Reason)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error {
	return e.Err
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
// taken as the header. A row with other than two fields is rejected, so
// that a column is never dropped silently and a decimal comma is caught.
// The one exception is a scan's own CSV output, recognised by its header:
// its rows are read as `timestamp,value` and the old results are ignored.
type Reader struct {
	csv        *csv.Reader
	outOfOrder OutOfOrder
	// fields is the number of fields each row must have.
	fields  int
	started bool
	rows    int
	dropped int
	last    time.Time
}

// NewReader returns a Reader over r that applies the out-of-order policy.
func NewReader(r io.Reader, outOfOrder OutOfOrder) *Reader {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	c.TrimLeadingSpace = true
	c.Comment = '#'
	return &Reader{csv: c, outOfOrder: outOfOrder, fields: 2}
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
		row, err := parseRow(record, line, r.fields)
		if err != nil {
			if first && looksLikeHeader(record) {
				if isScanOutputHeader(record) {
					r.fields = len(record)
				}
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
				"timestamp is earlier than the previous row's (%s): sort the rows by time, or skip such rows with --out-of-order drop",
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

// isScanOutputHeader reports whether record is the header of a scan's CSV
// output.
func isScanOutputHeader(record []string) bool {
	return strings.Join(record, ",")+"\n" == csvHeader
}

// parseRow parses a row that must have fields fields: 2, or 6 in a scan's
// output, whose last four are ignored.
func parseRow(record []string, line, fields int) (Row, error) {
	switch {
	case len(record) < 2:
		return Row{}, &LineError{Line: line, Reason: fmt.Sprintf(
			"expected 2 fields (timestamp,value), found %d", len(record))}
	case len(record) != fields && fields != 2:
		return Row{}, &LineError{Line: line, Reason: fmt.Sprintf(
			"expected %d fields as in the header (%s), found %d", fields, strings.TrimSuffix(csvHeader, "\n"), len(record))}
	case len(record) > 2 && fields == 2:
		return Row{}, &LineError{Line: line, Reason: extraFieldsReason(record)}
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

// extraFieldsReason explains a row of more than two fields. Two integer
// fields after the timestamp are most likely a decimal comma.
func extraFieldsReason(record []string) string {
	reason := fmt.Sprintf("expected 2 fields (timestamp,value), found %d", len(record))
	if len(record) == 3 && isDigits(strings.TrimSpace(record[1])) && isDigits(strings.TrimSpace(record[2])) {
		return reason + fmt.Sprintf(": %q looks like a decimal comma, write the value as %s.%s",
			strings.Join(record[1:], ","), strings.TrimSpace(record[1]), strings.TrimSpace(record[2]))
	}
	return reason + ": keep only the timestamp and value columns, for example with cut -d, -f1,2"
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// parseValue parses a finite float64.
func parseValue(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("missing value: every row needs a number after the timestamp")
	}
	v, err := parseFloat(s)
	if errors.Is(err, strconv.ErrRange) && math.IsInf(v, 0) {
		return 0, errors.New("invalid value: out of range for a 64-bit float, whose magnitude is at most about 1.8e308")
	}
	if err != nil {
		return 0, errors.New("invalid value: expected a decimal number such as 12.5")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("invalid value: NaN and infinite values are not accepted, remove the row or replace the value")
	}
	return v, nil
}
