package anomaly

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/sdk"
)

// execRaw runs one operation with raw JSON parameters for tenant acme.
func execRaw(t *testing.T, p *Plugin, raw string) *sdk.ExecuteResult {
	t.Helper()
	res, err := p.Execute(context.Background(), &sdk.ExecuteRequest{TenantID: "acme", Parameters: json.RawMessage(raw)})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res
}

// pointDetails decodes the PointErrorDetails of a failed result.
func pointDetails(t *testing.T, res *sdk.ExecuteResult) PointErrorDetails {
	t.Helper()
	var d PointErrorDetails
	if res.Error == nil || json.Unmarshal(res.Error.Details, &d) != nil {
		t.Fatalf("error %+v carries no point details", res.Error)
	}
	return d
}

func TestPointWithoutValueRejected(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(4, 40, 1)}, nil)

	const valid = `{"timestamp":"2026-01-06T00:00:00Z","value":1},{"timestamp":"2026-01-06T00:01:00Z","value":2},`
	tests := []struct {
		name  string
		point string
		want  string
	}{
		{"no value", `{"timestamp":"2026-01-06T00:02:00Z"}`, `point 2: missing value: give every point a "value"`},
		{"null value", `{"timestamp":"2026-01-06T00:02:00Z","value":null}`, "point 2: missing value"},
		{"no timestamp", `{"value":3}`, `point 2: missing timestamp: give every point a "timestamp"`},
		{"null timestamp", `{"timestamp":null,"value":3}`, "point 2: missing timestamp"},
		{"empty point", `{}`, "point 2: missing timestamp and value"},
	}
	for _, tt := range tests {
		for _, op := range []string{`"operation":"ingest","metric":"cpu"`, `"operation":"scan"`} {
			t.Run(tt.name+" "+strings.Split(op, `"`)[3], func(t *testing.T) {
				res := execRaw(t, p, `{`+op+`,"points":[`+valid+tt.point+`]}`)
				if res.Success || res.Error.Code != codeInvalidPoint {
					t.Fatalf("result %+v %+v, want an invalid_point failure", res, res.Error)
				}
				if !strings.Contains(res.Message, tt.want) {
					t.Errorf("message %q does not contain %q", res.Message, tt.want)
				}
				if d := pointDetails(t, res); d.Point != 2 {
					t.Errorf("details %+v, want point 2", d)
				}
			})
		}
	}

	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 40 {
		t.Errorf("after rejected calls: %+v, want cpu with its 40 points only", list.Metrics)
	}
	if n := len(p.sessions.sessions); n != 0 {
		t.Errorf("%d scan sessions opened by rejected calls, want none", n)
	}
}

func TestParameterErrorsNameThePath(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(4, 40, 1)}, nil)

	const threeValid = `{"timestamp":1767600000,"value":1},{"timestamp":1767600060,"value":2},{"timestamp":1767600120,"value":3},`
	tests := []struct {
		name string
		raw  string
		code string
		want string
	}{
		{"string value", `{"operation":"ingest","metric":"m","points":[` + threeValid + `{"timestamp":1767600180,"value":"abc"}]}`,
			codeInvalidPoint, `points[3].value must be a number such as 12.5, not the string "abc"`},
		{"value out of range", `{"operation":"ingest","metric":"m","points":[{"timestamp":1767600000,"value":1e400}]}`,
			codeInvalidPoint, "points[0].value 1e400 is out of range for a 64-bit float"},
		{"unknown point field", `{"operation":"scan","points":[{"timestamp":1767600000,"vaule":1}]}`,
			codeInvalidPoint, `points[0] has an unknown field "vaule": the valid fields are metric, timestamp and value`},
		{"points not an array", `{"operation":"ingest","metric":"m","points":{"timestamp":1767600000}}`,
			codeInvalid, "points must be an array of objects, not an object"},
		{"negative timestamp", `{"operation":"ingest","metric":"m","points":[{"timestamp":-5,"value":1}]}`,
			codeInvalidPoint, "points[0].timestamp -5: invalid timestamp: Unix seconds must be from 0 (1970-01-01T00:00:00Z) to 253402300799"},
		{"milliseconds", `{"operation":"ingest","metric":"m","points":[{"timestamp":1767600000000,"value":1}]}`,
			codeInvalidPoint, "a time in milliseconds must be divided by 1000"},
		{"timestamp before 1970", `{"operation":"detect","metric":"cpu","value":1,"timestamp":"1960-01-01T00:00:00Z"}`,
			codeInvalid, `timestamp "1960-01-01T00:00:00Z": invalid timestamp: use a time from 1970-01-01T00:00:00Z`},
		{"unknown parameter", `{"operation":"detect","metric":"cpu","value":1,"foo":1}`,
			codeInvalid, `unknown parameter "foo" for operation detect: the valid parameters are operation, metric, value, timestamp and context`},
		{"unknown parameter of list", `{"operation":"list_metrics","metric":"cpu"}`,
			codeInvalid, `unknown parameter "metric" for operation list_metrics: the valid parameters are operation (the plugin's README`},
		{"detect value string", `{"operation":"detect","metric":"cpu","value":"high"}`,
			codeInvalid, `value must be a number such as 12.5, not the string "high"`},
		{"whole number", `{"operation":"detect_collective","lookback":"1h","min_metrics":2.5}`,
			codeInvalid, "min_metrics must be a whole number such as 2, not 2.5"},
		{"context value", `{"operation":"detect","metric":"cpu","value":1,"context":{"run":7}}`,
			codeInvalid, "context.run must be a string, not the number 7"},
		{"metrics string", `{"operation":"clear_metrics","metrics":"cpu"}`,
			codeInvalid, `metrics must be an array of strings such as ["db.cpu"], not the string "cpu"`},
		{"lookback number", `{"operation":"detect_window","metric":"cpu","lookback":5}`,
			codeInvalid, `lookback must be a duration string such as "15m", not the number 5`},
		{"all not bool", `{"operation":"clear_metrics","all":"yes"}`,
			codeInvalid, `all must be true or false, not the string "yes"`},
		{"missing operation", `{"metric":"cpu"}`,
			codeInvalid, "missing operation: \"operation\" is required and must be one of ingest, update_baseline, detect, detect_window, detect_collective, list_metrics, clear_metrics or scan"},
		{"empty parameters", ``, codeInvalid, `missing operation: "operation" is required`},
		{"operation not a string", `{"operation":5}`, codeInvalid, `operation must be a string such as "ingest", not the number 5`},
		{"unknown operation", `{"operation":"predict"}`, codeInvalid, `unknown operation "predict": use one of ingest,`},
		{"not an object", `[1,2]`, codeInvalid, `invalid parameters: expected a JSON object such as {"operation": "list_metrics"}, found an array`},
		{"not JSON", `{"operation":`, codeInvalid, "invalid parameters: unexpected end of JSON input: send one JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := execRaw(t, p, tt.raw)
			if res.Success {
				t.Fatalf("call succeeded, want a %s failure", tt.code)
			}
			if res.Error.Code != tt.code {
				t.Errorf("code %s, want %s (%s)", res.Error.Code, tt.code, res.Message)
			}
			if !strings.Contains(res.Message, tt.want) {
				t.Errorf("message %q does not contain %q", res.Message, tt.want)
			}
			if strings.Contains(res.Message, "Go struct") || strings.Contains(res.Message, "json:") {
				t.Errorf("message %q shows decoder internals", res.Message)
			}
		})
	}

	res := execRaw(t, p, `{"operation":"ingest","metric":"m","points":[`+threeValid+`{"timestamp":1767600180,"value":"abc"}]}`)
	if d := pointDetails(t, res); d.Point != 3 || d.Reason != `value must be a number such as 12.5, not the string "abc"` {
		t.Errorf("details %+v, want point 3 and the reason without the path", d)
	}
	var list ListMetricsResult
	mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, &list)
	if len(list.Metrics) != 1 || list.Metrics[0].Samples != 40 {
		t.Errorf("after rejected calls: %+v, want cpu with its 40 points only", list.Metrics)
	}
}

func TestParameterKeysMatchCaseInsensitively(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	// encoding/json matches keys without regard to case, so the checks
	// that explain a failed decode must accept the same keys.
	res := execRaw(t, p, `{"operation":"ingest","Metric":"cpu","points":[{"Timestamp":1767600000,"VALUE":"x"}]}`)
	if res.Success || !strings.Contains(res.Message, `points[0].value must be a number`) {
		t.Errorf("message %q, want the value's type named, not an unknown field", res.Message)
	}
}

func TestOperationNamesMatchHandlers(t *testing.T) {
	handlers := slices.Sorted(maps.Keys(operations))
	names := slices.Sorted(slices.Values(operationNames))
	if !slices.Equal(handlers, names) {
		t.Errorf("operation names %v, handlers %v; want the same", names, handlers)
	}
}

func TestIngestDataCountsCallAndTotal(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(4, 40, 1)}, nil)

	next := points(5, 45, 1)[40:]
	next[4].Metric = "disk"
	var ing IngestResult
	res := mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: next}, &ing)
	if ing.Metrics["cpu"] != 4 || ing.Metrics["disk"] != 1 {
		t.Errorf("metrics %v, want the points of this call: cpu 4, disk 1", ing.Metrics)
	}
	if ing.TotalSamples["cpu"] != 44 || ing.TotalSamples["disk"] != 1 {
		t.Errorf("total_samples %v, want cpu 44, disk 1", ing.TotalSamples)
	}
	if !strings.HasPrefix(res.Message, "ingested 5 points into 2 metrics, 0 anomalies") {
		t.Errorf("message %q", res.Message)
	}
	if !strings.Contains(string(res.Data), `"anomalies":[]`) {
		t.Errorf("data %s, want an empty anomalies array", res.Data)
	}
}

func TestMessagesUseSingular(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	one := []PointParam{{Timestamp: Timestamp{t0}, Value: 1}}
	res := mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: one}, nil)
	if !strings.HasPrefix(res.Message, "ingested 1 point into 1 metric, 0 anomalies") {
		t.Errorf("ingest message %q", res.Message)
	}
	res = mustOK(t, p, "acme", ScanParams{Operation: OpScan, Points: one, Commit: true}, nil)
	if res.Message != "scanned 1 point, 0 anomalies" {
		t.Errorf("scan message %q", res.Message)
	}
	res = mustOK(t, p, "acme", ListMetricsParams{Operation: OpListMetrics}, nil)
	if res.Message != "1 metric" {
		t.Errorf("list_metrics message %q", res.Message)
	}
	res = mustOK(t, p, "acme", ClearMetricsParams{Operation: OpClearMetrics, All: true}, nil)
	if res.Message != "cleared 1 metric" {
		t.Errorf("clear_metrics message %q", res.Message)
	}
}

func TestCollectiveMessageAndEmptyLists(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	ingestCollectiveSpike(t, p)
	res := mustOK(t, p, "acme", DetectCollectiveParams{Operation: OpDetectCollective, Lookback: "2h", Bucket: "5m"}, nil)
	if res.Message != "1 collective anomaly across 3 metrics" {
		t.Errorf("message %q", res.Message)
	}

	res = mustOK(t, p, "acme", DetectCollectiveParams{Operation: OpDetectCollective, Lookback: "10m", Bucket: "5m"}, nil)
	if !strings.Contains(string(res.Data), `"anomalies":[]`) {
		t.Errorf("data %s, want an empty anomalies array", res.Data)
	}
	res = mustOK(t, p, "acme", DetectWindowParams{Operation: OpDetectWindow, Metric: "errors", Lookback: "10m"}, nil)
	if !strings.Contains(string(res.Data), `"anomalies":[]`) {
		t.Errorf("data %s, want an empty anomalies array", res.Data)
	}
}

// longNumber matches a number with more than 6 significant digits.
var longNumber = regexp.MustCompile(`\d\.?\d{6,}`)

func TestMessagesRoundNumbers(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	mustOK(t, p, "acme", IngestParams{Operation: OpIngest, Metric: "cpu", Points: points(4, 100, 10.123456789)}, nil)
	for _, params := range []any{
		DetectParams{Operation: OpDetect, Metric: "cpu", Value: new(10.987654321)},
		MetricParams{Operation: OpUpdateBaseline, Metric: "cpu"},
	} {
		res := mustOK(t, p, "acme", params, nil)
		if longNumber.MatchString(res.Message) {
			t.Errorf("message %q has a number with more than 6 significant digits", res.Message)
		}
	}
	res := mustOK(t, p, "acme", DetectParams{Operation: OpDetect, Metric: "cpu", Value: new(10.987654321)}, nil)
	if !strings.Contains(res.Message, "cpu value 10.9877 is within the expected range") {
		t.Errorf("message %q, want the value rounded to 10.9877", res.Message)
	}
}

func TestScanNameLabelsAnomalies(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	pts := points(7, 200, 10)
	pts[150].Value = 40
	tests := []struct {
		name string
		want string
	}{
		{"nyc taxi.csv", "nyc taxi.csv"},
		{"", defaultScanName},
	}
	for _, tt := range tests {
		var out ScanResult
		mustOK(t, p, "acme", ScanParams{Operation: OpScan, Name: tt.name, Points: pts, Commit: true}, &out)
		if len(out.Anomalies) == 0 {
			t.Fatalf("name %q: no anomaly found", tt.name)
		}
		for _, a := range out.Anomalies {
			if a.Metric != tt.want || !strings.Contains(a.Message, " on "+tt.want+":") {
				t.Errorf("name %q: anomaly of %q with message %q, want %q", tt.name, a.Metric, a.Message, tt.want)
			}
		}
	}
	mustFail(t, p, "acme", ScanParams{Operation: OpScan, Metric: "cpu", Name: "other", Points: pts}, codeInvalid,
		`scan name "other" differs from metric "cpu"`)
	mustFail(t, p, "acme", ScanParams{Operation: OpScan, Name: "tab\there", Points: pts}, codeInvalid, "invalid scan name")
}

func TestIngestCSVEmptyAnomalies(t *testing.T) {
	p := newTestPlugin(t, newMemStorage(), `{}`)
	summary, err := IngestCSV(context.Background(), strings.NewReader(csvSeries(10, -1)), InProcess(p, "acme"), "cpu",
		csvio.ScanOptions{}, nil)
	if err != nil {
		t.Fatalf("IngestCSV: %v", err)
	}
	raw, err := json.Marshal(summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"anomalies":[]`) {
		t.Errorf("summary %s, want an empty anomalies array", raw)
	}
}
