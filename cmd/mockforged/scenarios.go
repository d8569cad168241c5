package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// scenarioFlags are the flags every scenarios subcommand shares.
type scenarioFlags struct {
	tenant string
	format string
}

func (a *app) newScenariosCommand() *cobra.Command {
	var common scenarioFlags
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "Store chaos scenarios and run them with guards and rollbacks",
		Long: `Store scenarios (YAML or JSON files of plugin steps, probes and guards) and
run them. An execution runs the steps, watches the guards, aborts and rolls
back when a guard fires, and writes a journal. See docs/scenarios.md for the
file format.`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	flags := cmd.PersistentFlags()
	a.addTokenFlag(flags)
	flags.StringVar(&common.tenant, "tenant", "", "tenant the scenarios belong to (default: the caller's tenant)")
	addOutputFlag(flags, &common.format, formatText, formatJSON)
	cmd.AddCommand(
		a.newScenariosPutCommand(&common, true),
		a.newScenariosPutCommand(&common, false),
		a.newScenariosGetCommand(&common),
		a.newScenariosListCommand(&common),
		a.newScenariosDeleteCommand(&common),
		a.newScenariosRunCommand(&common),
		a.newScenariosStatusCommand(&common),
		a.newScenariosStopCommand(&common),
		a.newScenariosHistoryCommand(&common),
	)
	return cmd
}

// withScenariosClient connects to the daemon, runs call and explains its
// error. The daemon's NotFound messages about scenarios and executions
// name their own next step, so they are kept as they are.
func (a *app) withScenariosClient(call func(c *daemonClient) error) error {
	client, err := a.connect()
	if err != nil {
		return err
	}
	defer client.close()
	err = call(client)
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.NotFound {
		return &daemonError{message: st.Message(), status: st}
	}
	return client.explain(err, requestInfo{})
}

// scenarios returns the Scenarios client of a connection.
func (c *daemonClient) scenarios() apiv1.ScenariosClient {
	return apiv1.NewScenariosClient(c.conn)
}

func (a *app) newScenariosPutCommand(common *scenarioFlags, create bool) *cobra.Command {
	use, short := "create FILE", "Store a new scenario from a YAML or JSON file"
	if !create {
		use, short = "update FILE", "Replace a stored scenario with the file of the same name"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    short + `. FILE "-" reads stdin. The file is checked against the scenario schema, and every error names the field's path and line.`,
		Example: "  mockforged scenarios " + use[:6] + " checkout-latency.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			source, err := a.readScenarioFile(args[0])
			if err != nil {
				return err
			}
			return a.withScenariosClient(func(c *daemonClient) error {
				req := &apiv1.PutScenarioRequest{TenantId: common.tenant, Source: source, SourceName: args[0]}
				var resp *apiv1.PutScenarioResponse
				if create {
					resp, err = c.scenarios().CreateScenario(cmd.Context(), req)
				} else {
					resp, err = c.scenarios().UpdateScenario(cmd.Context(), req)
				}
				if err != nil {
					return err
				}
				if common.format == formatJSON {
					return writeJSON(a.out, newScenarioView(resp.GetScenario()))
				}
				_, err = fmt.Fprintf(a.out, "scenario %s stored\n", resp.GetScenario().GetName())
				return err
			})
		}),
	}
}

// readScenarioFile reads path, or stdin for "-".
func (a *app) readScenarioFile(path string) ([]byte, error) {
	var r io.Reader = a.in
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open scenario file: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read scenario file %s: %w", path, err)
	}
	return data, nil
}

func (a *app) newScenariosGetCommand(common *scenarioFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Print a stored scenario's file",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withScenariosClient(func(c *daemonClient) error {
				resp, err := c.scenarios().GetScenario(cmd.Context(), &apiv1.GetScenarioRequest{TenantId: common.tenant, Name: args[0]})
				if err != nil {
					return err
				}
				if common.format == formatJSON {
					return writeJSON(a.out, newScenarioView(resp.GetScenario()))
				}
				_, err = a.out.Write(resp.GetScenario().GetSource())
				return err
			})
		}),
	}
}

func (a *app) newScenariosListCommand(common *scenarioFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the stored scenarios",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.withScenariosClient(func(c *daemonClient) error {
				resp, err := c.scenarios().ListScenarios(cmd.Context(), &apiv1.ListScenariosRequest{TenantId: common.tenant})
				if err != nil {
					return err
				}
				return a.writeScenarioList(resp.GetScenarios(), common.format)
			})
		}),
	}
}

func (a *app) newScenariosDeleteCommand(common *scenarioFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stored scenario and the journals of its ended executions",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withScenariosClient(func(c *daemonClient) error {
				if _, err := c.scenarios().DeleteScenario(cmd.Context(), &apiv1.DeleteScenarioRequest{TenantId: common.tenant, Name: args[0]}); err != nil {
					return err
				}
				if common.format == formatJSON {
					return writeJSON(a.out, map[string]string{"deleted": args[0]})
				}
				_, err := fmt.Fprintf(a.out, "scenario %s deleted\n", args[0])
				return err
			})
		}),
	}
}

func (a *app) newScenariosRunCommand(common *scenarioFlags) *cobra.Command {
	var dryRun, follow bool
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Start an execution of a stored scenario",
		Long: `Start an execution of a stored scenario and print its id. --follow prints
each journal event as it is written and exits when the execution ends, with
status 1 unless it completed. --dry-run checks the scenario against the
served plugins and the tenant's permissions and quotas and prints the plan,
without calling any plugin.`,
		Example: "  mockforged scenarios run checkout-latency --follow",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withScenariosClient(func(c *daemonClient) error {
				resp, err := c.scenarios().RunScenario(cmd.Context(), &apiv1.RunScenarioRequest{TenantId: common.tenant, Name: args[0], DryRun: dryRun})
				if err != nil {
					return err
				}
				if dryRun {
					return a.writePlan(resp.GetPlanJson(), common.format)
				}
				if !follow {
					return a.writeExecution(resp.GetExecution(), common.format)
				}
				return a.followExecution(cmd.Context(), c, common, resp.GetExecution().GetId())
			})
		}),
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the scenario and print the plan without running it")
	cmd.Flags().BoolVar(&follow, "follow", false, "print the journal's events as they happen until the execution ends")
	return cmd
}

// followExecution streams the journal of execution id and returns an error
// unless the execution completed.
func (a *app) followExecution(ctx context.Context, c *daemonClient, common *scenarioFlags, id string) error {
	stream, err := c.scenarios().WatchExecution(ctx, &apiv1.WatchExecutionRequest{TenantId: common.tenant, Id: id})
	if err != nil {
		return err
	}
	if common.format != formatJSON {
		fmt.Fprintf(a.out, "execution %s\n", id)
	}
	verdict, reason := "", ""
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := a.writeEvent(ev, common.format); err != nil {
			return err
		}
		if ev.GetType() == "verdict" {
			verdict, reason = eventVerdict(ev)
		}
	}
	if verdict != "completed" {
		return fmt.Errorf("execution %s ended %s: %s", id, orDash(verdict), orDash(reason))
	}
	return nil
}

func (a *app) newScenariosStatusCommand(common *scenarioFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status ID",
		Short: "Print the state of an execution",
		Args:  cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withScenariosClient(func(c *daemonClient) error {
				resp, err := c.scenarios().GetExecution(cmd.Context(), &apiv1.GetExecutionRequest{TenantId: common.tenant, Id: args[0]})
				if err != nil {
					return err
				}
				return a.writeExecution(resp.GetExecution(), common.format)
			})
		}),
	}
}

// defaultStopWait is how long `scenarios stop` waits for the verdict by
// default. Rollbacks run one after the other, each with a call deadline of
// 30s unless the scenario sets its own, so one minute covers a typical
// scenario's one or two rollbacks.
const defaultStopWait = time.Minute

// stopPollInterval is the interval at which `scenarios stop` requests the
// execution's state while it waits.
const stopPollInterval = 100 * time.Millisecond

func (a *app) newScenariosStopCommand(common *scenarioFlags) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "stop ID",
		Short: "Stop a running execution and run its rollbacks",
		Long: `Stop a running execution: cancel its running steps, run its rollbacks and
write the verdict "stopped". The command waits up to --wait for the
execution to end and prints its final state. It exits with status 1 when
the execution is still running then, for example because a rollback is
slow; check it later with "mockforged scenarios status ID". --wait 0
prints the state at once, before the rollbacks ran.`,
		Example: "  mockforged scenarios stop 20260105-100000.123-a1b2c3 --wait 5m",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if wait < 0 {
				return usageError{err: fmt.Errorf("invalid --wait %s: give 0 or a positive duration, such as 2m", wait)}
			}
			return a.withScenariosClient(func(c *daemonClient) error {
				resp, err := c.scenarios().StopExecution(cmd.Context(), &apiv1.StopExecutionRequest{TenantId: common.tenant, Id: args[0]})
				if err != nil {
					return err
				}
				execution := resp.GetExecution()
				if wait > 0 {
					execution, err = a.waitExecutionEnd(cmd.Context(), c, common, args[0], wait)
					if err != nil {
						return err
					}
				}
				if err := a.writeExecution(execution, common.format); err != nil {
					return err
				}
				if wait > 0 && execution.GetState() == scenarioStateRunning {
					return fmt.Errorf("execution %s is still running its rollbacks after --wait %s; check it later with `mockforged scenarios status %s`, or stop with a longer --wait",
						args[0], wait, args[0])
				}
				return nil
			})
		}),
	}
	cmd.Flags().DurationVar(&wait, "wait", defaultStopWait, "how long to wait for the rollbacks and the verdict, such as 30s or 5m; 0 returns at once")
	return cmd
}

// scenarioStateRunning is the state of an execution without a verdict.
const scenarioStateRunning = "running"

// waitExecutionEnd polls execution id until it has a verdict or wait has
// passed, and returns its last summary.
func (a *app) waitExecutionEnd(ctx context.Context, c *daemonClient, common *scenarioFlags, id string, wait time.Duration) (*apiv1.Execution, error) {
	deadline := time.Now().Add(wait)
	ticker := time.NewTicker(stopPollInterval)
	defer ticker.Stop()
	for {
		resp, err := c.scenarios().GetExecution(ctx, &apiv1.GetExecutionRequest{TenantId: common.tenant, Id: id})
		if err != nil {
			return nil, err
		}
		if resp.GetExecution().GetState() != scenarioStateRunning || !time.Now().Before(deadline) {
			return resp.GetExecution(), nil
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (a *app) newScenariosHistoryCommand(common *scenarioFlags) *cobra.Command {
	var scenarioName string
	cmd := &cobra.Command{
		Use:   "history [ID]",
		Short: "List executions, or print one execution's journal",
		Long: `Without ID, list the tenant's executions, oldest first. With ID, print that
execution's journal; -o json prints the summary and every event in full.`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.withScenariosClient(func(c *daemonClient) error {
				if len(args) == 1 {
					resp, err := c.scenarios().GetExecution(cmd.Context(), &apiv1.GetExecutionRequest{TenantId: common.tenant, Id: args[0], IncludeEvents: true})
					if err != nil {
						return err
					}
					return a.writeJournal(resp, common.format)
				}
				resp, err := c.scenarios().ListExecutions(cmd.Context(), &apiv1.ListExecutionsRequest{TenantId: common.tenant, Scenario: scenarioName})
				if err != nil {
					return err
				}
				return a.writeExecutionList(resp.GetExecutions(), common.format)
			})
		}),
	}
	cmd.Flags().StringVar(&scenarioName, "scenario", "", "list only the executions of this scenario")
	return cmd
}
