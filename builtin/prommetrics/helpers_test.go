package prommetrics

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/mockforge/mockforged/sdk"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

// Accept headers of a Prometheus server that requests one format.
const (
	acceptText        = "text/plain;version=0.0.4"
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0"
)

// testLogger writes the plugin's logs to the test's output.
func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Output: testWriter{t}, Level: hclog.Debug})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startPlugin serves a new plugin in process over the SDK's gRPC transport,
// initialized with config, and runs its Cleanup when the test ends.
func startPlugin(t *testing.T, config string) (*sdktest.Client, *Plugin) {
	t.Helper()
	p := newPlugin(testLogger(t))
	c := sdktest.NewInProcess(t, p)
	if err := c.Initialize(context.Background(), json.RawMessage(config)); err != nil {
		t.Fatalf("initialize with %s: %v", config, err)
	}
	t.Cleanup(func() {
		if err := c.Cleanup(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return c, p
}

// call runs one operation for tenant and returns the result; a transport
// error fails the test.
func call(t *testing.T, c *sdktest.Client, tenant string, params any) *sdk.ExecuteResult {
	t.Helper()
	raw, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Execute(context.Background(), &sdk.ExecuteRequest{TenantID: tenant, Parameters: raw})
	if err != nil {
		t.Fatalf("execute %s: %v", raw, err)
	}
	return res
}

// mustCall is call that fails the test when the call failed, and decodes
// the result's data into out when out is not nil.
func mustCall(t *testing.T, c *sdktest.Client, tenant string, params, out any) {
	t.Helper()
	res := call(t, c, tenant, params)
	if !res.Success {
		t.Fatalf("call %v for %s failed: %s: %s", params, tenant, res.Error.Code, res.Error.Message)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode result %s: %v", res.Data, err)
		}
	}
}

// mustFail checks that the call fails with code and a message containing
// substr.
func mustFail(t *testing.T, c *sdktest.Client, tenant string, params any, code, substr string) {
	t.Helper()
	res := call(t, c, tenant, params)
	if res.Success {
		t.Fatalf("call %v succeeded with %s, want code %s", params, res.Data, code)
	}
	if res.Error.Code != code || !strings.Contains(res.Error.Message, substr) {
		t.Errorf("call %v failed with %s: %q, want code %s and a message containing %q", params, res.Error.Code, res.Error.Message, code, substr)
	}
}

// listenerAddress returns the address the plugin's listener is bound to.
func listenerAddress(t *testing.T, c *sdktest.Client) string {
	t.Helper()
	var out ListResult
	mustCall(t, c, "", Params{Operation: OpList}, &out)
	if out.Listener.Address == "" {
		t.Fatalf("the listener is not running: %+v", out.Listener)
	}
	return out.Listener.Address
}

// fetch gets http://addr/metrics with the accept header and returns the
// body and the response's Content-Type.
func fetch(t *testing.T, addr, accept string) ([]byte, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape of %s: %v", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %s: %s", addr, resp.Status, body)
	}
	return body, resp.Header.Get("Content-Type")
}

// parseExposition decodes body in the format named by contentType.
func parseExposition(t *testing.T, body []byte, contentType string) map[string]*dto.MetricFamily {
	t.Helper()
	header := http.Header{}
	header.Set("Content-Type", contentType)
	format := expfmt.ResponseFormat(header)
	dec := expfmt.NewDecoder(strings.NewReader(string(body)), format)
	families := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if err == io.EOF {
			return families
		}
		if err != nil {
			t.Fatalf("parse %s exposition: %v\n%s", format, err, body)
		}
		families[mf.GetName()] = &mf
	}
}

// findMetric returns the metric of family name whose labels include want.
func findMetric(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf := families[name]
	if mf == nil {
		t.Fatalf("family %s missing; families: %v", name, familyNames(families))
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if match {
			return m
		}
	}
	t.Fatalf("family %s has no series with labels %v: %v", name, want, mf.GetMetric())
	return nil
}

func familyNames(families map[string]*dto.MetricFamily) []string {
	var names []string
	for name := range families {
		names = append(names, name)
	}
	return names
}

// requireCommand returns the path of a program the test runs, failing the
// test with the way to install it when it is missing.
func requireCommand(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: install Debian's prometheus and prometheus-pushgateway packages with `sudo apt-get install prometheus prometheus-pushgateway` or `sudo bash .ci/prometheus.sh`", name)
	}
	return path
}

// promtoolCheck runs `promtool check metrics` on an exposition and fails
// the test on any finding.
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	cmd := exec.Command(requireCommand(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s\nexposition:\n%s", err, out, body)
	}
}

// freeAddress returns a loopback address with a port that was free a
// moment ago.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitFor polls cond every 100 ms until it returns true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, condition string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, condition)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startProcess runs a program until the test ends and returns its combined
// output so far on demand.
func startProcess(t *testing.T, path string, args ...string) func() string {
	t.Helper()
	cmd := exec.Command(path, args...)
	output := &lockedWriter{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", path, output.String())
		}
	})
	return output.String
}

// lockedWriter collects a process's output; exec writes stdout and
// stderr from two goroutines.
type lockedWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
