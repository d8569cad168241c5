package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCLIFirstSession(t *testing.T) {
	d := startDaemon(t)
	path := d.install(bins.example, "db-fault-simulator")
	d.waitState(path, running, 10*time.Second)

	t.Run("plugins list table", func(t *testing.T) {
		out, errOut, code := d.cli(nil, "plugins", "list")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"db-fault-simulator", "1.0.0", "running", "fault_injection"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("plugins list json is only JSON", func(t *testing.T) {
		out, errOut, code := d.cli(nil, "plugins", "list", "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
		}
		if !strings.Contains(out, `"sha256"`) {
			t.Errorf("JSON lacks sha256: %s", out)
		}
	})
	t.Run("exec slow_query", func(t *testing.T) {
		out, errOut, code := d.cli(nil, "exec", "db-fault-simulator", "--param", "fault_type=slow_query", "--param", "latency_ms=50", "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, out)
		}
		if res["success"] != true {
			t.Errorf("result: %s", out)
		}
	})
	t.Run("exec failure exits non-zero", func(t *testing.T) {
		_, errOut, code := d.cli(nil, "exec", "db-fault-simulator", "--param", "fault_type=query_error")
		if code == 0 || !strings.Contains(errOut, "57014") {
			t.Errorf("exit %d, stderr %q; want non-zero naming SQLSTATE 57014", code, errOut)
		}
	})
	t.Run("exec timeout", func(t *testing.T) {
		start := time.Now()
		_, errOut, code := d.cli(nil, "exec", "db-fault-simulator", "--param", "fault_type=slow_query", "--param", "latency_ms=10000", "--timeout", "300ms")
		if code == 0 || !strings.Contains(errOut, "timed out") {
			t.Errorf("exit %d, stderr %q; want a timeout", code, errOut)
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("--timeout 300ms returned after %s", elapsed)
		}
	})
	t.Run("configure from stdin", func(t *testing.T) {
		_, errOut, code := d.cli(strings.NewReader(`{"default_timeout_ms": 42}`), "plugins", "configure", "db-fault-simulator", "--file", "-")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		out, _, _ := d.cli(nil, "plugins", "describe", "db-fault-simulator", "-o", "json")
		if !strings.Contains(out, `"default_timeout_ms": 42`) && !strings.Contains(out, `"default_timeout_ms":42`) {
			t.Errorf("describe does not show the new config:\n%s", out)
		}
	})
	t.Run("configure invalid names the pointer", func(t *testing.T) {
		_, errOut, code := d.cli(strings.NewReader(`{"default_timeout_ms": -1}`), "plugins", "configure", "db-fault-simulator", "--file", "-")
		if code == 0 || !strings.Contains(errOut, "/default_timeout_ms") {
			t.Errorf("exit %d, stderr %q; want a rejection naming /default_timeout_ms", code, errOut)
		}
	})
	t.Run("status", func(t *testing.T) {
		out, errOut, code := d.cli(nil, "status")
		if code != 0 || !strings.Contains(out, "0 failed") {
			t.Errorf("exit %d, out %q, err %q", code, out, errOut)
		}
	})
	t.Run("daemon not running", func(t *testing.T) {
		cmd := []string{"--socket", "/tmp/mockforged-no-such-daemon.sock", "status"}
		_, errOut, code := d.cli(nil, cmd...)
		if code == 0 || !strings.Contains(errOut, "mockforged serve") || !strings.Contains(errOut, "/tmp/mockforged-no-such-daemon.sock") {
			t.Errorf("exit %d, stderr %q; want the socket path and a hint to start the daemon", code, errOut)
		}
	})
}
