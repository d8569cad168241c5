package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mockforge/mockforged/builtin/anomaly"
	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/builtin/anomaly/evaluate"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk"
)

func (a *app) newAnomalyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "anomaly",
		Short: "Feed metrics to the anomaly detector and scan or evaluate series",
		Long: `Drive the built-in anomaly-detector plugin. ingest, detect and scan call
the plugin through the daemon; CSV files are sent in batches, not one call
per row. evaluate runs the same detector in this process over labelled
series and scores it.`,
		Args: noSubcommand,
	}
	cmd.AddCommand(a.newAnomalyIngestCommand(), a.newAnomalyDetectCommand(), a.newAnomalyScanCommand(), a.newAnomalyEvaluateCommand())
	return cmd
}

// openInput opens path, or returns stdin for "-".
func (a *app) openInput(path string) (io.Reader, func(), error) {
	if path == "-" {
		return a.in, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		// The *fs.PathError names the operation and the path already.
		return nil, nil, fmt.Errorf("%w: check the path, or pass - to read standard input", err)
	}
	return f, func() { f.Close() }, nil
}

// anomalyExec returns a function that sends one call to the anomaly
// detector through the daemon.
func anomalyExec(client *daemonClient, call callOptions) anomaly.ExecuteFunc {
	return func(ctx context.Context, params json.RawMessage) (*sdk.ExecuteResult, error) {
		req := &apiv1.ExecuteRequest{PluginId: anomaly.PluginID, ParametersJson: params, TenantId: call.tenant}
		if call.timeout > 0 {
			req.Timeout = durationpb.New(call.timeout)
		}
		resp, err := client.api.Execute(ctx, req)
		if err != nil {
			return nil, client.explain(err, requestInfo{pluginID: anomaly.PluginID, timeout: call.timeout, timeoutFlag: true})
		}
		res := &sdk.ExecuteResult{Success: resp.Success, Message: resp.Message, Data: resp.DataJson}
		if e := resp.Error; e != nil {
			res.Error = &sdk.ErrorDetail{Code: e.Code, Message: e.Message, Retryable: e.Retryable, Details: e.DetailsJson}
		}
		return res, nil
	}
}

func (a *app) newAnomalyIngestCommand() *cobra.Command {
	var call callOptions
	var file, outOfOrder string
	var batch int
	var contextPairs []string
	cmd := &cobra.Command{
		Use:   "ingest METRIC --file points.csv",
		Short: "Add the points of a timestamp,value CSV to a metric",
		Long: `Stream a timestamp,value CSV (header optional; RFC 3339, "2006-01-02
15:04:05" or unix-second timestamps) into METRIC. A bad line stores
nothing and is reported with its line number. With --out-of-order drop,
rows at or before the metric's newest stored point are skipped and counted,
so overlapping rows can be sent again. The text output lists each anomaly
found (timestamp, severity, type and message), at most 20; -o json lists
them all.`,
		Example: "  mockforged anomaly ingest api.latency_ms --file latency.csv\n  tail -n 100 latency.csv | mockforged anomaly ingest api.latency_ms --file - --out-of-order drop",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			order, err := csvio.ParseOutOfOrder(outOfOrder)
			if err != nil {
				return usageErrorf("invalid --out-of-order: %v", err)
			}
			anomalyContext, err := parseContextFlag(contextPairs)
			if err != nil {
				return err
			}
			in, closeIn, err := a.openInput(file)
			if err != nil {
				return err
			}
			defer closeIn()
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()
			summary, err := anomaly.IngestCSV(cmd.Context(), in, anomalyExec(client, call), args[0],
				csvio.ScanOptions{BatchSize: batch, OutOfOrder: order}, anomalyContext)
			if err != nil {
				return err
			}
			if call.format == formatJSON {
				return writeJSON(a.out, summary)
			}
			fmt.Fprintf(a.out, "ingested %s into %s: %s, %s dropped\n",
				countOf(summary.Rows, "point", "points"), args[0],
				countOf(len(summary.Anomalies), "anomaly", "anomalies"),
				countOf(summary.Dropped, "out-of-order row", "out-of-order rows"))
			printAnomalies(a.out, summary.Anomalies, maxListedAnomalies)
			return nil
		}),
	}
	cmd.Flags().StringVar(&file, "file", "", `CSV file of timestamp,value rows; "-" reads stdin (required)`)
	cmd.Flags().StringVar(&outOfOrder, "out-of-order", "reject",
		"what to do with a row older than the previous one or than the metric's newest point: reject or drop")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "rows per call (default: the detector's batch size)")
	addContextFlag(cmd.Flags(), &contextPairs)
	_ = cmd.MarkFlagRequired("file")
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

func (a *app) newAnomalyDetectCommand() *cobra.Command {
	var call callOptions
	var value float64
	var timestamp string
	var contextPairs []string
	cmd := &cobra.Command{
		Use:   "detect METRIC --value V",
		Short: "Check one value against a metric's baseline without storing it",
		Long: `Check one value against METRIC's baseline, and against the baseline of its
seasonal phase when the metric is seasonal, without adding it. The value is
an anomaly when it is at least k standard deviations from that baseline.
--timestamp selects the phase; the default is the metric's newest point.`,
		Example: "  mockforged anomaly detect api.latency_ms --value 950\n" +
			"  mockforged anomaly detect api.latency_ms --value 950 --timestamp 2026-01-05T03:00:00Z --context experiment=db-latency",
		Args: cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			params := anomaly.DetectParams{Operation: anomaly.OpDetect, Metric: args[0], Value: &value}
			if timestamp != "" {
				ts, err := csvio.ParseTimestamp(timestamp)
				if err != nil {
					return usageErrorf("--timestamp %q: %v", timestamp, err)
				}
				params.Timestamp = &anomaly.Timestamp{Time: ts}
			}
			var err error
			if params.Context, err = parseContextFlag(contextPairs); err != nil {
				return err
			}
			raw, err := json.Marshal(params)
			if err != nil {
				return fmt.Errorf("encode parameters: %w", err)
			}
			return a.callPlugin(cmd.Context(), anomaly.PluginID, raw, call)
		}),
	}
	cmd.Flags().Float64Var(&value, "value", 0, "value to check (required)")
	cmd.Flags().StringVar(&timestamp, "timestamp", "",
		`time of the value, which selects the seasonal phase: RFC 3339, "2006-01-02 15:04:05" (UTC) or Unix seconds (default: the metric's newest point)`)
	addContextFlag(cmd.Flags(), &contextPairs)
	_ = cmd.MarkFlagRequired("value")
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

func (a *app) newAnomalyScanCommand() *cobra.Command {
	var call callOptions
	var metric, outOfOrder string
	var batch int
	var contextPairs []string
	cmd := &cobra.Command{
		Use:   "scan FILE.csv",
		Short: "Stream a timestamp,value CSV through the detector and print each row's verdict",
		Long: `Stream a timestamp,value CSV through the detector and print every row with
anomaly_score, is_anomaly, severity and type added (-o csv, the default),
or as JSON (-o json, where anomalous rows carry the anomaly's id, message
and expected range). Without --metric the scan stores nothing and its
anomalies are labelled with FILE's base name ("stdin" for "-"). With
--metric the scanned model is stored as that metric. FILE "-" reads stdin.
With --out-of-order drop, the number of rows dropped is printed on stderr.
The output is printed once the whole file has been scanned: a failed scan
prints no rows, only the error (on stderr, and with -o json as {"error": ...} on
stdout), and exits with status 1.`,
		Example: "  mockforged anomaly scan nyc_taxi.csv > scored.csv\n  mockforged anomaly scan cpu.csv --metric host.cpu -o json",
		Args:    cobra.ExactArgs(1),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			format, err := csvio.ParseFormat(call.format)
			if err != nil {
				return usageErrorf("invalid -o: %v", err)
			}
			order, err := csvio.ParseOutOfOrder(outOfOrder)
			if err != nil {
				return usageErrorf("invalid --out-of-order: %v", err)
			}
			if metric != "" {
				if err := anomaly.ValidateMetricName(metric); err != nil {
					return usageErrorf("invalid --metric: %v", err)
				}
			}
			anomalyContext, err := parseContextFlag(contextPairs)
			if err != nil {
				return err
			}
			in, closeIn, err := a.openInput(args[0])
			if err != nil {
				return err
			}
			defer closeIn()
			client, err := a.connect()
			if err != nil {
				return err
			}
			defer client.close()
			scorer := anomaly.NewRemoteScorer(anomalyExec(client, call), metric)
			scorer.OutOfOrder, scorer.Context, scorer.Name = order, anomalyContext, scanName(args[0])
			summary, err := csvio.ScanCSV(cmd.Context(), in, a.out, scorer, csvio.ScanOptions{Format: format, BatchSize: batch, OutOfOrder: order})
			if err != nil {
				return err
			}
			if summary.Dropped > 0 {
				fmt.Fprintf(a.err, "dropped %s (not written)\n", countOf(summary.Dropped, "out-of-order row", "out-of-order rows"))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&metric, "metric", "", "store the scanned model as this metric (default: store nothing)")
	cmd.Flags().StringVar(&outOfOrder, "out-of-order", "reject",
		"what to do with a row older than the previous one or, with --metric, than the metric's newest point: reject or drop")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "rows per call (default: the detector's batch size)")
	addContextFlag(cmd.Flags(), &contextPairs)
	cmd.Flags().StringVar(&call.tenant, "tenant", "", "tenant on whose behalf the plugin is called")
	cmd.Flags().DurationVar(&call.timeout, "timeout", 0, "deadline of each batch call, such as 5s (default: the daemon's default timeout)")
	addOutputFlag(cmd.Flags(), &call.format, "csv", formatJSON)
	a.addTokenFlag(cmd.Flags())
	return cmd
}

// addContextFlag adds --context, the key=value pairs copied into every
// anomaly of the call.
func addContextFlag(flags *pflag.FlagSet, pairs *[]string) {
	flags.StringArrayVar(pairs, "context", nil, "key=value copied into every anomaly, such as experiment=db-latency; repeat for more")
}

// parseContextFlag converts --context key=value pairs to a map; nil when
// there are none.
func parseContextFlag(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, usageErrorf("invalid --context %q: use key=value, such as experiment=db-latency", pair)
		}
		if _, dup := out[key]; dup {
			return nil, usageErrorf("invalid --context %q: key %q is given twice", pair, key)
		}
		out[key] = value
	}
	return out, nil
}

func (a *app) newAnomalyEvaluateCommand() *cobra.Command {
	var dataDir, windows, configFile, format string
	cmd := &cobra.Command{
		Use:   "evaluate --data DIR --windows windows.json [--config config.json]",
		Short: "Score the detector on labelled series with window-based scoring",
		Long: `Run the detector over every series listed in a windows file (a JSON object
from series path to labelled anomaly windows) and report precision, recall,
detection delay and the window score in the standard, low-false-positive
and low-false-negative profiles, per file and in total. It runs in this
process and needs no daemon.

Without --config the detector runs with the config of the published NAB
figures: the plugin's defaults with "enable_seasonal": true,
"seasonal_period": "auto" and "spike_threshold": -1. --config takes the
same JSON object as "mockforged plugins configure anomaly-detector", so
you can score the config you run; "{}" scores the plugin's defaults. The
output starts with the config used.

The delay of a detected window is measured from the window's centre, where
the labelled anomaly is taken to start, to the earliest detection in the
window, in rows and in time. A negative delay is a detection before the
centre. In -o json, mean_delay_seconds and each file's delays_seconds give
the delays in seconds (mean_delay and delays are in nanoseconds).`,
		Example: "  mockforged anomaly evaluate --data nab/data --windows nab/windows.json\n" +
			"  mockforged anomaly evaluate --data nab/data --windows nab/windows.json --config detector.json",
		Args: cobra.NoArgs,
		RunE: a.action(func(*cobra.Command, []string) error {
			start := time.Now()
			cfg, err := evaluateConfig(configFile)
			if err != nil {
				return err
			}
			report, err := evaluate.Evaluate(dataDir, windows, evaluate.Options{Detector: cfg})
			if err != nil {
				return err
			}
			configJSON, err := json.Marshal(cfg.WithDefaults())
			if err != nil {
				return fmt.Errorf("encode the detector config: %w", err)
			}
			if format == formatJSON {
				out := newEvaluateReportJSON(report)
				out.Config = configJSON
				return writeJSON(a.out, out)
			}
			fmt.Fprintf(a.out, "detector config: %s\n", configJSON)
			if err := report.Print(a.out); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "evaluated in %s\n", time.Since(start).Round(time.Millisecond))
			return nil
		}),
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "directory the series paths in the windows file are relative to (required)")
	cmd.Flags().StringVar(&windows, "windows", "", "JSON file of labelled anomaly windows per series (required)")
	cmd.Flags().StringVar(&configFile, "config", "", "JSON file of the detector config, as the anomaly-detector plugin takes it (default: the config of the published NAB figures)")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("windows")
	addOutputFlag(cmd.Flags(), &format, formatText, formatJSON)
	return cmd
}

// evaluateConfig returns the detector config of evaluate: the one in file,
// checked as the anomaly-detector plugin checks its config, or
// evaluate.DefaultDetector when no file is given.
func evaluateConfig(file string) (detect.Config, error) {
	if file == "" {
		return evaluate.DefaultDetector(), nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return detect.Config{}, fmt.Errorf("read the detector config: %w", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return detect.Config{}, fmt.Errorf("%s is empty: write a JSON object of detector settings, or {} for the plugin's defaults", file)
	}
	cfg, err := anomaly.ParseConfig(raw)
	if err != nil {
		return detect.Config{}, fmt.Errorf("%s: %w", file, err)
	}
	return cfg.Config, nil
}

// maxListedAnomalies bounds the anomalies that the text output of ingest
// lists. With -o json, ingest lists them all.
const maxListedAnomalies = 20

// printAnomalies writes one line per anomaly, at most limit lines, and then
// how many were left out.
func printAnomalies(w io.Writer, anomalies []detect.Anomaly, limit int) {
	for i, an := range anomalies {
		if i == limit {
			fmt.Fprintf(w, "and %d more: use -o json to list them all\n", len(anomalies)-limit)
			return
		}
		fmt.Fprintf(w, "  %s  %-8s  %-19s  %s\n", an.Timestamp.UTC().Format(time.RFC3339), an.Severity, an.Type, an.Message)
	}
}

// scanName returns the name that labels the anomalies of a scan without a
// metric: the file's base name, or "stdin".
func scanName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return filepath.Base(path)
}

// evaluateReportJSON is the JSON output of evaluate: the report, with the
// delays also in seconds and empty lists as [] rather than null.
type evaluateReportJSON struct {
	evaluate.Report
	Files []evaluateFileJSON `json:"files"`
	// MeanDelaySeconds is Report.MeanDelay in seconds. mean_delay stays in
	// nanoseconds, as time.Duration encodes it, for existing readers.
	MeanDelaySeconds float64 `json:"mean_delay_seconds"`
	// Config is the detector config that the series ran with, defaults
	// filled in.
	Config json.RawMessage `json:"config"`
}

// evaluateFileJSON is one file of evaluateReportJSON.
type evaluateFileJSON struct {
	evaluate.FileReport
	// DelaysSeconds holds FileReport.Delays in seconds.
	DelaysSeconds []float64 `json:"delays_seconds"`
}

func newEvaluateReportJSON(r evaluate.Report) evaluateReportJSON {
	out := evaluateReportJSON{Report: r, Files: make([]evaluateFileJSON, len(r.Files)), MeanDelaySeconds: r.MeanDelay.Seconds()}
	for i, f := range r.Files {
		if f.DelayRows == nil {
			f.DelayRows = []int{}
		}
		if f.Delays == nil {
			f.Delays = []time.Duration{}
		}
		seconds := make([]float64, len(f.Delays))
		for j, d := range f.Delays {
			seconds[j] = d.Seconds()
		}
		out.Files[i] = evaluateFileJSON{FileReport: f, DelaysSeconds: seconds}
	}
	return out
}

// countOf formats n with the singular or plural noun that follows it.
func countOf[N ~int | ~int64](n N, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return fmt.Sprintf("%d %s", n, plural)
}
