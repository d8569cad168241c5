package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mockforge/mockforged/builtin/prommetrics"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

func (a *app) newMetricsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Record, list and delete chaos metrics exposed to Prometheus",
		Long: `Record, list and delete the chaos metrics of the built-in prometheus-metrics
plugin, which exposes them with the tenant as a label on its own listener
(default http://127.0.0.1:9465/metrics). Each command is a call of
mockforged exec prometheus-metrics with an "operation" parameter, and acts
on the calling tenant's series only.`,
		Args: noSubcommand,
	}
	cmd.AddCommand(a.newMetricsRecordCommand(), a.newMetricsListCommand(), a.newMetricsDeleteCommand())
	return cmd
}

func (a *app) newMetricsRecordCommand() *cobra.Command {
	var call callOptions
	var kind, help string
	var labels []string
	var buckets []float64
	cmd := &cobra.Command{
		Use:   "record NAME VALUE --type counter|gauge|histogram",
		Short: "Add to a counter, set a gauge or observe a histogram",
		Long: `Record VALUE in the metric NAME: a counter adds it, a gauge takes it as its
value, and a histogram observes it. The first record of a metric fixes its
type, label names, help text and buckets for every tenant; later records
must match. Names follow the Prometheus rules, and counter names end in
_total.`,
		Example: `  mockforged metrics record chaos_faults_injected_total 1 --type counter --label fault=latency
  mockforged metrics record chaos_queue_depth 42 --type gauge --label queue=orders
  mockforged metrics record chaos_request_duration_seconds 0.35 --type histogram --buckets 0.1,0.5,1,5`,
		Args: cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			value, err := strconv.ParseFloat(args[1], 64)
			if err != nil {
				return usageErrorf("invalid VALUE %q: give a number such as 1 or 0.35", args[1])
			}
			labelMap, err := parseLabels(labels)
			if err != nil {
				return err
			}
			params := prommetrics.Params{
				Operation: prommetrics.OpRecord, Name: args[0], Type: kind, Help: help, Labels: labelMap, Value: &value,
			}
			if cmd.Flags().Changed("buckets") {
				params.Buckets = buckets
			}
			return a.callMetrics(cmd.Context(), params, call)
		}),
	}
	flags := cmd.Flags()
	flags.Var(newEnumValue(&kind, "", "counter", "gauge", "histogram"), "type", "type of the metric (required)")
	flags.StringArrayVarP(&labels, "label", "l", nil, "label as name=value; repeat for more labels")
	flags.StringVar(&help, "help-text", "", "help text of the metric, set by its first record")
	flags.Float64SliceVar(&buckets, "buckets", nil, "histogram upper bounds, such as 0.1,0.5,1 (default: Prometheus's default buckets)")
	_ = cmd.MarkFlagRequired("type")
	a.addCallFlags(flags, &call)
	return cmd
}

func (a *app) newMetricsListCommand() *cobra.Command {
	var call callOptions
	cmd := &cobra.Command{
		Use:   "list [NAME]",
		Short: "List the tenant's metrics and series with their values",
		Args:  cobra.MaximumNArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			params := prommetrics.Params{Operation: prommetrics.OpList}
			if len(args) == 1 {
				params.Name = args[0]
			}
			if call.format == formatJSON {
				return a.callMetrics(cmd.Context(), params, call)
			}
			return a.listMetrics(cmd.Context(), params, call)
		}),
	}
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

func (a *app) newMetricsDeleteCommand() *cobra.Command {
	var call callOptions
	var labels []string
	var all bool
	cmd := &cobra.Command{
		Use:   "delete NAME [--label name=value ...] | --all",
		Short: "Delete the tenant's series of a metric, one series, or all",
		Long: `Delete the tenant's series of the metric NAME, or only the series whose
labels are all given with --label, or with --all every series of the
tenant. A metric whose last series of any tenant is deleted is forgotten,
so that its name can be recorded with another type or labels.`,
		Example: `  mockforged metrics delete chaos_queue_depth
  mockforged metrics delete chaos_faults_injected_total --label fault=latency
  mockforged metrics delete --all`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return usageErrorf("give either a metric NAME or --all")
			}
			params := prommetrics.Params{Operation: prommetrics.OpDelete, All: all}
			if len(args) == 1 {
				params.Name = args[0]
			}
			if cmd.Flags().Changed("label") {
				labelMap, err := parseLabels(labels)
				if err != nil {
					return err
				}
				params.Labels = labelMap
			}
			return a.callMetrics(cmd.Context(), params, call)
		}),
	}
	cmd.Flags().StringArrayVarP(&labels, "label", "l", nil, "label of the one series to delete, as name=value; repeat for every label")
	cmd.Flags().BoolVar(&all, "all", false, "delete every series of the tenant")
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

// parseLabels turns name=value assignments into a map. The plugin checks
// the names against the Prometheus rules.
func parseLabels(assignments []string) (map[string]string, error) {
	if len(assignments) == 0 {
		return nil, nil
	}
	labels := make(map[string]string, len(assignments))
	for _, assignment := range assignments {
		name, value, found := strings.Cut(assignment, "=")
		if !found || name == "" {
			return nil, usageErrorf("invalid --label %q: expected name=value, for example --label fault=latency", assignment)
		}
		if _, dup := labels[name]; dup {
			return nil, usageErrorf("invalid --label %q: label %q is given twice", assignment, name)
		}
		labels[name] = value
	}
	return labels, nil
}

func (a *app) callMetrics(ctx context.Context, params prommetrics.Params, call callOptions) error {
	data, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode parameters: %w", err)
	}
	return a.callPlugin(ctx, prommetrics.PluginID, data, call)
}

// listMetrics calls list and prints the result as a table.
func (a *app) listMetrics(ctx context.Context, params prommetrics.Params, call callOptions) error {
	data, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode parameters: %w", err)
	}
	client, err := a.connect()
	if err != nil {
		return err
	}
	defer client.close()
	req := &apiv1.ExecuteRequest{PluginId: prommetrics.PluginID, ParametersJson: data, TenantId: call.tenant}
	if call.timeout > 0 {
		req.Timeout = durationpb.New(call.timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, call.timeout+deadlineMargin)
		defer cancel()
	}
	resp, err := client.api.Execute(ctx, req)
	if err != nil {
		return client.explain(err, requestInfo{pluginID: prommetrics.PluginID, timeout: call.timeout, timeoutFlag: true})
	}
	if !resp.GetSuccess() {
		return callFailedError(prommetrics.PluginID, resp, call.timeout)
	}
	var out prommetrics.ListResult
	if err := json.Unmarshal(resp.GetDataJson(), &out); err != nil {
		return fmt.Errorf("decode the result of %s: %w", prommetrics.PluginID, err)
	}
	return writeMetricsList(a.out, out)
}

// writeMetricsList prints one row per series, then the listener, the
// series count and the Pushgateway's state.
func writeMetricsList(w io.Writer, out prommetrics.ListResult) error {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	writeSeriesRows(table, out.Metrics)
	fmt.Fprintln(table)
	writeMetricsStatus(table, out)
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

func writeSeriesRows(table io.Writer, metrics []prommetrics.MetricInfo) {
	if len(metrics) == 0 {
		fmt.Fprintln(table, "No metrics.")
		return
	}
	fmt.Fprintln(table, "METRIC\tTYPE\tLABELS\tVALUE")
	for _, m := range metrics {
		for _, s := range m.Series {
			fmt.Fprintf(table, "%s\t%s\t%s\t%s\n", m.Name, m.Type, orDash(formatLabelSet(m.LabelNames, s.Labels)), formatSeriesValue(s))
		}
	}
}

func writeMetricsStatus(table io.Writer, out prommetrics.ListResult) {
	listener := "off"
	switch {
	case out.Listener.Address != "":
		listener = "http://" + out.Listener.Address + "/metrics"
	case out.Listener.Error != "":
		listener = "not running: " + out.Listener.Error
	}
	fmt.Fprintf(table, "Listener:\t%s\n", listener)
	fmt.Fprintf(table, "Series:\t%d of %d\n", out.Series, out.MaxSeries)

	p := out.Pushgateway
	if p == nil {
		return
	}
	state := "no push yet"
	switch {
	case p.LastError != "":
		state = "last push failed: " + oneLine(p.LastError)
	case p.LastPush != nil:
		state = "last push " + p.LastPush.Format(time.RFC3339)
	}
	fmt.Fprintf(table, "Pushgateway:\t%s job %s every %s, %s\n", p.URL, p.Job, p.Interval, state)
}

// formatLabelSet returns labels as name="value" pairs in the order of
// names.
func formatLabelSet(names []string, labels map[string]string) string {
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s=%q", name, labels[name]))
	}
	return strings.Join(parts, ",")
}

func formatSeriesValue(s prommetrics.SeriesInfo) string {
	if s.Value != nil {
		return strconv.FormatFloat(*s.Value, 'g', -1, 64)
	}
	if s.Count != nil && s.Sum != nil {
		return fmt.Sprintf("count=%d sum=%s", *s.Count, strconv.FormatFloat(*s.Sum, 'g', -1, 64))
	}
	return "-"
}
