package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mockforge/mockforged/builtin/anomaly"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// buildMockforged compiles this command into a temporary directory.
func buildMockforged(tb testing.TB) string {
	tb.Helper()
	binary := filepath.Join(tb.TempDir(), "mockforged")
	cmd := exec.Command("go", "build", "-o", binary, ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("build mockforged: %v\n%s", err, stderr.String())
	}
	return binary
}

// startRealDaemon runs `mockforged serve` from binary on fresh directories,
// waits until its built-in anomaly detector runs and returns the socket.
// The daemon is killed when the test ends.
func startRealDaemon(tb testing.TB, binary string) string {
	tb.Helper()
	// A unix socket path has at most about 100 bytes, so the socket gets a
	// short directory of its own.
	sockDir, err := os.MkdirTemp("", "mf-anomaly-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(sockDir) })
	root := tb.TempDir()
	socket := filepath.Join(sockDir, "d.sock")
	output := &syncBuffer{}
	cmd := exec.Command(binary, "serve", "--socket", socket,
		"--data-dir", filepath.Join(root, "data"), "--plugins-dir", filepath.Join(root, "plugins"))
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start daemon: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		if tb.Failed() {
			tb.Logf("daemon output:\n%s", output.String())
		}
	})

	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatalf("dial daemon: %v", err)
	}
	defer conn.Close()
	client := apiv1.NewDaemonClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if anomalyRunning(client) {
			return socket
		}
		select {
		case <-exited:
			tb.Fatalf("daemon exited before the anomaly detector ran:\n%s", output.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the anomaly detector did not run within 30s:\n%s", output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// anomalyRunning reports whether the daemon lists the anomaly detector as
// running.
func anomalyRunning(client apiv1.DaemonClient) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := client.ListPlugins(ctx, &apiv1.ListPluginsRequest{})
	if err != nil {
		return false
	}
	for _, p := range resp.GetPlugins() {
		if p.GetId() == anomaly.PluginID && p.GetState() == apiv1.PluginState_PLUGIN_STATE_RUNNING {
			return true
		}
	}
	return false
}

// latencyCSV returns a header and the rows from..to-1 of a noisy
// one-minute series, with a spike at row spike (-1 for none) and the value
// text bad at row badRow (-1 for none).
func latencyCSV(from, to, spike, badRow int, bad string) string {
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		value := fmt.Sprintf("%.2f", 200+10*math.Sin(float64(i)*0.7)+float64((i*7919)%13))
		switch i {
		case spike:
			value = "900"
		case badRow:
			value = bad
		}
		fmt.Fprintf(&b, "%s,%s\n", start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), value)
	}
	return b.String()
}

// writeFile writes content to a file in a temporary directory.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// metricInfo is the part of a list_metrics entry that the tests check.
type metricInfo struct {
	Name    string                     `json:"name"`
	Samples int64                      `json:"samples"`
	Raw     map[string]json.RawMessage `json:"-"`
}

// listMetrics returns the metrics of the default tenant through
// `mockforged exec`, each with its raw JSON members.
func listMetrics(t *testing.T, socket string) map[string]metricInfo {
	t.Helper()
	res := runCLI(t, "", "--socket", socket, "exec", anomaly.PluginID, "--param", "operation=list_metrics", "-o", "json")
	if res.code != exitOK {
		t.Fatalf("list_metrics: exit %d, stderr %s", res.code, res.stderr)
	}
	var view struct {
		Data struct {
			Metrics []json.RawMessage `json:"metrics"`
		} `json:"data_json"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &view); err != nil {
		t.Fatalf("list_metrics output is not JSON: %v\n%s", err, res.stdout)
	}
	out := map[string]metricInfo{}
	for _, raw := range view.Data.Metrics {
		var m metricInfo
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &m.Raw); err != nil {
			t.Fatal(err)
		}
		out[m.Name] = m
	}
	return out
}

// TestAnomalyCLI runs the anomaly commands in this process against a real
// daemon, which runs the built-in detector as a plugin process.
func TestAnomalyCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds mockforged and runs its daemon")
	}
	socket := startRealDaemon(t, buildMockforged(t))

	t.Run("missing file", func(t *testing.T) { testAnomalyMissingFile(t, socket) })
	t.Run("ingest overlap", func(t *testing.T) { testAnomalyIngestOverlap(t, socket) })
	t.Run("scan overlap", func(t *testing.T) { testAnomalyScanOverlap(t, socket) })
	t.Run("scan failure output", func(t *testing.T) { testAnomalyScanFailureOutput(t, socket) })
	t.Run("scan extra column", func(t *testing.T) { testAnomalyScanExtraColumn(t, socket) })
	t.Run("scan bad metric name", func(t *testing.T) { testAnomalyScanBadMetricName(t, socket) })
	t.Run("scan json details", func(t *testing.T) { testAnomalyScanJSONDetails(t, socket) })
	t.Run("detect flags", func(t *testing.T) { testAnomalyDetectFlags(t, socket) })
	t.Run("young metric baseline", func(t *testing.T) { testAnomalyYoungMetric(t, socket) })
	t.Run("ingest lists anomalies", func(t *testing.T) { testAnomalyIngestListsAnomalies(t, socket) })
	t.Run("ingest json empty anomalies", func(t *testing.T) { testAnomalyIngestJSONEmpty(t, socket) })
	t.Run("scan drop reports count", func(t *testing.T) { testAnomalyScanDropCount(t, socket) })
	t.Run("scan names anomalies by file", func(t *testing.T) { testAnomalyScanName(t, socket) })
	t.Run("value out of range", func(t *testing.T) { testAnomalyValueOutOfRange(t, socket) })
	t.Run("exec parameter errors", func(t *testing.T) { testAnomalyExecParameterErrors(t, socket) })
}

func testAnomalyMissingFile(t *testing.T, socket string) {
	missing := filepath.Join(t.TempDir(), "absent.csv")
	for _, args := range [][]string{
		{"anomaly", "ingest", "api.latency", "--file", missing},
		{"anomaly", "scan", missing},
	} {
		res := runCLI(t, "", append([]string{"--socket", socket}, args...)...)
		if res.code != exitFailure {
			t.Errorf("%v: exit %d, want %d", args, res.code, exitFailure)
		}
		if n := strings.Count(res.stderr, missing); n != 1 {
			t.Errorf("%v: stderr %q names the path %d times, want once", args, res.stderr, n)
		}
		for _, want := range []string{"no such file or directory", "check the path"} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("%v: stderr %q lacks %q", args, res.stderr, want)
			}
		}
	}
}

func testAnomalyIngestOverlap(t *testing.T, socket string) {
	first := writeFile(t, "first.csv", latencyCSV(0, 500, -1, -1, ""))
	res := runCLI(t, "", "--socket", socket, "anomaly", "ingest", "ingest.latency", "--file", first)
	if res.code != exitOK {
		t.Fatalf("first ingest: exit %d, stderr %s", res.code, res.stderr)
	}

	// The last 100 stored rows and 20 new ones, from stdin.
	resend := latencyCSV(400, 520, -1, -1, "")
	res = runCLI(t, resend, "--socket", socket, "anomaly", "ingest", "ingest.latency", "--file", "-")
	if res.code != exitFailure {
		t.Fatalf("overlap under reject: exit %d, want %d", res.code, exitFailure)
	}
	for _, want := range []string{"line 2:", "2026-01-05T06:40:00Z", "--out-of-order drop"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q lacks %q", res.stderr, want)
		}
	}
	if n := listMetrics(t, socket)["ingest.latency"].Samples; n != 500 {
		t.Errorf("%d samples after a rejected ingest, want the 500 stored before", n)
	}

	res = runCLI(t, resend, "--socket", socket, "anomaly", "ingest", "ingest.latency", "--file", "-", "--out-of-order", "drop")
	if res.code != exitOK {
		t.Fatalf("overlap under drop: exit %d, stderr %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "ingested 20 points") || !strings.Contains(res.stdout, "100 out-of-order rows dropped") {
		t.Errorf("stdout %q, want 20 points ingested and 100 rows dropped", res.stdout)
	}
	if n := listMetrics(t, socket)["ingest.latency"].Samples; n != 520 {
		t.Errorf("%d samples, want 520: every row once", n)
	}
}

func testAnomalyScanOverlap(t *testing.T, socket string) {
	first := writeFile(t, "first.csv", latencyCSV(0, 500, -1, -1, ""))
	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", first, "--metric", "scan.latency")
	if res.code != exitOK {
		t.Fatalf("first scan: exit %d, stderr %s", res.code, res.stderr)
	}

	resend := writeFile(t, "resend.csv", latencyCSV(450, 530, -1, -1, ""))
	res = runCLI(t, "", "--socket", socket, "anomaly", "scan", resend, "--metric", "scan.latency")
	if res.code != exitFailure || res.stdout != "" {
		t.Fatalf("overlap under reject: exit %d, stdout %q; want %d and no output", res.code, res.stdout, exitFailure)
	}
	for _, want := range []string{"line 2:", "--out-of-order drop"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q lacks %q", res.stderr, want)
		}
	}

	res = runCLI(t, "", "--socket", socket, "anomaly", "scan", resend, "--metric", "scan.latency", "--out-of-order", "drop", "-o", "json")
	if res.code != exitOK {
		t.Fatalf("overlap under drop: exit %d, stderr %s", res.code, res.stderr)
	}
	var doc struct {
		Rows []struct {
			Timestamp string `json:"timestamp"`
		} `json:"rows"`
		Summary struct {
			Rows    int `json:"rows"`
			Dropped int `json:"dropped"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, res.stdout)
	}
	if doc.Summary.Rows != 30 || doc.Summary.Dropped != 50 || len(doc.Rows) != 30 {
		t.Fatalf("%d rows with summary %+v, want 30 rows written and 50 dropped", len(doc.Rows), doc.Summary)
	}
	if doc.Rows[0].Timestamp != "2026-01-05T08:20:00Z" {
		t.Errorf("first row written %s, want the first new row 2026-01-05T08:20:00Z", doc.Rows[0].Timestamp)
	}
	if n := listMetrics(t, socket)["scan.latency"].Samples; n != 530 {
		t.Errorf("%d samples, want 530: every row once", n)
	}
}

func testAnomalyScanFailureOutput(t *testing.T, socket string) {
	// 10,320 rows, as many as the NAB nyc_taxi series, with a bad value on
	// line 10000, so that several batches are scored before the failure.
	file := writeFile(t, "taxi.csv", latencyCSV(0, 10320, -1, 9998, "12..5"))

	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", file, "--metric", "failed.scan")
	if res.code != exitFailure || !strings.Contains(res.stderr, `line 10000: "12..5": invalid value`) {
		t.Fatalf("csv: exit %d, stderr %q; want a failure on line 10000", res.code, res.stderr)
	}
	if res.stdout != "" {
		t.Errorf("csv: a failed scan printed %d bytes on stdout, want none: ...%q", len(res.stdout), res.stdout[max(0, len(res.stdout)-60):])
	}
	if _, stored := listMetrics(t, socket)["failed.scan"]; stored {
		t.Errorf("a failed scan stored its metric")
	}

	res = runCLI(t, "", "--socket", socket, "anomaly", "scan", file, "-o", "json")
	if res.code != exitFailure {
		t.Fatalf("json: exit %d, want %d", res.code, exitFailure)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("json output is not one document: %v\n...%s", err, res.stdout[max(0, len(res.stdout)-200):])
	}
	var failure struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(doc["error"], &failure); err != nil || len(doc) != 1 {
		t.Fatalf("json output %s, want only an error member", res.stdout)
	}
	if !strings.Contains(failure.Message, "line 10000") {
		t.Errorf("error message %q does not name line 10000", failure.Message)
	}
}

func testAnomalyScanExtraColumn(t *testing.T, socket string) {
	file := writeFile(t, "comma.csv", "timestamp,value\n2026-01-05T00:00:00Z,13370.5\n2026-01-05T00:01:00Z,13370,7\n")
	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", file)
	if res.code != exitFailure {
		t.Fatalf("exit %d, want %d", res.code, exitFailure)
	}
	if !strings.Contains(res.stderr, "line 3: expected 2 fields (timestamp,value), found 3") || !strings.Contains(res.stderr, "13370.7") {
		t.Errorf("stderr %q, want the line, the field count and the value with a decimal point", res.stderr)
	}

	// A scan's own output is read as timestamp,value.
	scored := writeFile(t, "scored.csv", "timestamp,value,anomaly_score,is_anomaly,severity,type\n"+
		"2026-01-05T00:00:00Z,1,0.000000,false,,\n2026-01-05T00:01:00Z,2,0.000000,false,,\n")
	res = runCLI(t, "", "--socket", socket, "anomaly", "scan", scored)
	if res.code != exitOK || strings.Count(res.stdout, "\n") != 3 {
		t.Errorf("scan of a scan's output: exit %d, stdout %q, stderr %q; want a header and 2 rows", res.code, res.stdout, res.stderr)
	}
}

func testAnomalyScanBadMetricName(t *testing.T, socket string) {
	file := writeFile(t, "ok.csv", latencyCSV(0, 10, -1, -1, ""))
	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", file, "--metric", "api latency")
	if res.code != exitUsage || res.stdout != "" {
		t.Fatalf("exit %d, stdout %q; want %d and no output", res.code, res.stdout, exitUsage)
	}
	if want := `invalid --metric: invalid metric name "api latency": use printable characters without spaces`; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q lacks %q", res.stderr, want)
	}
}

// anomalyDetails is the part of an anomaly that the CLI tests check.
type anomalyDetails struct {
	ID       string `json:"id"`
	Metric   string `json:"metric"`
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Expected struct {
		Lower float64 `json:"lower"`
		Upper float64 `json:"upper"`
	} `json:"expected_range"`
	Timestamp time.Time         `json:"timestamp"`
	Context   map[string]string `json:"context"`
}

func testAnomalyScanJSONDetails(t *testing.T, socket string) {
	file := writeFile(t, "spike.csv", latencyCSV(0, 400, 300, -1, ""))
	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", file, "-o", "json", "--context", "experiment=db-latency")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	var doc struct {
		Rows []struct {
			IsAnomaly bool            `json:"is_anomaly"`
			Severity  string          `json:"severity"`
			Type      string          `json:"type"`
			Anomaly   *anomalyDetails `json:"anomaly"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if len(doc.Rows) != 400 {
		t.Fatalf("%d rows, want 400", len(doc.Rows))
	}
	spike := doc.Rows[300]
	if !spike.IsAnomaly || spike.Anomaly == nil {
		t.Fatalf("spike row %+v, want an anomaly with its details", spike)
	}
	a := spike.Anomaly
	if a.ID == "" || a.Message == "" || a.Expected.Upper <= a.Expected.Lower {
		t.Errorf("anomaly %+v, want an id, a message and an expected range", a)
	}
	if a.Type != spike.Type || a.Severity != spike.Severity || a.Type == "" {
		t.Errorf("anomaly type %q and severity %q, row %q and %q; want the same, set", a.Type, a.Severity, spike.Type, spike.Severity)
	}
	if !a.Timestamp.Equal(time.Date(2026, 1, 5, 5, 0, 0, 0, time.UTC)) || a.Context["experiment"] != "db-latency" {
		t.Errorf("anomaly at %s with context %v, want 05:00 and the experiment", a.Timestamp, a.Context)
	}
	for i, row := range doc.Rows {
		if row.IsAnomaly != (row.Anomaly != nil) {
			t.Errorf("row %d: is_anomaly %v with details %+v", i, row.IsAnomaly, row.Anomaly)
		}
	}
}

func testAnomalyDetectFlags(t *testing.T, socket string) {
	file := writeFile(t, "latency.csv", latencyCSV(0, 300, -1, -1, ""))
	if res := runCLI(t, "", "--socket", socket, "anomaly", "ingest", "detect.latency", "--file", file); res.code != exitOK {
		t.Fatalf("ingest: exit %d, stderr %s", res.code, res.stderr)
	}

	res := runCLI(t, "", "--socket", socket, "anomaly", "detect", "detect.latency", "--value", "900",
		"--timestamp", "2026-01-05 06:00:00", "--context", "experiment=db-latency", "--context", "run=7", "-o", "json")
	if res.code != exitOK {
		t.Fatalf("detect: exit %d, stderr %s", res.code, res.stderr)
	}
	var view struct {
		Data struct {
			Timestamp time.Time       `json:"timestamp"`
			IsAnomaly bool            `json:"is_anomaly"`
			Anomaly   *anomalyDetails `json:"anomaly"`
		} `json:"data_json"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &view); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	want := time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)
	if !view.Data.Timestamp.Equal(want) || !view.Data.IsAnomaly || view.Data.Anomaly == nil {
		t.Fatalf("detection %+v, want an anomaly at %s", view.Data, want)
	}
	if c := view.Data.Anomaly.Context; c["experiment"] != "db-latency" || c["run"] != "7" {
		t.Errorf("anomaly context %v, want experiment and run", c)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"context without value", []string{"--context", "experiment"}, `invalid --context "experiment": use key=value`},
		{"context twice", []string{"--context", "run=1", "--context", "run=2"}, `key "run" is given twice`},
		{"bad timestamp", []string{"--timestamp", "yesterday"}, `--timestamp "yesterday": invalid timestamp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--socket", socket, "anomaly", "detect", "detect.latency", "--value", "1"}, tt.args...)
			res := runCLI(t, "", args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, exitUsage, tt.want)
			}
		})
	}
}

func testAnomalyYoungMetric(t *testing.T, socket string) {
	file := writeFile(t, "young.csv", latencyCSV(0, 5, -1, -1, ""))
	if res := runCLI(t, "", "--socket", socket, "anomaly", "ingest", "young.latency", "--file", file); res.code != exitOK {
		t.Fatalf("ingest: exit %d, stderr %s", res.code, res.stderr)
	}
	young := listMetrics(t, socket)["young.latency"]
	if young.Samples != 5 {
		t.Fatalf("metric %+v, want 5 samples", young)
	}
	if _, ok := young.Raw["baseline"]; ok || string(young.Raw["baseline_ready"]) != "false" {
		t.Errorf("metric with 5 points has baseline %s and baseline_ready %s, want no baseline and false",
			young.Raw["baseline"], young.Raw["baseline_ready"])
	}
}

func testAnomalyIngestListsAnomalies(t *testing.T, socket string) {
	file := writeFile(t, "spike.csv", latencyCSV(0, 400, 300, -1, ""))
	res := runCLI(t, "", "--socket", socket, "anomaly", "ingest", "listed.latency", "--file", file)
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "ingested 400 points into listed.latency:") {
		t.Fatalf("stdout %q, want the summary and then one line per anomaly", res.stdout)
	}
	var spike string
	for _, line := range lines[1:] {
		if strings.Contains(line, "2026-01-05T05:00:00Z") {
			spike = line
		}
	}
	for _, want := range []string{"critical", "statistical_outlier", "on listed.latency: value 900"} {
		if !strings.Contains(spike, want) {
			t.Errorf("line of the spike %q lacks %q (stdout %q)", spike, want, res.stdout)
		}
	}
	if n := strings.Count(res.stdout, "\n") - 1; !strings.Contains(lines[0], countOf(n, "anomaly", "anomalies")) {
		t.Errorf("summary %q, want as many anomalies as the %d lines listed", lines[0], n)
	}
}

func TestPrintAnomaliesBounded(t *testing.T) {
	anomalies := make([]detect.Anomaly, 23)
	for i := range anomalies {
		anomalies[i] = detect.Anomaly{Timestamp: time.Date(2026, 1, 5, 0, i, 0, 0, time.UTC), Type: detect.TypeStatistical,
			Severity: detect.SeverityHigh, Message: fmt.Sprintf("anomaly %d", i)}
	}
	var out strings.Builder
	printAnomalies(&out, anomalies, 20)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines, want 20 anomalies and a last line:\n%s", len(lines), out.String())
	}
	if want := "  2026-01-05T00:00:00Z  high      statistical_outlier  anomaly 0"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if want := "and 3 more: use -o json to list them all"; lines[20] != want {
		t.Errorf("last line %q, want %q", lines[20], want)
	}

	out.Reset()
	printAnomalies(&out, anomalies[:20], 20)
	if strings.Contains(out.String(), "more") || strings.Count(out.String(), "\n") != 20 {
		t.Errorf("20 anomalies at a limit of 20 printed:\n%s", out.String())
	}
}

func testAnomalyIngestJSONEmpty(t *testing.T, socket string) {
	file := writeFile(t, "quiet.csv", latencyCSV(0, 20, -1, -1, ""))
	res := runCLI(t, "", "--socket", socket, "anomaly", "ingest", "quiet.latency", "--file", file, "-o", "json")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	if got := string(doc["anomalies"]); got != "[]" {
		t.Errorf("anomalies %s, want []", got)
	}
}

func testAnomalyScanDropCount(t *testing.T, socket string) {
	file := writeFile(t, "unsorted.csv", "timestamp,value\n2026-01-05T00:02:00Z,1\n2026-01-05T00:01:00Z,2\n2026-01-05T00:03:00Z,3\n")
	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", file, "--out-of-order", "drop")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	if want := "dropped 1 out-of-order row (not written)\n"; res.stderr != want {
		t.Errorf("stderr %q, want %q", res.stderr, want)
	}
	if n := strings.Count(res.stdout, "\n"); n != 3 {
		t.Errorf("%d output lines, want a header and 2 rows:\n%s", n, res.stdout)
	}

	sorted := writeFile(t, "sorted.csv", latencyCSV(0, 5, -1, -1, ""))
	res = runCLI(t, "", "--socket", socket, "anomaly", "scan", sorted, "--out-of-order", "drop")
	if res.code != exitOK || res.stderr != "" {
		t.Errorf("scan without dropped rows: exit %d, stderr %q; want no message", res.code, res.stderr)
	}
}

func testAnomalyScanName(t *testing.T, socket string) {
	file := writeFile(t, "checkout latency.csv", latencyCSV(0, 400, 300, -1, ""))
	for _, tt := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{file}, "", "checkout latency.csv"},
		{[]string{"-"}, latencyCSV(0, 400, 300, -1, ""), "stdin"},
	} {
		args := append([]string{"--socket", socket, "anomaly", "scan", "-o", "json"}, tt.args...)
		res := runCLI(t, tt.stdin, args...)
		if res.code != exitOK {
			t.Fatalf("%v: exit %d, stderr %s", tt.args, res.code, res.stderr)
		}
		var doc struct {
			Rows []struct {
				Anomaly *anomalyDetails `json:"anomaly"`
			} `json:"rows"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
			t.Fatalf("stdout is not JSON: %v", err)
		}
		if len(doc.Rows) != 400 || doc.Rows[300].Anomaly == nil {
			t.Fatalf("%v: %d rows, want 400 with the spike at row 300", tt.args, len(doc.Rows))
		}
		if a := doc.Rows[300].Anomaly; a.Metric != tt.want || !strings.Contains(a.Message, " on "+tt.want+":") {
			t.Errorf("%v: anomaly of %q with message %q, want it labelled %q", tt.args, a.Metric, a.Message, tt.want)
		}
	}
}

func testAnomalyValueOutOfRange(t *testing.T, socket string) {
	file := writeFile(t, "huge.csv", "timestamp,value\n2026-01-05T00:00:00Z,1\n2026-01-05T00:01:00Z,1e400\n")
	res := runCLI(t, "", "--socket", socket, "anomaly", "scan", file)
	if res.code != exitFailure {
		t.Fatalf("exit %d, want %d", res.code, exitFailure)
	}
	if want := `line 3: "1e400": invalid value: out of range for a 64-bit float`; !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q lacks %q", res.stderr, want)
	}
}

func testAnomalyExecParameterErrors(t *testing.T, socket string) {
	seed := writeFile(t, "seed.csv", latencyCSV(0, 40, -1, -1, ""))
	if res := runCLI(t, "", "--socket", socket, "anomaly", "ingest", "exec.latency", "--file", seed); res.code != exitOK {
		t.Fatalf("ingest: exit %d, stderr %s", res.code, res.stderr)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"point without value", `{"operation":"ingest","metric":"exec.latency","points":[{"timestamp":1767600400}]}`,
			[]string{"--params-file", "-"}, `point 0: missing value: give every point a "value"`},
		{"null value", `{"operation":"ingest","metric":"exec.latency","points":[{"timestamp":1767600400,"value":null}]}`,
			[]string{"--params-file", "-"}, "point 0: missing value"},
		{"string value", `{"operation":"ingest","metric":"exec.latency","points":[{"timestamp":1767600400,"value":"high"}]}`,
			[]string{"--params-file", "-"}, `points[0].value must be a number such as 12.5, not the string "high"`},
		{"negative timestamp", `{"operation":"ingest","metric":"exec.latency","points":[{"timestamp":-5,"value":1}]}`,
			[]string{"--params-file", "-"}, "points[0].timestamp -5: invalid timestamp: Unix seconds must be from 0"},
		{"unknown parameter", "", []string{"-p", "operation=list_metrics", "-p", "foo=1"},
			`unknown parameter "foo" for operation list_metrics`},
		{"missing operation", "", []string{"-p", "metric=exec.latency"}, "missing operation: \"operation\" is required and must be one of ingest,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--socket", socket, "exec", anomaly.PluginID}, tt.args...)
			res := runCLI(t, tt.stdin, args...)
			if res.code == exitOK {
				t.Fatalf("exit %d, want a failure; stdout %s", res.code, res.stdout)
			}
			if !strings.Contains(res.stderr+res.stdout, tt.want) {
				t.Errorf("output %q lacks %q", res.stderr+res.stdout, tt.want)
			}
		})
	}
	if n := listMetrics(t, socket)["exec.latency"].Samples; n != 40 {
		t.Errorf("%d samples after rejected calls, want the 40 stored before", n)
	}
}

func TestAnomalyEvaluateDelayInSeconds(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spike.csv"), []byte(latencyCSV(0, 400, 300, -1, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	// The window's centre is 04:55, five rows before the spike at 05:00.
	windows := writeFile(t, "windows.json", `{"spike.csv": [["2026-01-05 04:40:00.000000", "2026-01-05 05:10:00.000000"]]}`)
	res := runCLI(t, "", "anomaly", "evaluate", "--data", dir, "--windows", windows, "-o", "json")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	var doc struct {
		Detected         int     `json:"detected_windows"`
		MeanDelay        int64   `json:"mean_delay"`
		MeanDelaySeconds float64 `json:"mean_delay_seconds"`
		Files            []struct {
			Delays        []int64   `json:"delays"`
			DelaysSeconds []float64 `json:"delays_seconds"`
			DelayRows     []int     `json:"delay_rows"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	if doc.Detected != 1 || len(doc.Files) != 1 {
		t.Fatalf("report %s, want the window detected", res.stdout)
	}
	if doc.MeanDelaySeconds != 300 || doc.MeanDelay != 300e9 {
		t.Errorf("mean_delay_seconds %v and mean_delay %d, want 300 s in both units", doc.MeanDelaySeconds, doc.MeanDelay)
	}
	if f := doc.Files[0]; len(f.DelaysSeconds) != 1 || f.DelaysSeconds[0] != 300 || f.DelayRows[0] != 5 {
		t.Errorf("file delays %+v, want one delay of 5 rows, 300 s", f)
	}

	res = runCLI(t, "", "anomaly", "evaluate", "--help")
	for _, want := range []string{"measured from the window's centre", "A negative delay is a detection before the", "mean_delay_seconds"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestAnomalyEvaluateConfig checks that evaluate scores the config given
// with --config, shows the config it used, and rejects an invalid one with
// the file and the key.
func TestAnomalyEvaluateConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spike.csv"), []byte(latencyCSV(0, 400, 300, -1, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	windows := writeFile(t, "windows.json", `{"spike.csv": [["2026-01-05 04:40:00.000000", "2026-01-05 05:10:00.000000"]]}`)
	config := func(res cliResult) map[string]any {
		t.Helper()
		var doc struct {
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
		}
		return doc.Config
	}

	res := runCLI(t, "", "anomaly", "evaluate", "--data", dir, "--windows", windows, "-o", "json")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	if got := config(res); got["seasonal_period"] != "auto" || got["spike_threshold"] != -1.0 {
		t.Errorf("config without --config %v, want the NAB config (seasonal_period auto, spike_threshold -1)", got)
	}

	own := writeFile(t, "detector.json", `{"std_dev_threshold": 4, "cooldown_points": 20}`)
	res = runCLI(t, "", "anomaly", "evaluate", "--data", dir, "--windows", windows, "--config", own, "-o", "json")
	if res.code != exitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.stderr)
	}
	got := config(res)
	if got["std_dev_threshold"] != 4.0 || got["cooldown_points"] != 20.0 || got["spike_threshold"] != 10.0 {
		t.Errorf("config with --config %v, want std_dev_threshold 4, cooldown_points 20 and the default spike_threshold 10", got)
	}
	if _, seasonal := got["seasonal_period"]; seasonal {
		t.Errorf("config with --config %v has a seasonal_period the file did not set", got)
	}

	res = runCLI(t, "", "anomaly", "evaluate", "--data", dir, "--windows", windows, "--config", own)
	if !strings.HasPrefix(res.stdout, "detector config: {") {
		t.Errorf("text output starts %.80q, want the detector config first", res.stdout)
	}

	empty := writeFile(t, "empty.json", "\n")
	res = runCLI(t, "", "anomaly", "evaluate", "--data", dir, "--windows", windows, "--config", empty)
	if res.code == exitOK || !strings.Contains(res.stderr, empty+" is empty") {
		t.Errorf("exit %d, stderr %q for an empty config file, want a failure saying it is empty", res.code, res.stderr)
	}

	bad := writeFile(t, "bad.json", `{"spike_threshold": 2}`)
	res = runCLI(t, "", "anomaly", "evaluate", "--data", dir, "--windows", windows, "--config", bad)
	if res.code == exitOK {
		t.Fatalf("exit %d for an invalid config, want a failure", res.code)
	}
	for _, want := range []string{bad, "invalid spike_threshold 2"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q lacks %q", res.stderr, want)
		}
	}
}

// taxiCSV returns the NAB nyc_taxi series when ANOMALY_NAB_DIR names the
// NAB corpus, and otherwise a series of the same length and shape: 10,320
// half-hourly rows of a daily cycle.
func taxiCSV(tb testing.TB) string {
	if dir := os.Getenv("ANOMALY_NAB_DIR"); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, "data", "realKnownCause", "nyc_taxi.csv"))
		if err != nil {
			tb.Fatalf("ANOMALY_NAB_DIR is set: %v", err)
		}
		return string(data)
	}
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	start := time.Date(2014, 7, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10320 {
		phase := 2 * math.Pi * float64(i%48) / 48
		value := 15000 + 9000*math.Sin(phase) + float64((i*7919)%1500)
		fmt.Fprintf(&b, "%s,%.0f\n", start.Add(time.Duration(i)*30*time.Minute).Format("2006-01-02 15:04:05"), value)
	}
	return b.String()
}

// BenchmarkAnomalyScanTaxi scans a 10,320-row series end to end: this
// process's CLI reads the file and sends batches to a real daemon, which
// runs the detector in its plugin process. One op is one scan.
func BenchmarkAnomalyScanTaxi(b *testing.B) {
	socket := startRealDaemon(b, buildMockforged(b))
	file := writeFile(b, "nyc_taxi.csv", taxiCSV(b))
	for b.Loop() {
		var stdout, stderr strings.Builder
		code := execute(context.Background(), []string{"--socket", socket, "anomaly", "scan", file},
			streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
		if code != exitOK || strings.Count(stdout.String(), "\n") != 10321 {
			b.Fatalf("scan: exit %d, %d output lines, stderr %s", code, strings.Count(stdout.String(), "\n"), stderr.String())
		}
	}
}
