package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// journalEvent is the part of a journal event the tests check.
type journalEvent struct {
	Seq       int64    `json:"seq"`
	Type      string   `json:"type"`
	Step      string   `json:"step"`
	Iteration int      `json:"iteration"`
	StepSeq   int64    `json:"step_seq"`
	Plugin    string   `json:"plugin"`
	Version   string   `json:"plugin_version"`
	Success   *bool    `json:"success"`
	Value     *float64 `json:"value"`
	Verdict   string   `json:"verdict"`
	Reason    string   `json:"reason"`
	Duration  float64  `json:"duration_ms"`
	Severity  string   `json:"severity"`
	Error     string   `json:"error"`
}

type journal struct {
	ID      string         `json:"id"`
	State   string         `json:"state"`
	Reason  string         `json:"reason"`
	Journal []journalEvent `json:"journal"`
}

// writeScenario writes a scenario file and stores it with the CLI.
func (d *daemon) createScenario(body string, extra ...string) {
	d.t.Helper()
	path := filepath.Join(d.t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		d.t.Fatal(err)
	}
	d.mustCLI(append([]string{"scenarios", "create", path}, extra...)...)
}

// startExecution runs a scenario without --follow and returns its id.
func (d *daemon) startExecution(name string, extra ...string) string {
	d.t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	decodeJSON(d.t, d.mustCLI(append([]string{"scenarios", "run", name, "-o", "json"}, extra...)...), &v)
	return v.ID
}

func (d *daemon) journal(id string, extra ...string) journal {
	d.t.Helper()
	var j journal
	decodeJSON(d.t, d.mustCLI(append([]string{"scenarios", "history", id, "-o", "json"}, extra...)...), &j)
	return j
}

// waitExecution waits until the execution's state satisfies done.
func (d *daemon) waitExecution(id string, within time.Duration, what string, done func(journal) bool, extra ...string) journal {
	d.t.Helper()
	var j journal
	waitFor(d.t, within, what, func() bool {
		j = d.journal(id, extra...)
		return done(j)
	})
	return j
}

func ofType(events []journalEvent, typ string) []journalEvent {
	var out []journalEvent
	for _, ev := range events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

const longStepScenario = `name: %s
steps:
  - name: setup
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 1, payload: setup}
    rollback:
      parameters: {fault_type: slow_query, latency_ms: 1, payload: undo-setup}
  - name: long
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 30000}
    timeout: 40s
    rollback:
      parameters: {fault_type: slow_query, latency_ms: 1, payload: "${result.payload}"}
`

func TestScenariosThroughDaemon(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.example, "db-fault-simulator")
	d.waitRunning("db-fault-simulator")

	t.Run("sequence, parallel group and loop complete", func(t *testing.T) {
		d.createScenario(`name: mixed
description: every kind of step
steps:
  - name: first
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 5}
  - parallel:
      - name: left
        plugin: db-fault-simulator
        parameters: {fault_type: slow_query, latency_ms: 300}
      - name: right
        plugin: db-fault-simulator
        parameters: {fault_type: slow_query, latency_ms: 300}
  - loop:
      max_iterations: 3
      steps:
        - name: again
          plugin: db-fault-simulator
          parameters: {fault_type: slow_query, latency_ms: 1}
`)
		out, errOut, code := d.cli(nil, "scenarios", "run", "mixed", "--follow", "-o", "json")
		if code != 0 {
			t.Fatalf("run --follow: exit %d\n%s\n%s", code, out, errOut)
		}
		var followed []journalEvent
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var ev journalEvent
			decodeJSON(t, line, &ev)
			followed = append(followed, ev)
		}
		last := followed[len(followed)-1]
		if last.Type != "verdict" || last.Verdict != "completed" {
			t.Fatalf("last followed event = %+v, want verdict completed", last)
		}
		ids := strings.Fields(d.mustCLI("scenarios", "history", "--scenario", "mixed"))
		id := ids[5] // after the five header words
		j := d.journal(id)
		if j.State != "completed" {
			t.Errorf("state = %s, want completed", j.State)
		}
		if len(j.Journal) != len(followed) {
			t.Fatalf("journal has %d events, --follow printed %d", len(j.Journal), len(followed))
		}
		for i := range followed {
			if followed[i].Seq != j.Journal[i].Seq || followed[i].Type != j.Journal[i].Type || followed[i].Step != j.Journal[i].Step {
				t.Errorf("event %d: followed %+v, journal %+v", i, followed[i], j.Journal[i])
			}
		}

		started := map[string]int64{}
		finished := map[string]int64{}
		var loops []int
		for _, ev := range j.Journal {
			switch ev.Type {
			case "step_started":
				started[ev.Step] = ev.Seq
				if ev.Step == "again" {
					loops = append(loops, ev.Iteration)
				}
			case "step_finished":
				finished[ev.Step] = ev.Seq
				if ev.Version != "1.0.0" || ev.Success == nil || !*ev.Success {
					t.Errorf("step %s finished with version %q success %v", ev.Step, ev.Version, ev.Success)
				}
			}
		}
		if started["left"] > finished["right"] || started["right"] > finished["left"] {
			t.Errorf("parallel steps did not overlap: started %v finished %v", started, finished)
		}
		if started["left"] < finished["first"] {
			t.Errorf("the group started before the first step finished")
		}
		if fmt.Sprint(loops) != "[1 2 3]" {
			t.Errorf("loop iterations = %v, want [1 2 3]", loops)
		}

		plan := d.mustCLI("scenarios", "run", "mixed", "--dry-run")
		if strings.ContainsAny(plan, "{}") {
			t.Errorf("run --dry-run printed JSON in text mode:\n%s", plan)
		}
		for _, want := range []string{"scenario mixed is valid", "STEP", "again", "yes"} {
			if !strings.Contains(plan, want) {
				t.Errorf("run --dry-run output does not contain %q:\n%s", want, plan)
			}
		}
		var planJSON struct {
			Scenario string `json:"scenario"`
		}
		decodeJSON(t, d.mustCLI("scenarios", "run", "mixed", "--dry-run", "-o", "json"), &planJSON)
		if planJSON.Scenario != "mixed" {
			t.Errorf("run --dry-run -o json: scenario = %q, want mixed", planJSON.Scenario)
		}
	})

	t.Run("guard aborts on latency spike", func(t *testing.T) {
		var requests atomic.Int64
		server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n := requests.Add(1)
			value := 100 + n%5
			if n > 70 {
				value = 5000
			}
			fmt.Fprint(w, value)
		}))
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		server.Listener = listener
		server.Start()
		t.Cleanup(server.Close)

		d.createScenario(fmt.Sprintf(`name: spike
max_duration: 1m
steady_state: {before: 2s}
probes:
  - metric: latency
    interval: 50ms
    http: {url: "%s/p99", value: body}
guards:
  - name: latency-anomaly
    metric: latency
    anomaly: {severity: high, reset_baseline: true}
steps:
  - name: a
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 1}
    rollback: {parameters: {fault_type: slow_query, latency_ms: 1, payload: undo-a}}
  - name: b
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 30000}
    timeout: 40s
    rollback: {parameters: {fault_type: slow_query, latency_ms: 1, payload: undo-b}}
`, server.URL))
		begin := time.Now()
		out, errOut, code := d.cli(nil, "scenarios", "run", "spike", "--follow")
		if code != 1 || !strings.Contains(errOut, "aborted") {
			t.Fatalf("run --follow: exit %d, want 1 with aborted\n%s\n%s", code, out, errOut)
		}
		if elapsed := time.Since(begin); elapsed > 20*time.Second {
			t.Errorf("aborted after %s; the 30s step was not cancelled", elapsed)
		}
		ids := strings.Fields(d.mustCLI("scenarios", "history", "--scenario", "spike"))
		j := d.journal(ids[5])
		if j.State != "aborted" || !strings.Contains(j.Reason, "latency-anomaly") {
			t.Errorf("state %s reason %q; want aborted by latency-anomaly", j.State, j.Reason)
		}
		for _, ev := range ofType(j.Journal, "probe_failed") {
			if strings.Contains(ev.Error, "baseline") {
				t.Errorf("the first execution journaled a failed baseline reset: %s", ev.Error)
			}
		}
		if len(ofType(j.Journal, "anomaly")) == 0 || len(ofType(j.Journal, "probe_value")) < 30 {
			t.Errorf("journal has %d anomalies and %d probe values", len(ofType(j.Journal, "anomaly")), len(ofType(j.Journal, "probe_value")))
		}
		var rollbacks []string
		for _, ev := range ofType(j.Journal, "rollback_finished") {
			rollbacks = append(rollbacks, ev.Step)
			if ev.Success == nil || !*ev.Success {
				t.Errorf("rollback of %s failed", ev.Step)
			}
		}
		if fmt.Sprint(rollbacks) != "[b a]" {
			t.Errorf("rollbacks ran for %v, want [b a] (reverse order)", rollbacks)
		}
		for _, ev := range ofType(j.Journal, "step_finished") {
			if ev.Step == "b" && (ev.Success == nil || *ev.Success || ev.Duration > 20000) {
				t.Errorf("step b finished %+v; want a failure well before its 30s", ev)
			}
		}
	})

	t.Run("stop by hand", func(t *testing.T) {
		d.createScenario(fmt.Sprintf(longStepScenario, "long-stop"))
		id := d.startExecution("long-stop")
		d.waitExecution(id, 10*time.Second, "step long started", func(j journal) bool {
			for _, ev := range ofType(j.Journal, "step_started") {
				if ev.Step == "long" {
					return true
				}
			}
			return false
		})
		var stopped struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
		}
		decodeJSON(t, d.mustCLI("scenarios", "stop", id, "-o", "json"), &stopped)
		if stopped.State != "stopped" || !strings.Contains(stopped.Reason, "stopped by") {
			t.Errorf("stop printed state %q reason %q; want the final state stopped", stopped.State, stopped.Reason)
		}
		j := d.journal(id)
		if j.State != "stopped" {
			t.Errorf("state after stop returned = %s, want stopped", j.State)
		}
		if got := len(ofType(j.Journal, "rollback_finished")); got != 1 {
			t.Errorf("%d rollbacks ran, want 1 (long refers to a result it never returned, setup's ran)", got)
		}
		if got := ofType(j.Journal, "rollback_skipped"); len(got) != 1 || got[0].Step != "long" {
			t.Errorf("skipped rollbacks = %+v, want the one of long", got)
		}
	})

	t.Run("stop reports a rollback still running", func(t *testing.T) {
		d.createScenario(`name: slow-rollback
steps:
  - name: fault
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 1}
    rollback: {parameters: {fault_type: slow_query, latency_ms: 3000}}
  - name: hold
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 30000}
    timeout: 40s
`)
		id := d.startExecution("slow-rollback")
		d.waitExecution(id, 10*time.Second, "step hold started", func(j journal) bool {
			return len(ofType(j.Journal, "step_started")) == 2
		})
		out, errOut, code := d.cli(nil, "scenarios", "stop", id, "--wait", "300ms")
		if code != 1 || !strings.Contains(errOut, "still running") || !strings.Contains(errOut, "scenarios status "+id) {
			t.Errorf("stop --wait 300ms: exit %d, stderr %q; want 1 and a message that the execution still runs", code, errOut)
		}
		if !strings.Contains(out, "running") {
			t.Errorf("stop --wait 300ms printed %q; want the state running", out)
		}
		j := d.waitExecution(id, 15*time.Second, "execution stopped", func(j journal) bool { return j.State != "running" })
		if j.State != "stopped" {
			t.Errorf("state = %s, want stopped", j.State)
		}
		_, errOut, code = d.cli(nil, "scenarios", "stop", id, "--wait", "-1s")
		if code == 0 || !strings.Contains(errOut, "--wait") {
			t.Errorf("stop --wait -1s: exit %d, stderr %q; want a rejection naming --wait", code, errOut)
		}
	})

	t.Run("unknown plugin message", func(t *testing.T) {
		d.createScenario("name: unknown-plugin\nsteps:\n  - plugin: no-such-plugin\n")
		_, errOut, code := d.cli(nil, "scenarios", "run", "unknown-plugin")
		if code != 1 || !strings.Contains(errOut, `plugin "no-such-plugin" not found`) {
			t.Errorf("run: exit %d, stderr %q; want the plugin named as not found", code, errOut)
		}
		if strings.Contains(errOut, "rpc error") || strings.Contains(errOut, "desc =") {
			t.Errorf("run: stderr %q shows the gRPC status's internals", errOut)
		}
	})

	t.Run("max_duration above the plan's is rejected at create", func(t *testing.T) {
		d.mustCLI("tenants", "create", "short", "--plan", "free")
		path := filepath.Join(t.TempDir(), "long.yaml")
		os.WriteFile(path, []byte("name: too-long\nmax_duration: 1h\nsteps: [{plugin: db-fault-simulator}]\n"), 0o644)
		_, errOut, code := d.cli(nil, "scenarios", "create", path, "--tenant", "short")
		for _, want := range []string{"/max_duration (line 2)", "1h0m0s", "10m0s", "--max-duration"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("create: exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
		}
		_, errOut, code = d.cli(nil, "scenarios", "get", "too-long", "--tenant", "short")
		if code != 1 || !strings.Contains(errOut, "not found") {
			t.Errorf("the rejected scenario was stored: exit %d, %q", code, errOut)
		}
	})

	t.Run("restart in the middle runs rollbacks at start", func(t *testing.T) {
		d.createScenario(`name: restart
steps:
  - name: fault
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 1}
    rollback: {parameters: {fault_type: slow_query, latency_ms: 1, payload: undo}}
  - name: hold
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 30000}
    timeout: 40s
`)
		id := d.startExecution("restart")
		d.waitExecution(id, 10*time.Second, "step hold started", func(j journal) bool {
			return len(ofType(j.Journal, "step_started")) == 2
		})
		if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-d.exited
		d.start()
		j := d.waitExecution(id, 30*time.Second, "execution interrupted", func(j journal) bool { return j.State != "running" })
		if j.State != "interrupted" {
			t.Errorf("state = %s, want interrupted", j.State)
		}
		if len(ofType(j.Journal, "interrupted")) != 1 {
			t.Errorf("journal has no interrupted event")
		}
		done := ofType(j.Journal, "rollback_finished")
		if len(done) != 1 || done[0].Step != "fault" || done[0].Success == nil || !*done[0].Success {
			t.Errorf("rollbacks after restart = %+v, want fault's, successful", done)
		}
	})

	t.Run("quota refusals", func(t *testing.T) {
		d.mustCLI("tenants", "create", "small", "--plan", "free")
		d.mustCLI("tenants", "set-quota", "small", "--max-scenarios", "1")
		d.createScenario(fmt.Sprintf(longStepScenario, "one"), "--tenant", "small")
		path := filepath.Join(t.TempDir(), "two.yaml")
		os.WriteFile(path, []byte(fmt.Sprintf(longStepScenario, "two")), 0o644)
		_, errOut, code := d.cli(nil, "scenarios", "create", path, "--tenant", "small")
		if code != 1 || !strings.Contains(errOut, "scenarios") || !strings.Contains(errOut, "max-scenarios") {
			t.Errorf("second scenario: exit %d, stderr %q; want a quota refusal", code, errOut)
		}
		id := d.startExecution("one", "--tenant", "small")
		_, errOut, code = d.cli(nil, "scenarios", "run", "one", "--tenant", "small")
		if code != 1 || !strings.Contains(errOut, "concurrent") {
			t.Errorf("second execution: exit %d, stderr %q; want a concurrency refusal", code, errOut)
		}
		d.mustCLI("scenarios", "stop", id, "--tenant", "small")
		j := d.waitExecution(id, 10*time.Second, "execution stopped", func(j journal) bool {
			return j.State != "running"
		}, "--tenant", "small")
		if j.State != "stopped" {
			t.Errorf("state = %s, want stopped", j.State)
		}
	})

	t.Run("invalid file names path and line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(path, []byte("name: bad\nsteps:\n  - plugin: db-fault-simulator\n    delay: soon\n"), 0o644)
		_, errOut, code := d.cli(nil, "scenarios", "create", path)
		if code != 1 || !strings.Contains(errOut, "/steps/0/delay (line 4)") {
			t.Errorf("exit %d, stderr %q; want the path and line of delay", code, errOut)
		}
		_, errOut, code = d.cli(nil, "scenarios", "get", "bad")
		if code != 1 || !strings.Contains(errOut, "not found") {
			t.Errorf("the invalid scenario was stored: exit %d, %q", code, errOut)
		}
	})

	t.Run("every error after the schema at once", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "several.yaml")
		os.WriteFile(path, []byte(`name: several
steps:
  - {name: x, plugin: db-fault-simulator}
  - {name: x, plugin: db-fault-simulator}
probes:
  - metric: m
    interval: 1ms
    http: {url: "http://10.1.2.3/stats"}
guards:
  - metric: other
    threshold: {above: 1}
`), 0o644)
		_, errOut, code := d.cli(nil, "scenarios", "create", path)
		for _, want := range []string{"/steps/1/name (line 4)", "/probes/0/interval (line 7)", "/probes/0/http/url (line 8)", "/guards/0/metric (line 10)"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("create: exit %d, stderr %q; want 1 and %q", code, errOut, want)
			}
		}
	})
}

// TestScenarioInterruptedBySIGTERM stops the daemon during an execution and
// checks that the execution ended as interrupted with its rollback run by
// a plugin that was still served, before the daemon exited cleanly.
func TestScenarioInterruptedBySIGTERM(t *testing.T) {
	d := startDaemon(t)
	d.install(bins.example, "db-fault-simulator")
	d.install(buildPlugin(t, "storage", "-X main.mode=storage"), "storage")
	d.waitRunning("db-fault-simulator")
	d.waitRunning("storage")
	d.createScenario(`name: sigterm
steps:
  - name: mark
    plugin: storage
    parameters: {op: put, key: state, value: faulted}
    rollback: {parameters: {op: put, key: state, value: rolled-back}}
  - name: hold
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 30000}
    timeout: 40s
`)
	id := d.startExecution("sigterm")
	d.waitExecution(id, 10*time.Second, "step hold started", func(j journal) bool {
		return len(ofType(j.Journal, "step_started")) == 2
	})

	d.stop(syscall.SIGTERM)
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("daemon exit status after SIGTERM = %d, want 0", code)
	}
	output := d.output.String()
	orchestratorStopped := strings.Index(output, "scenario orchestrator stopped")
	cleanup := strings.Index(output, "cleanup ran")
	if orchestratorStopped < 0 || cleanup < 0 || orchestratorStopped > cleanup {
		t.Errorf("the orchestrator stopped at offset %d and the first plugin cleanup ran at %d; want both, the orchestrator first", orchestratorStopped, cleanup)
	}

	d.start()
	d.waitRunning("storage")
	j := d.journal(id)
	if j.State != "interrupted" || !strings.Contains(j.Reason, "shutting down") {
		t.Errorf("state %s reason %q, want interrupted because the daemon was shutting down", j.State, j.Reason)
	}
	if n := len(ofType(j.Journal, "interrupted")); n != 0 {
		t.Errorf("the journal has %d interrupted events; the restart should have found a verdict and recovered nothing", n)
	}
	done := ofType(j.Journal, "rollback_finished")
	if len(done) != 1 || done[0].Step != "mark" || done[0].Success == nil || !*done[0].Success || done[0].Version != "1.0.0" {
		t.Errorf("rollbacks = %+v, want mark's, successful, answered by the plugin", done)
	}
	if last := j.Journal[len(j.Journal)-1]; last.Type != "verdict" || last.Verdict != "interrupted" {
		t.Errorf("last event = %+v, want the interrupted verdict", last)
	}
	resp, err := d.execFor("", "storage", `{"op":"get","key":"state"}`, 0)
	if err != nil {
		t.Fatalf("read the storage plugin's state: %s", describe(err))
	}
	if got := string(resp.GetDataJson()); !strings.Contains(got, `"rolled-back"`) {
		t.Errorf("the storage plugin's state = %s, want the value its rollback wrote", got)
	}
}

func TestProbeAllowFlag(t *testing.T) {
	d := startDaemon(t, "--probe-allow", "http://metrics.internal:9090/api/")
	probe := func(name, url string) string {
		return fmt.Sprintf("name: %s\nsteps: [{plugin: db-fault-simulator}]\nprobes:\n  - metric: m\n    interval: 1s\n    http: {url: %q}\n", name, url)
	}
	d.createScenario(probe("allowed", "http://metrics.internal:9090/api/v1/query"))
	d.createScenario(probe("loopback", "http://127.0.0.1:8080/stats"))

	path := filepath.Join(t.TempDir(), "outside.yaml")
	if err := os.WriteFile(path, []byte(probe("outside", "http://metrics.internal:9090/admin")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := d.cli(nil, "scenarios", "create", path)
	if code != 1 || !strings.Contains(errOut, "/probes/0/http/url") || !strings.Contains(errOut, "--probe-allow") {
		t.Errorf("probe outside the prefix: exit %d, stderr %q; want a rejection naming the field and --probe-allow", code, errOut)
	}

	help, _, _ := d.cli(nil, "serve", "--help")
	if !strings.Contains(help, "--probe-allow") {
		t.Errorf("serve --help does not list --probe-allow:\n%s", help)
	}
	output, code := runServeExpectingFailure(t, "--socket", filepath.Join(t.TempDir(), "x.sock"),
		"--data-dir", t.TempDir(), "--plugins-dir", t.TempDir(), "--probe-allow", "ftp://files.example.com/")
	if code == 0 || !strings.Contains(output, "--probe-allow") || !strings.Contains(output, "ftp://files.example.com/") {
		t.Errorf("serve with an invalid --probe-allow: exit %d, output %q; want a failure naming the flag and the value", code, output)
	}
}
