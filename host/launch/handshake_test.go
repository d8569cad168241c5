package launch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// goPluginLineError returns the error go-plugin v1.8.0 (client.go, Start)
// returns for a first stdout line that is not a valid handshake.
func goPluginLineError(line string, exited bool) error {
	line = strings.TrimSpace(line)
	parts := strings.Split(line, "|")
	if len(parts) < 4 {
		text := "Unrecognized remote plugin message: " + line
		if exited {
			text += "\nFailed to read any lines from plugin's stdout"
		}
		return errors.New(text)
	}
	if _, err := strconv.Atoi(parts[0]); err != nil {
		return fmt.Errorf("error parsing core protocol version: %s", err)
	}
	return fmt.Errorf("incompatible core API version with plugin. Plugin version: %s, Core version: 1\n\nTo fix this, the plugin usually only needs to be recompiled.", parts[0])
}

// FuzzExplainStartError feeds the start errors that go-plugin builds from
// a plugin's first stdout line, and arbitrary error text, to
// explainStartError. The reason must be one line and must not panic: the
// line comes from the plugin, which may be hostile.
func FuzzExplainStartError(f *testing.F) {
	f.Add("1|1|unix|/tmp/plugin.sock|grpc|", false)
	f.Add("hello from a plugin that talks too early", false)
	f.Add("", true)
	f.Add("2|1|unix|/tmp/x|grpc", false)
	f.Add("ȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺȺunrecognized remote plugin message:|1|unix|/x", false)
	f.Add("x\nunrecognized remote plugin message:", false)
	f.Fuzz(func(t *testing.T, line string, exited bool) {
		for _, err := range []error{goPluginLineError(line, exited), errors.New(line)} {
			reason := explainStartError(err)
			if reason == nil {
				t.Fatalf("explainStartError(%q) = nil", err)
			}
			if strings.Contains(reason.Error(), "\n") {
				t.Errorf("explainStartError(%q) spans several lines: %q", err, reason)
			}
		}
	})
}

// TestStartRejectsHostileHandshakeLine launches a real process whose first
// stdout line makes go-plugin's error quote text that changes length when
// lowercased. The launch must fail with a reason, not panic.
func TestStartRejectsHostileHandshakeLine(t *testing.T) {
	line := strings.Repeat("Ⱥ", 40) + "unrecognized remote plugin message:|1|unix|/nonexistent"
	script := filepath.Join(t.TempDir(), "hostile")
	body := "#!/bin/sh\nprintf '%s\\n' '" + line + "'\nsleep 5\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	p, err := Start(ctx, Config{
		Name:         "hostile",
		Path:         script,
		Checksum:     sum[:],
		Env:          []string{"PATH=/usr/bin:/bin"},
		StartTimeout: 10 * time.Second,
		Logger:       hclog.NewNullLogger(),
	})
	if err == nil {
		p.Kill()
		t.Fatal("Start accepted a process that never completed the handshake")
	}
	if !strings.Contains(err.Error(), "hostile") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Start error = %q, want one line naming the plugin", err)
	}
}

func TestExplainStartError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"stdout before handshake", goPluginLineError("hello", false), `wrote to stdout before the handshake: first line was "hello"`},
		{"exited without output", goPluginLineError("", true), "exited before completing the handshake"},
		{"text that grows when lowercased", goPluginLineError("ȺȺȺ|x", false), `first line was "ȺȺȺ|x"`},
		{"core protocol not a number", goPluginLineError("Ⱥunrecognized remote plugin message:|1|unix|/x", false), "start plugin: error parsing core protocol version"},
		{"timeout", errors.New("timeout while waiting for plugin to start"), "start timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := explainStartError(tc.err).Error()
			if !strings.Contains(got, tc.want) {
				t.Errorf("explainStartError(%q) = %q, want it to contain %q", tc.err, got, tc.want)
			}
		})
	}
}
