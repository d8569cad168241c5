package hooks

import (
	"encoding/json"
	"testing"
	"time"
)

// marshalLine returns what the audit log held before appendAuditLine:
// json.Marshal of the record and a newline.
func marshalLine(t testing.TB, rec *AuditRecord) string {
	t.Helper()
	line, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(line) + "\n"
}

func TestAuditLineMatchesJSONMarshal(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC)
	tests := []struct {
		name string
		rec  AuditRecord
	}{
		{"success", AuditRecord{Time: at, RequestID: "r1", Tenant: "acme", PluginID: "noop", PluginVersion: "1.0.0", DurationMS: 0.125, Outcome: "success"}},
		{"zero record", AuditRecord{}},
		{"whole second", AuditRecord{Time: time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC), Outcome: "success"}},
		{"time with offset", AuditRecord{Time: time.Date(2026, 3, 1, 12, 30, 45, 5000, time.FixedZone("x", -(3*3600+30*60))), Outcome: "success"}},
		{"scenario and execution", AuditRecord{Time: at, Tenant: "t", Scenario: "s-1", Execution: "e-2", Outcome: "failure", Error: "nope"}},
		{"long duration", AuditRecord{Time: at, DurationMS: 1234567.891, Outcome: "success"}},
		{"tiny duration", AuditRecord{Time: at, DurationMS: 1e-7, Outcome: "success"}},
		{"huge duration", AuditRecord{Time: at, DurationMS: 3e21, Outcome: "success"}},
		{"negative duration", AuditRecord{Time: at, DurationMS: -0.001, Outcome: "success"}},
		{"quotes and control characters", AuditRecord{Time: at, Outcome: "error", Error: "a \"b\" \\ c\n\r\t\b\f\x00\x1f\x7f end"}},
		{"HTML characters", AuditRecord{Time: at, RequestID: "<script>&</script>", Outcome: "error", Error: "x > y & y < z"}},
		{"line and paragraph separators", AuditRecord{Time: at, Outcome: "error", Error: "a\u2028b\u2029c"}},
		{"invalid UTF-8", AuditRecord{Time: at, Tenant: "bad\xff\xfe", Outcome: "error", Error: "\xe2\x82 cut \xc3"}},
		{"multibyte text", AuditRecord{Time: at, Tenant: "müller", Outcome: "error", Error: "échec: 失败 🙃"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendAuditLine(nil, &tt.rec)
			if err != nil {
				t.Fatalf("appendAuditLine: %v", err)
			}
			if want := marshalLine(t, &tt.rec); string(got) != want {
				t.Errorf("line differs from json.Marshal:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestAuditLineYearOutOfRange(t *testing.T) {
	rec := AuditRecord{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Outcome: "success"}
	if _, err := appendAuditLine(nil, &rec); err == nil {
		t.Error("appendAuditLine accepted year 10000, which RFC 3339 cannot represent")
	}
}

func TestAuditLineAppendsToBuffer(t *testing.T) {
	rec := AuditRecord{Outcome: "success"}
	got, err := appendAuditLine([]byte("prefix"), &rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := "prefix" + marshalLine(t, &rec); string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzAuditLine(f *testing.F) {
	f.Add("r1", "acme", "", "", "noop", "1.0.0", 0.125, "success", "", int64(1772368245123456789))
	f.Add("<&>", "t\u2028", "s\n", "e\x00", "p\xff", "v", 1e-9, "error", "boom \"x\"", int64(0))
	f.Fuzz(func(t *testing.T, requestID, tenant, scenario, execution, pluginID, version string, durationMS float64, outcome, errMsg string, unixNano int64) {
		rec := AuditRecord{
			Time:          time.Unix(0, unixNano).UTC(),
			RequestID:     requestID,
			Tenant:        tenant,
			Scenario:      scenario,
			Execution:     execution,
			PluginID:      pluginID,
			PluginVersion: version,
			DurationMS:    durationMS,
			Outcome:       outcome,
			Error:         errMsg,
		}
		want, wantErr := json.Marshal(&rec)
		got, err := appendAuditLine(nil, &rec)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("appendAuditLine error %v, json.Marshal error %v", err, wantErr)
		}
		if err == nil && string(got) != string(want)+"\n" {
			t.Errorf("line differs from json.Marshal:\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkAuditLine compares appendAuditLine, which the audit hook uses,
// with json.Marshal, which it replaced, on a typical record.
func BenchmarkAuditLine(b *testing.B) {
	rec := AuditRecord{
		Time:          time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC),
		RequestID:     "3f9c2a7be81d4c05",
		Tenant:        "default",
		PluginID:      "noop",
		PluginVersion: "1.0.0",
		DurationMS:    0.412,
		Outcome:       "success",
	}
	b.Run("encoder=append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			line, err := appendAuditLine(buf[:0], &rec)
			if err != nil {
				b.Fatal(err)
			}
			buf = line
		}
	})
	b.Run("encoder=json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			line, err := json.Marshal(&rec)
			if err != nil {
				b.Fatal(err)
			}
			_ = append(line, '\n')
		}
	})
}
