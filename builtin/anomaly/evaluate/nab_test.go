package evaluate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

// TestNABCorpus evaluates the detector on a NAB corpus when ANOMALY_NAB_DIR
// names a folder holding data/ and windows.json, and prints the report.
// ANOMALY_NAB_CONFIG may hold a detector config as JSON instead of
// DefaultDetector; ANOMALY_NAB_VERBOSE=1 prints every file.
func TestNABCorpus(t *testing.T) {
	dir := os.Getenv("ANOMALY_NAB_DIR")
	if dir == "" {
		t.Skip("set ANOMALY_NAB_DIR to a NAB folder with data/ and windows.json to run")
	}
	cfg := DefaultDetector()
	if raw := os.Getenv("ANOMALY_NAB_CONFIG"); raw != "" {
		cfg = detect.Config{}
		if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
			t.Fatalf("ANOMALY_NAB_CONFIG: %v", err)
		}
	}
	report, err := Evaluate(filepath.Join(dir, "data"), filepath.Join(dir, "windows.json"), Options{Detector: cfg})
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	write := report.PrintTotals
	if os.Getenv("ANOMALY_NAB_VERBOSE") != "" {
		write = report.Print
	}
	if err := write(os.Stdout); err != nil {
		t.Fatal(err)
	}
}
