package main

import (
	"fmt"
	"strings"

	"github.com/mockforge/mockforged/builtin/anomaly"
	"github.com/mockforge/mockforged/builtin/chaosmesh"
	"github.com/mockforge/mockforged/builtin/dbfault"
	"github.com/mockforge/mockforged/builtin/prommetrics"
	"github.com/mockforge/mockforged/sdk"
)

// builtinPlugin is a plugin compiled into this binary. The daemon runs it out
// of process, like any other plugin, by starting this binary with
// "__plugin NAME".
type builtinPlugin struct {
	name      string
	newPlugin func() sdk.Plugin
}

// builtinPlugins lists the built-in plugins in the order the daemon
// launches them. Names must be unique and non-empty, which checkBuiltins
// enforces at start.
var builtinPlugins = []builtinPlugin{
	{name: "anomaly", newPlugin: anomaly.New},
	{name: "dbfault", newPlugin: func() sdk.Plugin { return dbfault.New() }},
	{name: "chaosmesh", newPlugin: chaosmesh.New},
	{name: "prommetrics", newPlugin: prommetrics.New},
}

// checkBuiltins returns an error when a built-in has an empty name, no
// constructor, or the name of an earlier one.
func checkBuiltins(builtins []builtinPlugin) error {
	seen := make(map[string]bool, len(builtins))
	for i, b := range builtins {
		switch {
		case b.name == "":
			return fmt.Errorf("built-in plugin %d of %d has an empty name", i+1, len(builtins))
		case b.newPlugin == nil:
			return fmt.Errorf("built-in plugin %q has no constructor", b.name)
		case seen[b.name]:
			return fmt.Errorf("built-in plugin %q is listed twice", b.name)
		}
		seen[b.name] = true
	}
	return nil
}

// findBuiltin returns the built-in called name.
func findBuiltin(builtins []builtinPlugin, name string) (builtinPlugin, error) {
	names := make([]string, 0, len(builtins))
	for _, b := range builtins {
		if b.name == name {
			return b, nil
		}
		names = append(names, b.name)
	}
	if len(names) == 0 {
		return builtinPlugin{}, fmt.Errorf("unknown built-in plugin %q: this binary has no built-in plugins", name)
	}
	return builtinPlugin{}, fmt.Errorf("unknown built-in plugin %q; the built-in plugins are: %s", name, strings.Join(names, ", "))
}
