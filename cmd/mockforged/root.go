package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mockforge/mockforged/host/daemon"
	"github.com/mockforge/mockforged/host/paths"
	"github.com/mockforge/mockforged/sdk"
)

// Exit statuses of the mockforged command.
const (
	exitOK      = 0
	exitFailure = 1 // a request failed or the command hit an error
	exitUsage   = 2 // invalid command line: unknown command or flag, bad flag value
)

// streams are the standard streams that the commands read and write.
type streams struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// app contains the state that the commands of one invocation share.
type app struct {
	streams
	// stdout counts what the command wrote to the standard output.
	stdout *countingWriter

	// socket is the daemon's unix socket, set by the global --socket flag.
	socket string
	// token is the bearer token of the client commands' --token flag.
	token string
	// running is set once a command's RunE starts. Errors returned before
	// that come from cobra's parsing of the command line.
	running bool

	// builtins are the built-in plugins that serve passes to the daemon and
	// __plugin serves.
	builtins []builtinPlugin
	// runDaemon runs the daemon for the serve command.
	runDaemon func(context.Context, daemon.Options) error
	// servePlugin serves a built-in plugin for the hidden __plugin command.
	servePlugin func(sdk.Plugin)
	// exit ends the process when a second stop signal arrives.
	exit func(code int)
}

// execute runs the command line args and returns the process's exit status.
func execute(ctx context.Context, args []string, s streams) int {
	out := &countingWriter{w: s.out}
	s.out = out
	a := &app{
		stdout:      out,
		streams:     s,
		builtins:    builtinPlugins,
		runDaemon:   daemon.Run,
		servePlugin: sdk.Serve,
		exit:        os.Exit,
	}
	return a.run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) int {
	root := a.newRootCommand()
	root.SetArgs(args)

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(a.err, "mockforged: %s\n", err)
	a.writeJSONError(cmd, err)
	if !a.running || isUsageError(err) {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(a.err, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitFailure
}

func (a *app) newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "mockforged",
		Short: "Host chaos-engineering plugins and call them",
		Long: `mockforged hosts chaos-engineering plugins out of process and calls them on
behalf of tenants. "mockforged serve" runs the daemon. The other commands are
clients of the daemon's API on its unix socket.`,
		Version:       currentVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(a.in)
	root.SetOut(a.out)
	root.SetErr(a.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err: err}
	})
	root.PersistentFlags().StringVar(&a.socket, "socket", paths.DefaultSocket(),
		"unix socket of the daemon's API (env "+paths.EnvSocket+")")

	root.AddCommand(
		a.newServeCommand(),
		a.newPluginsCommand(),
		a.newExecCommand(),
		a.newDBCommand(),
		a.newChaosCommand(),
		a.newAnomalyCommand(),
		a.newTenantsCommand(),
		a.newMetricsCommand(),
		a.newScenariosCommand(),
		a.newStatusCommand(),
		a.newVersionCommand(),
		a.newBuiltinPluginCommand(),
	)
	return root
}

// action wraps a command's RunE so that errors it returns count as failures
// rather than usage errors, unless they are usageError values.
func (a *app) action(run func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.running = true
		return run(cmd, args)
	}
}

// noSubcommand rejects arguments to a command that only groups subcommands,
// because cobra would otherwise print the group's help for a mistyped name.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return usageError{err: fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
}

// writeJSONError writes {"error": {"message": ...}} on stdout when a
// command run with -o json failed before it wrote its JSON document, so
// that a script reading stdout always gets one document.
func (a *app) writeJSONError(cmd *cobra.Command, err error) {
	if cmd == nil || a.stdout == nil || a.stdout.n > 0 {
		return
	}
	flag := cmd.Flags().Lookup("output")
	if flag == nil || flag.Value.String() != formatJSON {
		return
	}
	_ = writeJSON(a.out, map[string]any{"error": map[string]string{"message": err.Error()}})
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
