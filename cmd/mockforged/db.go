package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// dbPluginID is the built-in database fault injector.
const dbPluginID = "db-fault-injector"

// addCallFlags adds the flags shared by commands that call a plugin.
func (a *app) addCallFlags(flags *pflag.FlagSet, opts *callOptions) {
	flags.StringVar(&opts.tenant, "tenant", "", "tenant on whose behalf the plugin is called")
	flags.DurationVar(&opts.timeout, "timeout", 0, "deadline of the call, such as 5s (default: the daemon's default timeout)")
	addOutputFlag(flags, &opts.format, formatText, formatJSON)
	a.addTokenFlag(flags)
}

func (a *app) newDBCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the database fault injector's proxies and faults",
		Long: `Manage the built-in db-fault-injector plugin. Its proxies are declared in
its config (mockforged plugins configure db-fault-injector); these commands
list them and add, list and remove faults on them. Each command is a call
of mockforged exec db-fault-injector with an "operation" parameter.`,
		Args: noSubcommand,
	}
	proxy := &cobra.Command{Use: "proxy", Short: "Inspect the fault proxies", Args: noSubcommand}
	proxy.AddCommand(a.newDBOperationCommand("list", "List the proxies and their state", "list_proxies", nil))
	fault := &cobra.Command{Use: "fault", Short: "Add, list and remove faults", Args: noSubcommand}
	fault.AddCommand(
		a.newDBFaultAddCommand(),
		a.newDBOperationCommand("list", "List the active faults with their time left", "list_faults", stringFlag("proxy", "only the faults of this proxy")),
		a.newDBFaultRemoveCommand(),
		a.newDBOperationCommand("reset", "Remove every fault, or every fault of one proxy", "reset", stringFlag("proxy", "only the faults of this proxy")),
	)
	cmd.AddCommand(proxy, fault)
	return cmd
}

// optionalFlag is a string flag that becomes a parameter only when set.
type optionalFlag struct {
	name, usage string
}

func stringFlag(name, usage string) []optionalFlag {
	return []optionalFlag{{name: name, usage: usage}}
}

// newDBOperationCommand returns a command that runs one operation whose
// parameters are optional string flags.
func (a *app) newDBOperationCommand(use, short, operation string, flags []optionalFlag) *cobra.Command {
	var call callOptions
	values := make([]string, len(flags))
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			params := map[string]any{"operation": operation}
			for i, f := range flags {
				if cmd.Flags().Changed(f.name) {
					params[f.name] = values[i]
				}
			}
			return a.callDB(cmd, params, call)
		}),
	}
	for i, f := range flags {
		cmd.Flags().StringVar(&values[i], f.name, "", f.usage)
	}
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

func (a *app) newDBFaultRemoveCommand() *cobra.Command {
	var call callOptions
	cmd := &cobra.Command{
		Use:     "remove FAULT_ID",
		Short:   "Remove one fault at once",
		Example: "  mockforged db fault remove f3",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.callDB(cmd, map[string]any{"operation": "remove_fault", "id": args[0]}, call)
		}),
	}
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

// faultFlags are the add_fault parameters, each sent only when its flag is
// set. Flag names are the parameter names with '-' in place of '_'.
type faultFlags struct {
	duration, latency, jitter, delay time.Duration
	match, sqlstate, message         string
	connections, direction           string
	probability                      float64
	code                             int
	afterBytes, bytesPerSecond       int64
	averageSize, sizeVariation       int64
}

func (a *app) newDBFaultAddCommand() *cobra.Command {
	var call callOptions
	var f faultFlags
	cmd := &cobra.Command{
		Use:   "add PROXY TYPE",
		Short: "Add a fault to a proxy for a duration",
		Long: `Add a fault to a proxy. TYPE is slow_query, query_error,
connection_timeout, connection_reset, bandwidth or slicer. The fault is
removed by itself after --duration, or at once with mockforged db fault
remove. Only the flags that apply to TYPE are accepted by the plugin.`,
		Example: `  mockforged db fault add pg slow_query --latency 200ms --jitter 20ms --match '^SELECT' --duration 2m
  mockforged db fault add pg query_error --sqlstate 40001 --message 'could not serialize access' --probability 0.2 --duration 1m
  mockforged db fault add mysql query_error --code 1213 --duration 30s
  mockforged db fault add pg connection_reset --connections existing --duration 10s`,
		Args: cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			params := map[string]any{"operation": "add_fault", "proxy": args[0], "type": args[1]}
			addChangedFaultFlags(cmd.Flags(), &f, params)
			return a.callDB(cmd, params, call)
		}),
	}
	flags := cmd.Flags()
	flags.DurationVar(&f.duration, "duration", 0, "how long the fault stays active, such as 2m (required)")
	flags.Float64Var(&f.probability, "probability", 1, "share of queries or connections affected, from 0 to 1")
	flags.DurationVar(&f.latency, "latency", 0, "slow_query: added latency, such as 200ms")
	flags.DurationVar(&f.jitter, "jitter", 0, "slow_query: random extra latency up to this value")
	flags.StringVar(&f.match, "match", "", "slow_query, query_error: regular expression on the SQL text")
	flags.StringVar(&f.sqlstate, "sqlstate", "", "query_error: SQLSTATE of the error, such as 57014 or 40001")
	flags.IntVar(&f.code, "code", 0, "query_error on MySQL: error code, such as 1213")
	flags.StringVar(&f.message, "message", "", "query_error: error message")
	flags.DurationVar(&f.delay, "delay", 0, "connection_timeout: answer after this delay instead of never; slicer: delay between slices")
	flags.StringVar(&f.connections, "connections", "", "connection_reset: new, existing or all")
	flags.Int64Var(&f.afterBytes, "after-bytes", 0, "connection_reset: reset after this many bytes")
	flags.StringVar(&f.direction, "direction", "", "upstream, downstream or both, where the fault type has a direction")
	flags.Int64Var(&f.bytesPerSecond, "bytes-per-second", 0, "bandwidth: rate limit in bytes per second")
	flags.Int64Var(&f.averageSize, "average-size", 0, "slicer: average slice size in bytes")
	flags.Int64Var(&f.sizeVariation, "size-variation", 0, "slicer: variation of the slice size in bytes")
	_ = cmd.MarkFlagRequired("duration")
	a.addCallFlags(flags, &call)
	return cmd
}

// addChangedFaultFlags copies the flags the user set into params.
func addChangedFaultFlags(flags *pflag.FlagSet, f *faultFlags, params map[string]any) {
	set := func(name, param string, value any) {
		if flags.Changed(name) {
			params[param] = value
		}
	}
	set("duration", "duration", f.duration.String())
	set("probability", "probability", f.probability)
	set("latency", "latency", f.latency.String())
	set("jitter", "jitter", f.jitter.String())
	set("match", "match", f.match)
	set("sqlstate", "sqlstate", f.sqlstate)
	set("code", "code", f.code)
	set("message", "message", f.message)
	set("delay", "delay", f.delay.String())
	set("connections", "connections", f.connections)
	set("after-bytes", "after_bytes", f.afterBytes)
	set("direction", "direction", f.direction)
	set("bytes-per-second", "bytes_per_second", f.bytesPerSecond)
	set("average-size", "average_size", f.averageSize)
	set("size-variation", "size_variation", f.sizeVariation)
}

func (a *app) callDB(cmd *cobra.Command, params map[string]any, call callOptions) error {
	data, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode parameters: %w", err)
	}
	return a.callPlugin(cmd.Context(), dbPluginID, data, call)
}
