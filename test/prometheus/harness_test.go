package prometheus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// lockedBuffer collects a process's output; exec writes stdout and stderr
// from two goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProcess runs a program until the test ends: SIGTERM, then SIGKILL
// after 10 s. Its output is logged when the test failed.
func startProcess(t *testing.T, name string, path string, args ...string) {
	t.Helper()
	cmd := exec.Command(path, args...)
	output := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, output.String())
		}
	})
}

// freeAddress returns a loopback address whose port was free a moment ago.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond every 200 ms until it returns true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, condition string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, condition)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// daemon is a running `mockforged serve` with its metrics listener.
type daemon struct {
	t           *testing.T
	socket      string
	pluginsDir  string
	metricsAddr string
}

// startDaemon starts the daemon on fresh directories, with its metrics on
// a free loopback port, and waits until its socket accepts requests.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	// Unix socket paths are limited to 108 bytes, which t.TempDir() can
	// exceed, so the socket gets a short directory of its own.
	sockDir, err := os.MkdirTemp("", "mf-prom-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })

	root := t.TempDir()
	d := &daemon{
		t:           t,
		socket:      filepath.Join(sockDir, "mockforged.sock"),
		pluginsDir:  filepath.Join(root, "plugins.d"),
		metricsAddr: freeAddress(t),
	}
	if err := os.MkdirAll(d.pluginsDir, 0o755); err != nil {
		t.Fatal(err)
	}

	startProcess(t, "mockforged serve", daemonBinary, "serve",
		"--socket", d.socket,
		"--plugins-dir", d.pluginsDir,
		"--data-dir", filepath.Join(root, "data"),
		"--metrics-listen", d.metricsAddr,
		"--rescan-interval", "200ms",
	)
	waitFor(t, 20*time.Second, "the daemon's socket", func() bool {
		_, _, code := d.run(nil, "status")
		return code == 0
	})
	return d
}

// run runs the mockforged CLI against the daemon.
func (d *daemon) run(stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	cmd := exec.Command(daemonBinary, append([]string{"--socket", d.socket}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, stdin
	err := cmd.Run()
	code = 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		d.t.Fatalf("run mockforged %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// cli runs the CLI and fails the test when the command fails.
func (d *daemon) cli(stdin string, args ...string) string {
	d.t.Helper()
	var in io.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	out, errOut, code := d.run(in, args...)
	if code != 0 {
		d.t.Fatalf("mockforged %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fetch gets http://addr/metrics with the accept header.
func fetch(t *testing.T, addr, accept string) ([]byte, http.Header) {
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
	return body, resp.Header
}

// parseExposition decodes body in the format its Content-Type names.
func parseExposition(t *testing.T, body []byte, header http.Header) map[string]*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.ResponseFormat(header))
	families := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if err == io.EOF {
			return families
		}
		if err != nil {
			t.Fatalf("parse %s: %v\n%s", header.Get("Content-Type"), err, body)
		}
		families[mf.GetName()] = &mf
	}
}

// familyValue returns the value of the series of family name whose labels
// include want: a counter's or gauge's value, or a histogram's count.
func familyValue(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	for _, m := range families[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if !includes(got, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func includes(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// promtoolCheck runs `promtool check metrics` on a text exposition and
// fails the test on any finding.
func promtoolCheck(t *testing.T, source string, body []byte) {
	t.Helper()
	cmd := exec.Command(requireCommand(t, "promtool"), "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics on %s: %v\n%s", source, err, out)
	}
}

// prometheusServer is a Prometheus server run by the test.
type prometheusServer struct {
	t    *testing.T
	addr string
}

// startPrometheus runs Debian's Prometheus with a 1 s scrape interval on
// the targets, one job per target, and waits until it is ready.
func startPrometheus(t *testing.T, targets map[string]string) *prometheusServer {
	t.Helper()
	path := requireCommand(t, "prometheus")
	dir := t.TempDir()
	var config strings.Builder
	config.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n")
	for job, target := range targets {
		fmt.Fprintf(&config, "  - job_name: %s\n    static_configs:\n      - targets: [%q]\n", job, target)
	}
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &prometheusServer{t: t, addr: freeAddress(t)}
	startProcess(t, "prometheus", path,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.addr,
		"--log.level=warn",
	)
	waitFor(t, 30*time.Second, "Prometheus to be ready", func() bool {
		resp, err := http.Get("http://" + p.addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// sample is one series of a query result.
type sample struct {
	Labels map[string]string
	Value  float64
}

// query runs an instant query through the HTTP API.
func (p *prometheusServer) query(expr string) ([]sample, error) {
	resp, err := http.Get("http://" + p.addr + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode the answer to %s: %w", expr, err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", expr, out.Error)
	}
	samples := make([]sample, 0, len(out.Data.Result))
	for _, r := range out.Data.Result {
		text, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", expr, r.Value[1], err)
		}
		samples = append(samples, sample{Labels: r.Metric, Value: v})
	}
	return samples, nil
}
