package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mockforge/mockforged/sdk"
)

func newNilPlugin() sdk.Plugin { return nil }

// stubPlugin is an sdk.Plugin whose identity the tests compare. Its methods
// are never called.
type stubPlugin struct{ sdk.Plugin }

func TestBuiltinPluginsValid(t *testing.T) {
	if err := checkBuiltins(builtinPlugins); err != nil {
		t.Errorf("builtinPlugins: %v", err)
	}
}

func TestCheckBuiltins(t *testing.T) {
	tests := []struct {
		name     string
		builtins []builtinPlugin
		want     string
	}{
		{name: "none", builtins: nil, want: ""},
		{name: "valid", builtins: []builtinPlugin{{"a", newNilPlugin}, {"b", newNilPlugin}}, want: ""},
		{name: "empty name", builtins: []builtinPlugin{{"a", newNilPlugin}, {"", newNilPlugin}}, want: "built-in plugin 2 of 2 has an empty name"},
		{name: "no constructor", builtins: []builtinPlugin{{"a", nil}}, want: `built-in plugin "a" has no constructor`},
		{name: "duplicate", builtins: []builtinPlugin{{"a", newNilPlugin}, {"a", newNilPlugin}}, want: `built-in plugin "a" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkBuiltins(tt.builtins)

			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("checkBuiltins = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindBuiltinUnknown(t *testing.T) {
	builtins := []builtinPlugin{{"anomaly", newNilPlugin}, {"dbfault", newNilPlugin}}

	_, err := findBuiltin(builtins, "chaos")

	want := `unknown built-in plugin "chaos"; the built-in plugins are: anomaly, dbfault`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestBuiltinCommandServesPlugin(t *testing.T) {
	var stdout, stderr strings.Builder
	plugin := &stubPlugin{}
	var served sdk.Plugin
	a := &app{
		streams:     streams{in: strings.NewReader(""), out: &stdout, err: &stderr},
		builtins:    []builtinPlugin{{"other", newNilPlugin}, {"anomaly", func() sdk.Plugin { return plugin }}},
		servePlugin: func(p sdk.Plugin) { served = p },
	}

	code := a.run(context.Background(), []string{"__plugin", "anomaly"})

	if code != exitOK {
		t.Fatalf("exit status = %d, want 0; stderr: %s", code, stderr.String())
	}
	if served != plugin {
		t.Errorf("served %v, want the plugin from the anomaly constructor", served)
	}
}

func TestBuiltinCommandUnknownName(t *testing.T) {
	res := runCLI(t, "", "__plugin", "nope")

	if res.code != exitFailure {
		t.Errorf("exit status = %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, `mockforged: unknown built-in plugin "nope"`) {
		t.Errorf("stderr = %q, want it to name the unknown built-in", res.stderr)
	}
}

func TestBuiltinCommandHidden(t *testing.T) {
	res := runCLI(t, "", "--help")

	if strings.Contains(res.stdout, "__plugin") {
		t.Errorf("help lists the hidden __plugin command:\n%s", res.stdout)
	}
}
