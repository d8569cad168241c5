package csvio

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// readAll reads every row of input.
func readAll(input string, policy OutOfOrder) ([]Row, *Reader, error) {
	r := NewReader(strings.NewReader(input), policy)
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, r, nil
		}
		if err != nil {
			return rows, r, err
		}
		rows = append(rows, row)
	}
}

func TestReaderFormats(t *testing.T) {
	input := "timestamp,value\n" +
		"2014-07-01 00:00:00,10844\n" +
		"2014-07-01T00:30:00Z,8127.5\n" +
		"2014-07-01T01:00:00+02:00,1e3\n" + // 23:00 UTC the day before: out of order
		"1404180000,-3\n" +
		"1404180000.5,4\n"
	rows, _, err := readAll(input, DropOutOfOrder)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := []struct {
		ts    time.Time
		value float64
		line  int
	}{
		{time.Date(2014, 7, 1, 0, 0, 0, 0, time.UTC), 10844, 2},
		{time.Date(2014, 7, 1, 0, 30, 0, 0, time.UTC), 8127.5, 3},
		{time.Date(2014, 7, 1, 2, 0, 0, 0, time.UTC), -3, 5},
		{time.Date(2014, 7, 1, 2, 0, 0, 5e8, time.UTC), 4, 6},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		if !rows[i].Timestamp.Equal(w.ts) || rows[i].Value != w.value || rows[i].Line != w.line {
			t.Errorf("row %d = %v %v line %d, want %v %v line %d", i, rows[i].Timestamp, rows[i].Value, rows[i].Line, w.ts, w.value, w.line)
		}
	}
}

func TestReaderHeaderOptional(t *testing.T) {
	rows, _, err := readAll("2014-07-01 00:00:00,1\n2014-07-01 00:05:00,2", RejectOutOfOrder)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v, err %v; want 2 rows and no final newline needed", rows, err)
	}
}

func TestReaderBadInput(t *testing.T) {
	tests := []struct {
		name  string
		input string
		line  int
		want  string
	}{
		{"bad timestamp", "timestamp,value\n2014-07-01 00:00:00,1\nyesterday,2\n", 3, "invalid timestamp"},
		{"bad value", "timestamp,value\n2014-07-01 00:00:00,1\n2014-07-01 00:05:00,abc\n", 3, "invalid value"},
		{"NaN", "2014-07-01 00:00:00,NaN\n", 1, "NaN and infinite values are not accepted"},
		{"infinite", "2014-07-01 00:00:00,1\n2014-07-01 00:05:00,+Inf\n", 2, "NaN and infinite values"},
		{"missing value", "timestamp,value\n2014-07-01 00:00:00,\n", 2, "missing value"},
		{"one field", "timestamp,value\n2014-07-01 00:00:00\n", 2, "expected 2 fields"},
		{"decimal comma", "timestamp,value\n2014-07-01 00:00:00,1\n2014-07-01 00:05:00,13370,7\n", 3, `found 3: "13370,7" looks like a decimal comma, write the value as 13370.7`},
		{"extra field", "2014-07-01 00:00:00,1,web-1\n", 1, "found 3: keep only the timestamp and value columns"},
		{"trailing comma", "2014-07-01 00:00:00,1,\n", 1, "found 3: keep only the timestamp and value columns"},
		{"extra header field", "timestamp,value,host\n2014-07-01 00:00:00,1,a\n", 2, "found 3"},
		{"short scan output row", "timestamp,value,anomaly_score,is_anomaly,severity,type\n2014-07-01 00:00:00,1,0.5\n", 2, "expected 6 fields as in the header"},
		{"out of order", "t,v\n2014-07-01 00:05:00,1\n2014-07-01 00:00:00,2\n", 3, "earlier than the previous row"},
		{"unterminated quote", "t,v\n\"2014-07-01 00:05:00,1\n", 2, "malformed CSV"},
		{"bad first line", "2014-07-01 00:00:00,x\n", 1, "invalid value"},
		{"value out of range", "t,v\n2014-07-01 00:00:00,1e400\n", 2, `"1e400": invalid value: out of range for a 64-bit float`},
		{"negative value out of range", "t,v\n2014-07-01 00:00:00,-1e400\n", 2, "out of range for a 64-bit float"},
		{"negative unix seconds", "t,v\n-5,1\n", 2, "Unix seconds must be from 0 (1970-01-01T00:00:00Z) to 253402300799"},
		{"unix milliseconds", "t,v\n1767600000000,1\n", 2, "a time in milliseconds must be divided by 1000"},
		{"before 1970", "t,v\n1960-01-01T00:00:00Z,1\n", 2, "use a time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(tt.input, RejectOutOfOrder)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a LineError", err)
			}
			if le.Line != tt.line {
				t.Errorf("line %d, want %d (%v)", le.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestReaderReadsScanOutput(t *testing.T) {
	input := "timestamp,value,anomaly_score,is_anomaly,severity,type\n" +
		"2014-07-01 00:00:00,1,0.000000,false,,\n" +
		"2014-07-01 00:05:00,50,1.000000,true,high,statistical_outlier\n"
	rows, _, err := readAll(input, RejectOutOfOrder)
	if err != nil {
		t.Fatalf("read a scan's output: %v", err)
	}
	if len(rows) != 2 || rows[1].Value != 50 {
		t.Errorf("rows %+v, want 2 with the values 1 and 50", rows)
	}
}

func TestReaderEmpty(t *testing.T) {
	for _, input := range []string{"", "timestamp,value\n", "\n\n"} {
		if _, _, err := readAll(input, RejectOutOfOrder); !errors.Is(err, ErrEmpty) {
			t.Errorf("input %q: error %v, want ErrEmpty", input, err)
		}
	}
}

func TestReaderDropCounts(t *testing.T) {
	input := "t,v\n2014-07-01 00:05:00,1\n2014-07-01 00:00:00,2\n2014-07-01 00:01:00,3\n2014-07-01 00:06:00,4\n"
	rows, r, err := readAll(input, DropOutOfOrder)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || r.Dropped() != 2 {
		t.Errorf("%d rows, %d dropped; want 2 and 2", len(rows), r.Dropped())
	}
}

func TestParseOptions(t *testing.T) {
	if _, err := ParseOutOfOrder("sort"); err == nil {
		t.Error("ParseOutOfOrder accepted sort")
	}
	if p, err := ParseOutOfOrder("drop"); err != nil || p != DropOutOfOrder {
		t.Errorf("ParseOutOfOrder(drop) = %v, %v", p, err)
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat accepted xml")
	}
}

func TestParseTimestampRange(t *testing.T) {
	accepted := map[string]time.Time{
		"0":                    time.Unix(0, 0).UTC(),
		"253402300799":         MaxTimestamp.Truncate(time.Second),
		"1970-01-01T00:00:00Z": time.Unix(0, 0).UTC(),
		"9999-12-31 23:59:59":  MaxTimestamp.Truncate(time.Second),
	}
	for input, want := range accepted {
		got, err := ParseTimestamp(input)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", input, got, err, want)
		}
	}
	for _, input := range []string{"-1", "-0.5", "253402300800", "1e400", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00"} {
		if got, err := ParseTimestamp(input); err == nil {
			t.Errorf("ParseTimestamp(%q) = %v, want an out-of-range error", input, got)
		}
	}
}
