package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func (a *app) newPluginsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List, describe, configure and reload the daemon's plugins",
		Args:  noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	a.addTokenFlag(cmd.PersistentFlags())
	cmd.AddCommand(
		a.newPluginsListCommand(),
		a.newPluginsDescribeCommand(),
		a.newPluginsConfigureCommand(),
		a.newPluginsReloadCommand(),
	)
	return cmd
}

func (a *app) newPluginsListCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every plugin the daemon knows, failed ones included",
		Long: `List every plugin the daemon knows with its id, name, version, state,
capabilities, file, SHA-256 and, for a failed plugin, the reason. The table
shows the first 12 hex digits of the SHA-256; -o json shows all of it.`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()

			resp, err := client.api.ListPlugins(cmd.Context(), &apiv1.ListPluginsRequest{})
			if err != nil {
				return client.explain(err, requestInfo{})
			}
			return a.writePlugins(format, resp.GetPlugins())
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatTable, formatJSON)
	return cmd
}

func (a *app) newPluginsDescribeCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "describe ID",
		Short: "Show a plugin's metadata, capabilities, config schema and current config",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()

			id := args[0]
			resp, err := client.api.DescribePlugin(cmd.Context(), &apiv1.DescribePluginRequest{Id: id})
			if err != nil {
				return client.explain(err, requestInfo{pluginID: id})
			}
			if format == formatJSON {
				return writeJSON(a.out, newDescribeView(resp))
			}
			return writeDescription(a.out, resp)
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newPluginsConfigureCommand() *cobra.Command {
	var (
		format string
		file   string
	)
	cmd := &cobra.Command{
		Use:   "configure ID --file FILE",
		Short: "Validate, apply and store a plugin's config",
		Long: `Send a JSON object as the plugin's new config. The daemon validates it against
the plugin's config schema, applies it and stores it. On error the previous
config stays in force. The top-level key "enabled" (true or false) turns the
plugin on or off and is not passed to the plugin.`,
		Example: `  mockforged plugins configure dbfault --file dbfault.json
  cat dbfault.json | mockforged plugins configure dbfault --file -`,
		Args: cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return usageErrorf(`missing --file; pass the config file, or "-" to read it from stdin`)
			}
			config, err := readJSONObjectFile("--file", file, a.in)
			if err != nil {
				return err
			}
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()

			id := args[0]
			resp, err := client.api.ConfigurePlugin(cmd.Context(), &apiv1.ConfigurePluginRequest{Id: id, ConfigJson: config})
			if err != nil {
				return client.explain(err, requestInfo{pluginID: id})
			}
			if format == formatJSON {
				return writeJSON(a.out, newPluginView(resp.GetPlugin()))
			}
			return writeConfigured(a.out, resp.GetPlugin())
		}),
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", `JSON file with the config object; "-" reads stdin`)
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

func (a *app) newPluginsReloadCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "reload [ID]",
		Short: "Restart one plugin, or every plugin when no id is given",
		Args:  cobra.MaximumNArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()

			var id string
			if len(args) == 1 {
				id = args[0]
			}
			resp, err := client.api.ReloadPlugins(cmd.Context(), &apiv1.ReloadPluginsRequest{Id: id})
			if err != nil {
				return client.explain(err, requestInfo{pluginID: id})
			}
			return a.writePlugins(format, resp.GetPlugins())
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatTable, formatJSON)
	return cmd
}

func (a *app) writePlugins(format string, plugins []*apiv1.PluginInfo) error {
	if format == formatJSON {
		return writeJSON(a.out, newPluginListView(plugins))
	}
	return writePluginTable(a.out, plugins)
}

// writeConfigured prints the one-line confirmation of "plugins configure".
func writeConfigured(w io.Writer, p *apiv1.PluginInfo) error {
	enabled := "enabled"
	if !p.GetEnabled() {
		enabled = "disabled"
	}
	line := fmt.Sprintf("Configured plugin %s: %s, %s", p.GetId(), stateName(p.GetState()), enabled)
	if p.GetReason() != "" {
		line += " (" + p.GetReason() + ")"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
