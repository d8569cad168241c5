package prommetrics

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mockforge/mockforged/sdk"
)

const loopbackConfig = `{"listen": "127.0.0.1:0"}`

func TestPluginInfo(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Metadata.ID != "prometheus-metrics" {
		t.Errorf("id %q, want prometheus-metrics", info.Metadata.ID)
	}
	want := []sdk.Capability{sdk.CapabilityMetrics, sdk.CapabilityObservability}
	if !slices.Equal(info.Capabilities, want) {
		t.Errorf("capabilities %v, want %v", info.Capabilities, want)
	}
	if !info.HasConfigValidator {
		t.Error("the plugin does not report its config validator")
	}
	var schema map[string]any
	if err := json.Unmarshal(info.ConfigSchema, &schema); err != nil {
		t.Errorf("config schema is not JSON: %v", err)
	}
}

func TestRecordListDeleteByTenant(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	record := Params{Operation: OpRecord, Name: "chaos_faults_total", Type: "counter",
		Labels: map[string]string{"fault": "latency"}, Value: ptr(2.0)}
	var recorded RecordResult
	mustCall(t, c, "acme", record, &recorded)
	mustCall(t, c, "acme", record, &recorded)
	if *recorded.Series.Value != 4 {
		t.Errorf("counter after two records of 2: %v, want 4", *recorded.Series.Value)
	}
	mustCall(t, c, "globex", record, nil)

	var listed ListResult
	mustCall(t, c, "acme", Params{Operation: OpList}, &listed)
	if len(listed.Metrics) != 1 || len(listed.Metrics[0].Series) != 1 {
		t.Fatalf("acme lists %+v, want one metric with one series", listed.Metrics)
	}
	if listed.Series != 1 || listed.MaxSeries != defaultMaxSeries {
		t.Errorf("series %d of %d, want 1 of %d", listed.Series, listed.MaxSeries, defaultMaxSeries)
	}
	if listed.Listener.Address == "" || listed.Listener.Error != "" {
		t.Errorf("listener %+v, want a bound address and no error", listed.Listener)
	}

	var deleted DeleteResult
	mustCall(t, c, "acme", Params{Operation: OpDelete, Name: "chaos_faults_total"}, &deleted)
	if !slices.Equal(deleted.Deleted, []DeletedMetric{{Name: "chaos_faults_total", Series: 1}}) {
		t.Errorf("deleted %+v", deleted.Deleted)
	}
	mustCall(t, c, "acme", Params{Operation: OpList}, &listed)
	if len(listed.Metrics) != 0 {
		t.Errorf("acme still lists %+v after delete", listed.Metrics)
	}
	mustCall(t, c, "globex", Params{Operation: OpList, Name: "chaos_faults_total"}, &listed)
	if got := *listed.Metrics[0].Series[0].Value; got != 2 {
		t.Errorf("globex's counter %v after acme's delete, want 2", got)
	}
}

func TestExecuteRejectsBadParameters(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	tests := []struct {
		name   string
		params any
		code   string
		want   string
	}{
		{name: "no operation", params: map[string]any{}, code: codeInvalidArgument, want: "missing operation: set operation to one of delete, list, record"},
		{name: "unknown operation", params: map[string]any{"operation": "push"}, code: codeInvalidArgument, want: `unknown operation "push"`},
		{name: "unknown parameter", params: map[string]any{"operation": "list", "nmae": "x"}, code: codeInvalidArgument, want: `unknown field "nmae"`},
		{name: "parameter of another operation", params: map[string]any{"operation": "list", "value": 1}, code: codeInvalidArgument, want: `parameter "value" does not apply to operation list`},
		{name: "value as a string", params: map[string]any{"operation": "record", "name": "g", "type": "gauge", "value": "1"}, code: codeInvalidArgument, want: "invalid parameters"},
		{name: "invalid name", params: Params{Operation: OpRecord, Name: "db.latency", Type: "gauge", Value: ptr(1.0)}, code: codeInvalidArgument, want: `invalid metric name "db.latency"`},
		{name: "invalid label", params: Params{Operation: OpRecord, Name: "g", Type: "gauge", Value: ptr(1.0), Labels: map[string]string{"0db": "x"}}, code: codeInvalidArgument, want: `invalid label name "0db"`},
		{name: "list unknown", params: Params{Operation: OpList, Name: "nope"}, code: codeNotFound, want: `metric "nope" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, c, "acme", tt.params, tt.code, tt.want)
		})
	}
}

func TestTypeConflictAcrossTenants(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	mustCall(t, c, "acme", Params{Operation: OpRecord, Name: "queue_depth", Type: "gauge", Value: ptr(3.0)}, nil)
	mustFail(t, c, "globex", Params{Operation: OpRecord, Name: "queue_depth", Type: "histogram", Value: ptr(3.0)},
		codeConflict, `metric "queue_depth" is a gauge and cannot be recorded as a histogram`)
}

func TestSeriesLimitFromConfig(t *testing.T) {
	c, _ := startPlugin(t, `{"listen": "127.0.0.1:0", "max_series_per_tenant": 1}`)
	mustCall(t, c, "acme", Params{Operation: OpRecord, Name: "up_total", Type: "counter", Value: ptr(1.0), Labels: map[string]string{"db": "a"}}, nil)
	mustFail(t, c, "acme", Params{Operation: OpRecord, Name: "up_total", Type: "counter", Value: ptr(1.0), Labels: map[string]string{"db": "b"}},
		codeLimitExceeded, "raise max_series_per_tenant")

	if err := c.Initialize(context.Background(), json.RawMessage(`{"listen": "127.0.0.1:0", "max_series_per_tenant": 2}`)); err != nil {
		t.Fatal(err)
	}
	mustCall(t, c, "acme", Params{Operation: OpRecord, Name: "up_total", Type: "counter", Value: ptr(1.0), Labels: map[string]string{"db": "b"}}, nil)
}

func TestValidateConfig(t *testing.T) {
	p := newPlugin(testLogger(t))
	tests := []struct {
		name   string
		config string
		want   string // substring of the error; empty for a valid config
	}{
		{name: "empty", config: `{}`},
		{name: "loopback IPv6", config: `{"listen": "[::1]:9465"}`},
		{name: "localhost", config: `{"listen": "localhost:9465"}`},
		{name: "empty host", config: `{"listen": ":9465"}`},
		{name: "off", config: `{"listen": ""}`},
		{name: "all interfaces allowed", config: `{"listen": "0.0.0.0:9465", "allow_non_loopback": true}`},
		{name: "pushgateway", config: `{"pushgateway": {"url": "http://127.0.0.1:9091", "job": "chaos", "interval": "5s", "grouping": {"instance": "a", "region": "eu"}}}`},
		{name: "all interfaces", config: `{"listen": "0.0.0.0:9465"}`, want: `listen "0.0.0.0:9465" is not a loopback address`},
		{name: "host name", config: `{"listen": "metrics.example.com:9465"}`, want: "set \"allow_non_loopback\": true"},
		{name: "no port", config: `{"listen": "127.0.0.1"}`, want: `listen "127.0.0.1" is not host:port`},
		{name: "bad port", config: `{"listen": "127.0.0.1:99999"}`, want: "invalid port"},
		{name: "unknown key", config: `{"listn": "127.0.0.1:1"}`, want: `unknown field "listn"`},
		{name: "negative limit", config: `{"max_series_per_tenant": -1}`, want: "is negative"},
		{name: "push scheme", config: `{"pushgateway": {"url": "ftp://127.0.0.1:9091"}}`, want: "not an http or https URL"},
		{name: "push password hidden", config: `{"pushgateway": {"url": "ftp://user:s3cret@127.0.0.1:9091"}}`, want: "user:xxxxx@"},
		{name: "push path", config: `{"pushgateway": {"url": "http://127.0.0.1:9091/metrics/job/x"}}`, want: "contains the push path"},
		{name: "push interval", config: `{"pushgateway": {"url": "http://127.0.0.1:9091", "interval": "10ms"}}`, want: "at least 1s"},
		{name: "push grouping job", config: `{"pushgateway": {"url": "http://127.0.0.1:9091", "grouping": {"job": "x"}}}`, want: `label name "job" is reserved`},
		{name: "push grouping tenant", config: `{"pushgateway": {"url": "http://127.0.0.1:9091", "grouping": {"tenant": "x"}}}`, want: `label name "tenant" is reserved`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.ValidateConfig(context.Background(), json.RawMessage(tt.config))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid config rejected: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("config accepted, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the URL's password", err)
			}
		})
	}
}

func TestInitializeKeepsListenerWhenNewAddressIsBusy(t *testing.T) {
	c, _ := startPlugin(t, loopbackConfig)
	addr := listenerAddress(t, c)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	config := `{"listen": "` + busy.Addr().String() + `"}`
	err = c.Initialize(context.Background(), json.RawMessage(config))
	if err == nil || !strings.Contains(err.Error(), "choose another address") {
		t.Fatalf("initialize on a busy address: %v, want an error naming the fix", err)
	}
	if got := listenerAddress(t, c); got != addr {
		t.Errorf("listener moved to %s after a failed change, want %s", got, addr)
	}
	fetch(t, addr, acceptText)
}

func TestDefaultAddressBusyIsReported(t *testing.T) {
	busy, err := net.Listen("tcp", DefaultListen)
	if err != nil {
		t.Skipf("the default address %s is in use by another program, which this test needs free: %v", DefaultListen, err)
	}
	defer busy.Close()

	c, _ := startPlugin(t, `{}`)
	var listed ListResult
	mustCall(t, c, "acme", Params{Operation: OpList}, &listed)
	if listed.Listener.Address != "" || !strings.Contains(listed.Listener.Error, "listen on the default address 127.0.0.1:9465") {
		t.Errorf("listener %+v, want no address and the bind error", listed.Listener)
	}
	mustCall(t, c, "acme", Params{Operation: OpRecord, Name: "g", Type: "gauge", Value: ptr(1.0)}, nil)
}

func TestListenerMovesAndCleanupStopsIt(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newPlugin(testLogger(t))
	ctx := context.Background()
	if err := p.Initialize(ctx, json.RawMessage(loopbackConfig)); err != nil {
		t.Fatal(err)
	}
	first, _ := p.status()

	next := freeAddress(t)
	if err := p.Initialize(ctx, json.RawMessage(`{"listen": "`+next+`"}`)); err != nil {
		t.Fatal(err)
	}
	moved, _ := p.status()
	if moved.Address != next {
		t.Errorf("listener on %s, want %s", moved.Address, next)
	}
	if _, err := net.DialTimeout("tcp", first.Address, time.Second); err == nil {
		t.Errorf("the old listener %s still accepts connections", first.Address)
	}
	fetch(t, next, acceptText)

	if err := p.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + next + "/metrics"); err == nil {
		t.Errorf("the listener %s still serves after Cleanup", next)
	}
	if err := p.Cleanup(ctx); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestListenerOff(t *testing.T) {
	c, _ := startPlugin(t, `{"listen": ""}`)
	var listed ListResult
	mustCall(t, c, "acme", Params{Operation: OpList}, &listed)
	if listed.Listener != (ListenerStatus{}) {
		t.Errorf("listener %+v, want none", listed.Listener)
	}
}
