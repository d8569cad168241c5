package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// deadlineMargin is added to --timeout for the gRPC deadline, so that the
// daemon's own timeout result, with its error code and request id, arrives
// before the client gives up.
const deadlineMargin = time.Second

// execOptions are the flags of the exec command.
type execOptions struct {
	params     []string
	paramsFile string
	tenant     string
	timeout    time.Duration
	format     string
}

func (a *app) newExecCommand() *cobra.Command {
	var opts execOptions
	cmd := &cobra.Command{
		Use:   "exec ID",
		Short: "Call a plugin and print the result",
		Long: `Call a plugin with a JSON object of parameters and print the result. The
command exits with status 1 when the call failed.

A --param value is decoded as JSON when it is valid JSON (a number, true,
false, null, a quoted string, an object or an array) and is a string
otherwise. A dotted key sets a key inside an object: --param db.port=5432
gives {"db": {"port": 5432}}. --param values override keys of --params-file,
and a later --param overrides an earlier one.`,
		Example: `  mockforged exec db-fault-simulator --param fault_type=slow_query --param latency_ms=250
  mockforged exec db-fault-injector --params-file fault.json --param duration=2m --timeout 5s -o json`,
		Args: cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			return a.runExec(cmd.Context(), args[0], opts)
		}),
	}
	flags := cmd.Flags()
	flags.StringArrayVarP(&opts.params, "param", "p", nil, "parameter as key=value; repeat for more parameters")
	flags.StringVar(&opts.paramsFile, "params-file", "", `JSON file with a parameters object; "-" reads stdin`)
	flags.StringVar(&opts.tenant, "tenant", "", "tenant on whose behalf the plugin is called")
	flags.DurationVar(&opts.timeout, "timeout", 0, "deadline of the call, such as 5s (default: the daemon's default timeout)")
	addOutputFlag(flags, &opts.format, formatText, formatJSON)
	a.addTokenFlag(flags)
	return cmd
}

func (a *app) runExec(ctx context.Context, id string, opts execOptions) error {
	if opts.timeout < 0 {
		return usageErrorf("invalid --timeout %s: it must be positive, such as 5s", opts.timeout)
	}
	params, err := buildParameters(opts.params, opts.paramsFile, a.in)
	if err != nil {
		return err
	}
	return a.callPlugin(ctx, id, params, callOptions{tenant: opts.tenant, timeout: opts.timeout, format: opts.format})
}

// callOptions are the settings of one plugin call that every command
// calling a plugin shares.
type callOptions struct {
	tenant  string
	timeout time.Duration
	format  string
}

// callPlugin calls plugin id with params, prints the result in the chosen
// format and returns an error when the call failed.
func (a *app) callPlugin(ctx context.Context, id string, params []byte, opts callOptions) error {
	client, err := a.connect()
	if err != nil {
		return err
	}
	defer client.close()

	req := &apiv1.ExecuteRequest{PluginId: id, ParametersJson: params, TenantId: opts.tenant}
	if opts.timeout > 0 {
		req.Timeout = durationpb.New(opts.timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.timeout+deadlineMargin)
		defer cancel()
	}
	resp, err := client.api.Execute(ctx, req)
	if err != nil {
		return client.explain(err, requestInfo{pluginID: id, timeout: opts.timeout, timeoutFlag: true})
	}

	if opts.format == formatJSON {
		err = writeJSON(a.out, newExecuteView(resp))
	} else {
		err = writeExecuteResult(a.out, resp)
	}
	if err != nil {
		return err
	}
	if !resp.GetSuccess() {
		return callFailedError(id, resp, opts.timeout)
	}
	return nil
}

// deadlineExceededCode is the error code of a call whose deadline passed
// while the plugin ran. The SDK sets it when Execute returns a context
// deadline error.
const deadlineExceededCode = "deadline_exceeded"

// callFailedError describes a call that the plugin reported as failed.
// timeout is the --timeout value, zero when unset.
func callFailedError(id string, resp *apiv1.ExecuteResponse, timeout time.Duration) error {
	var message string
	e := resp.GetError()
	switch {
	case e.GetCode() == deadlineExceededCode:
		req := requestInfo{pluginID: id, timeout: timeout, timeoutFlag: true}
		message = timeoutMessage(req, formatErrorDetail(e))
	case e != nil:
		detail := formatErrorDetail(e)
		if e.GetRetryable() {
			detail += " (retryable)"
		}
		message = fmt.Sprintf("call to plugin %q failed: %s", id, detail)
	case resp.GetMessage() != "":
		message = fmt.Sprintf("call to plugin %q failed: %s", id, resp.GetMessage())
	default:
		message = fmt.Sprintf("call to plugin %q failed; the plugin gave no error message", id)
	}
	if resp.GetRequestId() != "" {
		message += "; request id " + resp.GetRequestId()
	}
	return errors.New(message)
}

// formatErrorDetail returns "CODE: message", or the message alone when the
// error has no code.
func formatErrorDetail(e *apiv1.ErrorDetail) string {
	if e.GetCode() == "" {
		return e.GetMessage()
	}
	return e.GetCode() + ": " + e.GetMessage()
}

// writeExecuteResult prints a call's result as labelled lines followed by
// the error details and the data as indented JSON.
func writeExecuteResult(w io.Writer, resp *apiv1.ExecuteResponse) error {
	table := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	field := func(label, value string) {
		fmt.Fprintf(table, "%s:\t%s\n", label, value)
	}

	result := "success"
	if !resp.GetSuccess() {
		result = "failed"
	}
	field("Result", result)
	// Plugins often repeat the error's message as the result's message.
	if resp.GetMessage() != "" && resp.GetMessage() != resp.GetError().GetMessage() {
		field("Message", resp.GetMessage())
	}
	if e := resp.GetError(); e != nil {
		field("Error", formatErrorDetail(e))
		field("Retryable", fmt.Sprint(e.GetRetryable()))
	}
	field("Plugin", strings.TrimSpace(resp.GetPluginId()+" "+resp.GetPluginVersion()))
	field("Request ID", orDash(resp.GetRequestId()))
	field("Duration", resp.GetDuration().AsDuration().String())
	for _, h := range resp.GetHookFailures() {
		field("Hook failed", fmt.Sprintf("%s at %s: %s", h.GetHook(), h.GetPoint(), oneLine(h.GetError())))
	}
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write call result: %w", err)
	}

	if e := resp.GetError(); e != nil && len(e.GetDetailsJson()) > 0 {
		writeJSONBlock(w, "Error details", e.GetDetailsJson())
	}
	if len(resp.GetDataJson()) > 0 {
		writeJSONBlock(w, "Data", resp.GetDataJson())
	}
	return nil
}
