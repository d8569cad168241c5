package prommetrics

import (
	"math"
	"slices"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func mustRecord(t *testing.T, s *store, tenant string, r recordRequest) SeriesInfo {
	t.Helper()
	info, err := s.record(tenant, r)
	if err != nil {
		t.Fatalf("record %s for %s: %v", r.Name, tenant, err)
	}
	return info
}

func TestRecordCounterAddsIncrements(t *testing.T) {
	s := newStore(10)
	r := recordRequest{Name: "faults_total", Type: "counter", Labels: map[string]string{"db": "orders"}, Value: ptr(2.0)}
	mustRecord(t, s, "acme", r)
	r.Value = ptr(3.5)
	info := mustRecord(t, s, "acme", r)
	if info.Value == nil || *info.Value != 5.5 {
		t.Errorf("value %v, want 5.5", info.Value)
	}
	if info.Labels["db"] != "orders" || len(info.Labels) != 1 {
		t.Errorf("labels %v, want db=orders only", info.Labels)
	}
}

func TestRecordGaugeSetsValue(t *testing.T) {
	s := newStore(10)
	r := recordRequest{Name: "queue_depth", Type: "gauge", Value: ptr(7.0)}
	mustRecord(t, s, "acme", r)
	r.Value = ptr(-2.0)
	if info := mustRecord(t, s, "acme", r); *info.Value != -2 {
		t.Errorf("value %v, want -2", *info.Value)
	}
}

func TestRecordHistogramCountsBuckets(t *testing.T) {
	s := newStore(10)
	r := recordRequest{Name: "latency_seconds", Type: "histogram", Buckets: []float64{0.1, 1}}
	var info SeriesInfo
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		r.Value = ptr(v)
		info = mustRecord(t, s, "acme", r)
		r.Buckets = nil // later records may omit the buckets
	}
	if *info.Count != 4 || *info.Sum != 3.65 {
		t.Errorf("count %d sum %g, want 4 and 3.65", *info.Count, *info.Sum)
	}
	want := []BucketCount{{LE: 0.1, Count: 2}, {LE: 1, Count: 3}}
	if !slices.Equal(info.Buckets, want) {
		t.Errorf("buckets %v, want %v", info.Buckets, want)
	}
}

func TestRecordRejectsConflicts(t *testing.T) {
	s := newStore(100)
	mustRecord(t, s, "acme", recordRequest{Name: "errors_total", Type: "counter", Labels: map[string]string{"code": "500"}, Value: ptr(1.0)})
	mustRecord(t, s, "acme", recordRequest{Name: "latency", Type: "histogram", Buckets: []float64{1, 2}, Value: ptr(1.0), Help: "Latency."})

	tests := []struct {
		name string
		r    recordRequest
		want string
	}{
		{
			name: "other type",
			r:    recordRequest{Name: "latency", Type: "gauge", Value: ptr(1.0)},
			want: `metric "latency" is a histogram and cannot be recorded as a gauge`,
		},
		{
			name: "missing label",
			r:    recordRequest{Name: "errors_total", Type: "counter", Value: ptr(1.0)},
			want: `has the labels [code], and this record has []`,
		},
		{
			name: "extra label",
			r:    recordRequest{Name: "errors_total", Type: "counter", Labels: map[string]string{"code": "1", "db": "x"}, Value: ptr(1.0)},
			want: `and this record has [code db]`,
		},
		{
			name: "other buckets",
			r:    recordRequest{Name: "latency", Type: "histogram", Buckets: []float64{1, 3}, Value: ptr(1.0)},
			want: "has the buckets [1 2], and this record gives [1 3]",
		},
		{
			name: "other help",
			r:    recordRequest{Name: "latency", Type: "histogram", Value: ptr(1.0), Help: "Other."},
			want: `has the help "Latency."`,
		},
		{
			name: "gauge named like a histogram's samples",
			r:    recordRequest{Name: "latency_count", Type: "gauge", Value: ptr(1.0)},
			want: `would collide with the existing histogram "latency"`,
		},
		{
			name: "gauge named like a counter's family",
			r:    recordRequest{Name: "errors", Type: "gauge", Value: ptr(1.0)},
			want: `would collide with the existing counter "errors_total"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.record("other", tt.r)
			wantCode(t, err, codeConflict, tt.want)
		})
	}
	if n, _ := s.seriesCount("other"); n != 0 {
		t.Errorf("rejected records left %d series for tenant other", n)
	}
}

func TestRecordRejectsInvalidValues(t *testing.T) {
	s := newStore(10)
	tests := []struct {
		name string
		r    recordRequest
		want string
	}{
		{name: "missing value", r: recordRequest{Name: "a_total", Type: "counter"}, want: "missing value"},
		{name: "negative increment", r: recordRequest{Name: "a_total", Type: "counter", Value: ptr(-1.0)}, want: "counters only go up"},
		{name: "NaN", r: recordRequest{Name: "g", Type: "gauge", Value: ptr(math.NaN())}, want: "not a finite number"},
		{name: "unknown type", r: recordRequest{Name: "s", Type: "summary", Value: ptr(1.0)}, want: `unknown type "summary"`},
		{name: "missing type", r: recordRequest{Name: "s", Value: ptr(1.0)}, want: "missing type"},
		{name: "buckets on a gauge", r: recordRequest{Name: "g", Type: "gauge", Value: ptr(1.0), Buckets: []float64{1}}, want: "buckets apply to histograms only"},
		{name: "empty buckets", r: recordRequest{Name: "h", Type: "histogram", Value: ptr(1.0), Buckets: []float64{}}, want: "buckets is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.record("acme", tt.r)
			wantCode(t, err, codeInvalidArgument, tt.want)
		})
	}
	if len(s.families) != 0 {
		t.Errorf("rejected records created %d metrics", len(s.families))
	}
}

func TestRecordOverflowChangesNothing(t *testing.T) {
	s := newStore(10)
	r := recordRequest{Name: "big_total", Type: "counter", Value: ptr(math.MaxFloat64)}
	mustRecord(t, s, "acme", r)
	_, err := s.record("acme", r)
	wantCode(t, err, codeInvalidArgument, "would overflow")
	metrics, err := s.list("acme", "big_total")
	if err != nil {
		t.Fatal(err)
	}
	if got := *metrics[0].Series[0].Value; got != math.MaxFloat64 {
		t.Errorf("value %g after a rejected overflow, want %g", got, math.MaxFloat64)
	}
}

func TestSeriesLimitPerTenant(t *testing.T) {
	s := newStore(2)
	record := func(tenant, db string) error {
		_, err := s.record(tenant, recordRequest{Name: "q", Type: "gauge", Labels: map[string]string{"db": db}, Value: ptr(1.0)})
		return err
	}
	for _, db := range []string{"a", "b"} {
		if err := record("acme", db); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, record("acme", "c"), codeLimitExceeded, `tenant "acme" has 2 series, the limit of max_series_per_tenant (2)`)
	if err := record("acme", "a"); err != nil {
		t.Errorf("update of an existing series at the limit: %v", err)
	}
	if err := record("globex", "c"); err != nil {
		t.Errorf("another tenant is limited by acme's series: %v", err)
	}

	if _, err := s.delete("acme", deleteRequest{Name: "q", Labels: map[string]string{"db": "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := record("acme", "c"); err != nil {
		t.Errorf("record after a delete freed a series: %v", err)
	}
}

func TestDeleteForgetsUnusedMetric(t *testing.T) {
	s := newStore(10)
	mustRecord(t, s, "acme", recordRequest{Name: "x_total", Type: "counter", Value: ptr(1.0)})
	mustRecord(t, s, "globex", recordRequest{Name: "x_total", Type: "counter", Value: ptr(1.0)})

	deleted, err := s.delete("acme", deleteRequest{Name: "x_total"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(deleted, []DeletedMetric{{Name: "x_total", Series: 1}}) {
		t.Errorf("deleted %v", deleted)
	}
	_, err = s.record("acme", recordRequest{Name: "x", Type: "gauge", Value: ptr(1.0)})
	wantCode(t, err, codeConflict, "collide")

	if _, err := s.delete("globex", deleteRequest{All: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.record("acme", recordRequest{Name: "x", Type: "gauge", Value: ptr(1.0)}); err != nil {
		t.Errorf("name not free after every series was deleted: %v", err)
	}
}

func TestDeleteRejectsBadSelections(t *testing.T) {
	s := newStore(10)
	mustRecord(t, s, "acme", recordRequest{Name: "q", Type: "gauge", Labels: map[string]string{"db": "a"}, Value: ptr(1.0)})
	tests := []struct {
		name string
		r    deleteRequest
		code string
		want string
	}{
		{name: "nothing selected", r: deleteRequest{}, code: codeInvalidArgument, want: `either "name"`},
		{name: "name and all", r: deleteRequest{Name: "q", All: true}, code: codeInvalidArgument, want: `either "name"`},
		{name: "labels with all", r: deleteRequest{All: true, Labels: map[string]string{"db": "a"}}, code: codeInvalidArgument, want: `give "name" with it`},
		{name: "unknown metric", r: deleteRequest{Name: "nope"}, code: codeNotFound, want: `metric "nope" not found for tenant "acme"`},
		{name: "other label names", r: deleteRequest{Name: "q", Labels: map[string]string{"host": "a"}}, code: codeInvalidArgument, want: "give every label"},
		{name: "unknown series", r: deleteRequest{Name: "q", Labels: map[string]string{"db": "b"}}, code: codeNotFound, want: "has no series with the labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.delete("acme", tt.r)
			wantCode(t, err, tt.code, tt.want)
		})
	}
	if _, err := s.delete("globex", deleteRequest{Name: "q"}); err == nil {
		t.Error("tenant globex deleted tenant acme's series")
	}
	if n, _ := s.seriesCount("acme"); n != 1 {
		t.Errorf("acme has %d series after rejected deletes, want 1", n)
	}
}

func TestListShowsOnlyTenantSeries(t *testing.T) {
	s := newStore(10)
	mustRecord(t, s, "acme", recordRequest{Name: "q", Type: "gauge", Labels: map[string]string{"db": "b"}, Value: ptr(2.0)})
	mustRecord(t, s, "acme", recordRequest{Name: "q", Type: "gauge", Labels: map[string]string{"db": "a"}, Value: ptr(1.0)})
	mustRecord(t, s, "globex", recordRequest{Name: "q", Type: "gauge", Labels: map[string]string{"db": "c"}, Value: ptr(3.0)})
	mustRecord(t, s, "globex", recordRequest{Name: "only_globex", Type: "gauge", Value: ptr(3.0)})

	metrics, err := s.list("acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics) != 1 || metrics[0].Name != "q" {
		t.Fatalf("metrics %+v, want q only", metrics)
	}
	var dbs []string
	for _, sr := range metrics[0].Series {
		dbs = append(dbs, sr.Labels["db"])
	}
	if !slices.Equal(dbs, []string{"a", "b"}) {
		t.Errorf("series db labels %v, want [a b] in order", dbs)
	}
	_, err = s.list("acme", "only_globex")
	wantCode(t, err, codeNotFound, `metric "only_globex" not found for tenant "acme"`)
}
