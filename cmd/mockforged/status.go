package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func (a *app) newStatusCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the daemon's version, uptime and plugin counts",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()

			resp, err := client.api.Status(cmd.Context(), &apiv1.StatusRequest{})
			if err != nil {
				return client.explain(err, requestInfo{})
			}
			if format == formatJSON {
				return writeJSON(a.out, newStatusView(resp))
			}
			return writeStatus(a.out, resp)
		}),
	}
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	a.addTokenFlag(cmd.Flags())
	return cmd
}

// writeStatus prints the daemon's status as labelled lines.
func writeStatus(w io.Writer, resp *apiv1.StatusResponse) error {
	table := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	field := func(label, value string) {
		fmt.Fprintf(table, "%s:\t%s\n", label, orDash(value))
	}

	uptime := resp.GetUptime().AsDuration().Round(time.Second).String()
	if resp.GetStartedAt() != nil {
		uptime += " (since " + resp.GetStartedAt().AsTime().Format(time.RFC3339) + ")"
	}
	field("Version", resp.GetVersion())
	field("Uptime", uptime)
	field("Plugins", fmt.Sprintf("%d total: %d running, %d starting, %d failed, %d stopped",
		resp.GetPluginsTotal(), resp.GetPluginsRunning(), resp.GetPluginsStarting(),
		resp.GetPluginsFailed(), resp.GetPluginsStopped()))
	field("Plugins dir", resp.GetPluginsDir())
	field("Data dir", resp.GetDataDir())
	field("Socket", resp.GetSocket())
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}
