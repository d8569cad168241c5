package metrics

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/mockforge/mockforged/host/registry"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func TestListenAddress(t *testing.T) {
	tests := []struct {
		addr string
		want string // the address, or a substring of the error
		ok   bool
	}{
		{addr: "127.0.0.1:9464", want: "127.0.0.1:9464", ok: true},
		{addr: ":9464", want: "127.0.0.1:9464", ok: true},
		{addr: "[::1]:0", want: "[::1]:0", ok: true},
		{addr: "0.0.0.0:9464", want: "0.0.0.0:9464", ok: true},
		{addr: "9464", want: `invalid metrics listen address "9464"`},
		{addr: "127.0.0.1:", want: "the port is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, err := ListenAddress(tt.addr)
			switch {
			case tt.ok && err != nil:
				t.Errorf("rejected: %v", err)
			case tt.ok && got != tt.want:
				t.Errorf("got %q, want %q", got, tt.want)
			case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// scrape gets /metrics from addr with the accept header and parses the
// response in the format its Content-Type names.
func scrape(t *testing.T, addr, accept string) ([]byte, map[string]*dto.MetricFamily) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s %v\n%s", addr, resp.Status, err, body)
	}
	dec := expfmt.NewDecoder(strings.NewReader(string(body)), expfmt.ResponseFormat(resp.Header))
	families := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			return body, families
		} else if err != nil {
			t.Fatalf("parse %s: %v\n%s", resp.Header.Get("Content-Type"), err, body)
		}
		families[mf.GetName()] = &mf
	}
}

func TestServeExpositions(t *testing.T) {
	m := New("1.2.3")
	m.WatchPlugins(func() []registry.Snapshot { return []registry.Snapshot{{State: registry.Running}} })
	m.ObserveCall("dbfault", "acme", nil, &apiv1.ExecuteResponse{Success: true}, nil, 40*time.Millisecond)
	m.PluginRestarted("dbfault", registry.RestartCrash)
	m.LaunchFailed(nil)
	m.HookFailed("audit", "after_execute")
	srv, err := Serve("127.0.0.1:0", m, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	for _, accept := range []string{"text/plain;version=0.0.4", "application/openmetrics-text;version=1.0.0"} {
		t.Run(accept, func(t *testing.T) {
			body, families := scrape(t, srv.Addr(), accept)
			calls := families["mockforged_plugin_calls_total"]
			if calls.GetType() != dto.MetricType_COUNTER || len(calls.GetMetric()) != 1 || calls.GetMetric()[0].GetCounter().GetValue() != 1 {
				t.Errorf("mockforged_plugin_calls_total: %v", calls)
			}
			duration := families["mockforged_plugin_call_duration_seconds"]
			if h := duration.GetMetric()[0].GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.04 {
				t.Errorf("call duration count %d sum %g, want 1 and 0.04", h.GetSampleCount(), h.GetSampleSum())
			}
			for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "mockforged_build_info", "mockforged_plugins"} {
				if families[name] == nil {
					t.Errorf("family %s missing", name)
				}
			}
			if strings.HasPrefix(accept, "text/plain") {
				promtoolCheck(t, body)
			}
		})
	}
}

func TestShutdownStopsServing(t *testing.T) {
	srv, err := Serve("127.0.0.1:0", New("test"), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Shutdown(context.Background())
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still serves after Shutdown", addr)
	}
	if _, err := Serve(addr+"x", New("test"), hclog.NewNullLogger()); err == nil {
		t.Error("Serve accepted an invalid address")
	}
}

// promtoolCheck runs `promtool check metrics` on a text exposition and
// fails the test on any finding.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed: install Debian's prometheus package with `sudo apt-get install prometheus` or `sudo bash .ci/prometheus.sh`")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
