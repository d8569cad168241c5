package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeSpikeCSV writes a steady series with one spike at row spikeAt.
func writeSpikeCSV(t *testing.T, rows, spikeAt int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("timestamp,value\n")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		v := 100.0 + float64(i%7) - 3
		if i == spikeAt {
			v = 900
		}
		fmt.Fprintf(&b, "%s,%g\n", start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), v)
	}
	path := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAnomalyThroughDaemon(t *testing.T) {
	d := startDaemon(t)
	d.waitState("builtin:anomaly", running, 20*time.Second)
	csv := writeSpikeCSV(t, 400, 300)

	t.Run("scan flags the spike", func(t *testing.T) {
		out, errOut, code := d.cli(nil, "anomaly", "scan", csv)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 401 {
			t.Fatalf("scan printed %d lines, want header and 400 rows", len(lines))
		}
		if !strings.HasPrefix(lines[0], "timestamp,value,anomaly_score,is_anomaly,severity,type") {
			t.Errorf("header = %q", lines[0])
		}
		spike := strings.Split(lines[301], ",")
		if len(spike) < 6 || spike[3] != "true" {
			t.Errorf("spike row not flagged: %q", lines[301])
		}
	})
	t.Run("bad file names the line", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(bad, []byte("timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,NaN\n"), 0o644)
		_, errOut, code := d.cli(nil, "anomaly", "ingest", "m", "--file", bad)
		if code == 0 || !strings.Contains(errOut, "line 3") {
			t.Errorf("exit %d, stderr %q; want a rejection naming line 3", code, errOut)
		}
	})
	t.Run("model survives a restart", func(t *testing.T) {
		if _, errOut, code := d.cli(nil, "anomaly", "ingest", "latency", "--file", csv); code != 0 {
			t.Fatalf("ingest: exit %d: %s", code, errOut)
		}
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		<-d.exited
		d.start()
		d.waitState("builtin:anomaly", running, 20*time.Second)
		out, errOut, code := d.cli(nil, "anomaly", "detect", "latency", "--value", "5000", "-o", "json")
		if code != 0 {
			t.Fatalf("detect after restart: exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, `"is_anomaly": true`) && !strings.Contains(out, `"is_anomaly":true`) {
			t.Errorf("restored model did not flag 5000:\n%s", out)
		}
	})
}
