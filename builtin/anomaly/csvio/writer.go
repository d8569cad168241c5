package csvio

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Format is the output format of a scan.
type Format int

const (
	// FormatCSV writes the input columns followed by
	// anomaly_score,is_anomaly,severity,type.
	FormatCSV Format = iota
	// FormatJSON writes one JSON object with a "rows" array and a "summary".
	FormatJSON
)

// ParseFormat converts "csv" or "json" to a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "csv":
		return FormatCSV, nil
	case "json":
		return FormatJSON, nil
	}
	return 0, fmt.Errorf("invalid output format %q: use csv or json", s)
}

// resultWriter writes scanned rows in one format.
type resultWriter interface {
	WriteRow(row Row, res Result) error
	// Close writes what follows the last row and flushes.
	Close(summary Summary) error
}

func newResultWriter(w io.Writer, f Format) (resultWriter, error) {
	switch f {
	case FormatCSV:
		return &csvWriter{w: bufio.NewWriter(w)}, nil
	case FormatJSON:
		return &jsonWriter{w: bufio.NewWriter(w)}, nil
	}
	return nil, fmt.Errorf("invalid output format %d", f)
}

// csvHeader is the header of the CSV output.
const csvHeader = "timestamp,value,anomaly_score,is_anomaly,severity,type\n"

// csvWriter writes `timestamp,value,anomaly_score,is_anomaly,severity,type`.
// Timestamps are written as they were read; scores have six decimals.
type csvWriter struct {
	w           *bufio.Writer
	wroteHeader bool
	buf         []byte
}

func (c *csvWriter) WriteRow(row Row, res Result) error {
	if !c.wroteHeader {
		c.wroteHeader = true
		if _, err := c.w.WriteString(csvHeader); err != nil {
			return fmt.Errorf("write csv header: %w", err)
		}
	}
	b := c.buf[:0]
	b = appendCSVField(b, row.RawTimestamp)
	b = append(b, ',')
	b = strconv.AppendFloat(b, row.Value, 'g', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, res.Score, 'f', 6, 64)
	b = append(b, ',')
	b = strconv.AppendBool(b, res.IsAnomaly)
	b = append(b, ',')
	b = append(b, res.Severity...)
	b = append(b, ',')
	b = append(b, res.Type...)
	b = append(b, '\n')
	c.buf = b
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("write csv row: %w", err)
	}
	return nil
}

func (c *csvWriter) Close(Summary) error {
	if !c.wroteHeader {
		c.wroteHeader = true
		if _, err := c.w.WriteString(csvHeader); err != nil {
			return fmt.Errorf("write csv header: %w", err)
		}
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// appendCSVField quotes s when it contains a comma, quote or line break.
func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// jsonWriter streams {"rows":[...],"summary":{...}} without holding the rows.
type jsonWriter struct {
	w    *bufio.Writer
	rows int
}

// jsonRow is one element of the "rows" array.
type jsonRow struct {
	Timestamp string  `json:"timestamp"`
	Value     float64 `json:"value"`
	Result
}

func (j *jsonWriter) WriteRow(row Row, res Result) error {
	prefix := ",\n"
	if j.rows == 0 {
		prefix = "{\"rows\":[\n"
	}
	j.rows++
	data, err := json.Marshal(jsonRow{Timestamp: row.RawTimestamp, Value: row.Value, Result: res})
	if err != nil {
		return fmt.Errorf("encode json row: %w", err)
	}
	if _, err := j.w.WriteString(prefix); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if _, err := j.w.Write(data); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

func (j *jsonWriter) Close(summary Summary) error {
	head := "\n],"
	if j.rows == 0 {
		head = "{\"rows\":[],"
	}
	data, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("encode json summary: %w", err)
	}
	if _, err := fmt.Fprintf(j.w, "%s\"summary\":%s}\n", head, data); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
