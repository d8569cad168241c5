package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func TestMetricsRecordSendsParameters(t *testing.T) {
	fake, socket := startFakeDaemon(t)

	res := runCLI(t, "", "--socket", socket, "metrics", "record", "chaos_latency_seconds", "0.25",
		"--type", "histogram", "--label", "db=orders", "-l", "fault=slow", "--buckets", "0.1,0.5", "--help-text", "Latency.", "--tenant", "acme")

	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	req := fake.lastExecute()
	if req.GetPluginId() != "prometheus-metrics" || req.GetTenantId() != "acme" {
		t.Errorf("plugin %q tenant %q, want prometheus-metrics and acme", req.GetPluginId(), req.GetTenantId())
	}
	var got map[string]any
	if err := json.Unmarshal(req.GetParametersJson(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"operation": "record", "name": "chaos_latency_seconds", "type": "histogram", "help": "Latency.", "value": 0.25,
		"labels": map[string]any{"db": "orders", "fault": "slow"}, "buckets": []any{0.1, 0.5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parameters %v, want %v", got, want)
	}
}

func TestMetricsDeleteSendsParameters(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "metric", args: []string{"chaos_up"}, want: `{"operation":"delete","name":"chaos_up"}`},
		{name: "series", args: []string{"chaos_up", "--label", "db=a"}, want: `{"operation":"delete","name":"chaos_up","labels":{"db":"a"}}`},
		{name: "all", args: []string{"--all"}, want: `{"operation":"delete","all":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			res := runCLI(t, "", append([]string{"--socket", socket, "metrics", "delete"}, tt.args...)...)
			if res.code != exitOK {
				t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
			}
			if got := string(fake.lastExecute().GetParametersJson()); got != tt.want {
				t.Errorf("parameters %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMetricsUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "value not a number", args: []string{"record", "x_total", "one", "--type", "counter"}, want: `invalid VALUE "one"`},
		{name: "missing type", args: []string{"record", "x_total", "1"}, want: `required flag(s) "type" not set`},
		{name: "unknown type", args: []string{"record", "x", "1", "--type", "summary"}, want: "use one of counter, gauge, histogram"},
		{name: "label without value", args: []string{"record", "x", "1", "--type", "gauge", "--label", "db"}, want: `invalid --label "db": expected name=value`},
		{name: "label twice", args: []string{"record", "x", "1", "--type", "gauge", "-l", "db=a", "-l", "db=b"}, want: `label "db" is given twice`},
		{name: "delete nothing", args: []string{"delete"}, want: "give either a metric NAME or --all"},
		{name: "delete name and all", args: []string{"delete", "x", "--all"}, want: "give either a metric NAME or --all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, socket := startFakeDaemon(t)
			res := runCLI(t, "", append([]string{"--socket", socket, "metrics"}, tt.args...)...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", res.code, res.stderr, exitUsage, tt.want)
			}
			if n := fake.requestCount(); n != 0 {
				t.Errorf("%d requests sent for an invalid command line", n)
			}
		})
	}
}

func TestMetricsListTable(t *testing.T) {
	fake, socket := startFakeDaemon(t)
	fake.executeResult = &apiv1.ExecuteResponse{Success: true, PluginId: "prometheus-metrics", DataJson: []byte(`{
		"metrics": [
			{"name": "chaos_faults_total", "type": "counter", "help": "h", "label_names": ["fault"],
			 "series": [{"labels": {"fault": "latency"}, "value": 3}]},
			{"name": "chaos_seconds", "type": "histogram", "help": "h", "label_names": [], "buckets": [1],
			 "series": [{"labels": {}, "count": 2, "sum": 1.5, "buckets": [{"le": 1, "count": 1}]}]}
		],
		"series": 2, "max_series": 1000,
		"listener": {"address": "127.0.0.1:9465"},
		"pushgateway": {"url": "http://127.0.0.1:9091", "job": "mockforged", "interval": "15s", "last_error": "connection refused"}
	}`)}

	res := runCLI(t, "", "--socket", socket, "metrics", "list")

	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(res.stdout, "\n") {
		rows[strings.Join(strings.Fields(line), " ")] = true
	}
	for _, want := range []string{
		"METRIC TYPE LABELS VALUE",
		`chaos_faults_total counter fault="latency" 3`,
		"chaos_seconds histogram - count=2 sum=1.5",
		"Listener: http://127.0.0.1:9465/metrics",
		"Series: 2 of 1000",
		"Pushgateway: http://127.0.0.1:9091 job mockforged every 15s, last push failed: connection refused",
	} {
		if !rows[want] {
			t.Errorf("list output lacks the row %q:\n%s", want, res.stdout)
		}
	}
}
