package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// shortHashLength is how many hex digits of a plugin file's SHA-256 the
// table shows.
const shortHashLength = 12

// writePluginTable prints plugins as a table with one row per plugin.
func writePluginTable(w io.Writer, plugins []*apiv1.PluginInfo) error {
	if len(plugins) == 0 {
		_, err := fmt.Fprintln(w, "No plugins.")
		return err
	}
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "ID\tNAME\tVERSION\tSTATE\tCAPABILITIES\tFILE\tSHA256\tREASON")
	for _, p := range plugins {
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			orDash(p.GetId()),
			orDash(p.GetName()),
			orDash(p.GetVersion()),
			stateName(p.GetState()),
			orDash(strings.Join(p.GetCapabilities(), ",")),
			orDash(p.GetFile()),
			orDash(shortHash(p.GetSha256())),
			orDash(oneLine(p.GetReason())),
		)
	}
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write plugin table: %w", err)
	}
	return nil
}

func shortHash(sum string) string {
	if len(sum) > shortHashLength {
		return sum[:shortHashLength]
	}
	return sum
}

// oneLine replaces line breaks and tabs, which would break a table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// writeDescription prints "plugins describe" as labelled lines followed by
// the config schema and the config as indented JSON.
func writeDescription(w io.Writer, resp *apiv1.DescribePluginResponse) error {
	p := resp.GetPlugin()
	table := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	field := func(label, value string) {
		fmt.Fprintf(table, "%s:\t%s\n", label, orDash(value))
	}

	field("ID", p.GetId())
	field("Name", p.GetName())
	field("Version", p.GetVersion())
	field("State", stateName(p.GetState()))
	if p.GetReason() != "" {
		field("Reason", p.GetReason())
	}
	field("Description", p.GetDescription())
	field("Author", p.GetAuthor())
	field("Homepage", p.GetHomepage())
	field("Repository", p.GetRepository())
	field("Tags", strings.Join(p.GetTags(), ", "))
	field("Dependencies", formatDependencies(p.GetDependencies()))
	field("API version", p.GetApiVersion())
	field("Protocol version", strconv.Itoa(int(p.GetProtocolVersion())))
	field("Capabilities", strings.Join(p.GetCapabilities(), ", "))
	field("File", p.GetFile())
	field("SHA256", p.GetSha256())
	field("Built-in", strconv.FormatBool(p.GetBuiltin()))
	field("PID", strconv.Itoa(int(p.GetPid())))
	field("Restarts", strconv.Itoa(int(p.GetRestarts())))
	field("Enabled", strconv.FormatBool(p.GetEnabled()))
	field("Configured", strconv.FormatBool(p.GetConfigured()))
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write plugin description: %w", err)
	}

	writeJSONBlock(w, "Config schema", resp.GetConfigSchema())
	if p.GetConfigured() && len(resp.GetConfigJson()) == 0 {
		// The plugin runs with an empty config, which its schema accepts.
		fmt.Fprintln(w, "Config: none stored; the plugin runs with {} and its own defaults")
	} else {
		writeJSONBlock(w, "Config", resp.GetConfigJson())
	}
	return nil
}

func formatDependencies(dependencies []*apiv1.Dependency) string {
	parts := make([]string, 0, len(dependencies))
	for _, d := range dependencies {
		parts = append(parts, strings.TrimSpace(d.GetId()+" "+d.GetVersion()))
	}
	return strings.Join(parts, ", ")
}

// writeJSONBlock prints a label and data as JSON indented under it, or
// "none" when data is empty.
func writeJSONBlock(w io.Writer, label string, data []byte) {
	if len(strings.TrimSpace(string(data))) == 0 {
		fmt.Fprintf(w, "%s: none\n", label)
		return
	}
	fmt.Fprintf(w, "%s:\n%s\n", label, indentJSON(data, "  "))
}
