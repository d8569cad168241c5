package main

import (
	"github.com/spf13/cobra"
)

// builtinCommandName is the hidden subcommand that serves a built-in
// plugin. The daemon starts its own binary with it.
const builtinCommandName = "__plugin"

func (a *app) newBuiltinPluginCommand() *cobra.Command {
	return &cobra.Command{
		Use:    builtinCommandName + " NAME",
		Short:  "Serve a built-in plugin to the daemon that started this process",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: a.action(func(_ *cobra.Command, args []string) error {
			builtin, err := findBuiltin(a.builtins, args[0])
			if err != nil {
				return err
			}
			// Serve returns when the daemon stops the plugin.
			a.servePlugin(builtin.newPlugin())
			return nil
		}),
	}
}
