package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestJSONOutputOnFailure(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "absent.sock")

	res := runCLI(t, "", "--socket", socket, "plugins", "list", "-o", "json")
	if res.code != exitFailure {
		t.Fatalf("exit %d, want %d", res.code, exitFailure)
	}
	var doc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, res.stdout)
	}
	if !strings.Contains(doc.Error.Message, socket) {
		t.Errorf("error message %q does not name the socket", doc.Error.Message)
	}

	res = runCLI(t, "", "--socket", socket, "plugins", "list")
	if res.stdout != "" {
		t.Errorf("text output wrote %q on stdout for a failure", res.stdout)
	}
}
