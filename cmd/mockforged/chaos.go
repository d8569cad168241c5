package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/types/known/durationpb"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// chaosPluginID is the built-in Chaos Mesh plugin.
const chaosPluginID = "chaos-mesh"

func (a *app) newChaosCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Create and manage Chaos Mesh experiments on a Kubernetes cluster",
		Long: `Create and manage Chaos Mesh experiments through the built-in chaos-mesh
plugin, which reaches the cluster named by its config (mockforged plugins
configure chaos-mesh). Each command is a call of mockforged exec chaos-mesh
with an "operation" parameter; exec --params-file takes any Chaos Mesh spec,
including DNSChaos, HTTPChaos, JVMChaos, KernelChaos and Schedule.`,
		Args: noSubcommand,
	}
	for _, e := range chaosExperiments {
		cmd.AddCommand(a.newChaosCreateCommand(e))
	}
	cmd.AddCommand(
		a.newChaosListCommand(),
		a.newChaosTargetCommand("status", "Show an experiment's phase and conditions", "status"),
		a.newChaosTargetCommand("pause", "Pause an experiment", "pause"),
		a.newChaosTargetCommand("resume", "Resume a paused experiment", "resume"),
		a.newChaosTargetCommand("delete", "Delete an experiment, which recovers its targets", "delete"),
		a.newChaosWaitCommand(),
		a.newChaosCleanupCommand(),
	)
	return cmd
}

// chaosExperiment is one create command: its kind, its fixed spec fields
// and the flags that fill the rest.
type chaosExperiment struct {
	use, short, kind string
	// fill adds the experiment's own fields to spec from the flags.
	fill  func(flags *pflag.FlagSet, spec map[string]any) error
	flags func(flags *pflag.FlagSet)
}

var chaosExperiments = []chaosExperiment{
	{use: "pod-kill", short: "Kill the selected pods", kind: "PodChaos", fill: podAction("pod-kill"), flags: podFlags},
	{use: "pod-failure", short: "Make the selected pods fail for the duration", kind: "PodChaos", fill: podAction("pod-failure"), flags: podFlags},
	{use: "container-kill", short: "Kill containers (--container) of the selected pods", kind: "PodChaos", fill: podAction("container-kill"), flags: podFlags},
	{use: "network-delay", short: "Delay the selected pods' network traffic", kind: "NetworkChaos", fill: networkDelay, flags: networkDelayFlags},
	{use: "network-loss", short: "Drop a share of the selected pods' packets", kind: "NetworkChaos", fill: networkLoss, flags: networkLossFlags},
	{use: "network-bandwidth", short: "Limit the selected pods' bandwidth", kind: "NetworkChaos", fill: networkBandwidth, flags: networkBandwidthFlags},
	{use: "network-duplicate", short: "Duplicate a share of the selected pods' packets", kind: "NetworkChaos", fill: networkDuplicate, flags: networkDuplicateFlags},
	{use: "network-corrupt", short: "Corrupt a share of the selected pods' packets", kind: "NetworkChaos", fill: networkCorrupt, flags: networkCorruptFlags},
	{use: "network-partition", short: "Cut the selected pods off from target pods", kind: "NetworkChaos", fill: networkPartition, flags: networkPartitionFlags},
	{use: "stress-cpu", short: "Load the CPU of the selected pods", kind: "StressChaos", fill: stressCPU, flags: stressCPUFlags},
	{use: "stress-memory", short: "Allocate memory in the selected pods", kind: "StressChaos", fill: stressMemory, flags: stressMemoryFlags},
	{use: "io-latency", short: "Delay file system calls in the selected pods", kind: "IOChaos", fill: ioAction("latency"), flags: ioFlags},
	{use: "io-fault", short: "Fail file system calls in the selected pods with an errno", kind: "IOChaos", fill: ioAction("fault"), flags: ioFlags},
	{use: "time-offset", short: "Shift the clock of the selected pods", kind: "TimeChaos", fill: timeOffset, flags: timeFlags},
}

func (a *app) newChaosCreateCommand(e chaosExperiment) *cobra.Command {
	var call callOptions
	var sel selectorFlags
	var name, namespace, duration string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   e.use,
		Short: e.short,
		Example: `  mockforged chaos pod-kill --namespace shop --selector app=web --mode fixed --value 2 --duration 30s
  mockforged chaos network-delay --selector app=api --latency 200ms --jitter 20ms --duration 2m --dry-run`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			if !sel.namesTarget() {
				return usageErrorf("no target pods selected: pass --selector key=value, --expression, --annotation, --field, --phase, --node-selector, --node or --pod, or --target-namespace NAME to target every pod in a namespace")
			}

			spec, err := sel.spec()
			if err != nil {
				return err
			}
			if err := e.fill(cmd.Flags(), spec); err != nil {
				return err
			}
			params := map[string]any{"operation": "create", "kind": e.kind, "spec": spec}
			setIfNotEmpty(params, "name", name)
			setIfNotEmpty(params, "namespace", namespace)
			setIfNotEmpty(params, "duration", duration)
			if dryRun {
				params["dry_run"] = true
				return a.printChaosManifest(cmd.Context(), params, call)
			}
			return a.callChaos(cmd, params, call)
		}),
	}
	flags := cmd.Flags()
	flags.StringVar(&name, "name", "", "name of the experiment object (default: a random name; with --dry-run, a name derived from a hash of the manifest)")
	flags.StringVar(&namespace, "namespace", "", "namespace of the experiment object (default: the plugin config's namespace)")
	flags.StringVar(&duration, "duration", "", "how long the experiment runs, such as 30s (default: the plugin config's default_duration)")
	flags.BoolVar(&dryRun, "dry-run", false, "print the manifest as YAML for kubectl apply -f instead of creating it")
	sel.add(flags)
	e.flags(flags)
	a.addCallFlags(flags, &call)
	return cmd
}

// selectorFlags fill a Chaos Mesh PodSelector.
type selectorFlags struct {
	namespaces, labels, expressions, annotations, fields, phases, nodeLabels, nodes, pods, containers []string
	mode, value                                                                                       string
}

func (s *selectorFlags) add(flags *pflag.FlagSet) {
	flags.StringArrayVar(&s.namespaces, "target-namespace", nil, "namespace of the target pods; alone, it targets every pod of the namespace; repeat for more (default with other selectors: the experiment's namespace)")
	flags.StringArrayVar(&s.labels, "selector", nil, "label selector of the target pods as key=value; repeat for more")
	flags.StringArrayVar(&s.expressions, "expression", nil, `label expression as "key operator value,value", such as "tier In web,api" or "canary Exists"; repeat for more`)
	flags.StringArrayVar(&s.annotations, "annotation", nil, "annotation selector as key=value; repeat for more")
	flags.StringArrayVar(&s.fields, "field", nil, "field selector as key=value, such as metadata.name=web-0; repeat for more")
	flags.StringArrayVar(&s.phases, "phase", nil, "pod phase selector, such as Running; repeat for more")
	flags.StringArrayVar(&s.nodeLabels, "node-selector", nil, "node label selector as key=value; repeat for more")
	flags.StringArrayVar(&s.nodes, "node", nil, "node name; repeat for more")
	flags.StringArrayVar(&s.pods, "pod", nil, "explicit pod as namespace/name; repeat for more")
	flags.StringArrayVar(&s.containers, "container", nil, "container name; repeat for more (required by container-kill)")
	flags.StringVar(&s.mode, "mode", "one", "one, all, fixed, fixed-percent or random-max-percent")
	flags.StringVar(&s.value, "value", "", "pod count for fixed, percentage for fixed-percent and random-max-percent")
}

// namesTarget reports whether the flags select pods. The plugin rejects a
// selector without any, because Chaos Mesh would pick from every pod of
// the experiment's namespace.
func (s *selectorFlags) namesTarget() bool {
	for _, values := range [][]string{s.namespaces, s.labels, s.expressions, s.annotations, s.fields, s.phases, s.nodeLabels, s.nodes, s.pods} {
		if len(values) > 0 {
			return true
		}
	}
	return false
}

// spec returns the selector part of a spec.
func (s *selectorFlags) spec() (map[string]any, error) {
	selector := map[string]any{}
	if len(s.namespaces) > 0 {
		selector["namespaces"] = s.namespaces
	}
	for _, item := range []struct {
		key, flag string
		values    []string
	}{
		{"labelSelectors", "--selector", s.labels},
		{"annotationSelectors", "--annotation", s.annotations},
		{"fieldSelectors", "--field", s.fields},
		{"nodeSelectors", "--node-selector", s.nodeLabels},
	} {
		if len(item.values) == 0 {
			continue
		}
		m, err := keyValues(item.flag, item.values)
		if err != nil {
			return nil, err
		}
		selector[item.key] = m
	}
	if len(s.expressions) > 0 {
		exprs, err := expressions(s.expressions)
		if err != nil {
			return nil, err
		}
		selector["expressionSelectors"] = exprs
	}
	if len(s.phases) > 0 {
		selector["podPhaseSelectors"] = s.phases
	}
	if len(s.nodes) > 0 {
		selector["nodes"] = s.nodes
	}
	if len(s.pods) > 0 {
		pods := map[string][]string{}
		for _, p := range s.pods {
			ns, name, ok := strings.Cut(p, "/")
			if !ok || ns == "" || name == "" {
				return nil, usageErrorf("invalid --pod %q: use namespace/name", p)
			}
			pods[ns] = append(pods[ns], name)
		}
		selector["pods"] = pods
	}
	spec := map[string]any{"selector": selector, "mode": s.mode}
	setIfNotEmpty(spec, "value", s.value)
	if len(s.containers) > 0 {
		spec["containerNames"] = s.containers
	}
	return spec, nil
}

func keyValues(flag string, values []string) (map[string]string, error) {
	m := make(map[string]string, len(values))
	for _, v := range values {
		key, value, ok := strings.Cut(v, "=")
		if !ok || key == "" {
			return nil, usageErrorf("invalid %s %q: use key=value", flag, v)
		}
		m[key] = value
	}
	return m, nil
}

func expressions(values []string) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(values))
	for _, v := range values {
		parts := strings.Fields(v)
		if len(parts) < 2 || len(parts) > 3 {
			return nil, usageErrorf(`invalid --expression %q: use "key operator value,value" with operator In, NotIn, Exists or DoesNotExist`, v)
		}
		expr := map[string]any{"key": parts[0], "operator": parts[1]}
		if len(parts) == 3 {
			expr["values"] = strings.Split(parts[2], ",")
		}
		out = append(out, expr)
	}
	return out, nil
}

func setIfNotEmpty(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

// changed returns a flag's value when the user set it.
func changedString(flags *pflag.FlagSet, name string) (string, bool) {
	if !flags.Changed(name) {
		return "", false
	}
	v, _ := flags.GetString(name)
	return v, true
}

func copyStringFlags(flags *pflag.FlagSet, target map[string]any, names map[string]string) {
	for flag, field := range names {
		if v, ok := changedString(flags, flag); ok {
			target[field] = v
		}
	}
}

func copyIntFlags(flags *pflag.FlagSet, target map[string]any, names map[string]string) {
	for flag, field := range names {
		if flags.Changed(flag) {
			v, _ := flags.GetInt(flag)
			target[field] = v
		}
	}
}

func podFlags(flags *pflag.FlagSet) {
	flags.Int("grace-period", 0, "pod-kill: grace period of the deletion in seconds")
}

func podAction(action string) func(*pflag.FlagSet, map[string]any) error {
	return func(flags *pflag.FlagSet, spec map[string]any) error {
		spec["action"] = action
		copyIntFlags(flags, spec, map[string]string{"grace-period": "gracePeriod"})
		return nil
	}
}

func networkDelayFlags(flags *pflag.FlagSet) {
	flags.String("latency", "", "added latency, such as 200ms (required)")
	flags.String("jitter", "", "random variation of the latency, such as 20ms")
	flags.String("correlation", "", "correlation with the previous packet's delay, in percent, such as 25")
	networkCommonFlags(flags)
}

func networkCommonFlags(flags *pflag.FlagSet) {
	flags.String("direction", "", "to, from or both (default to)")
	flags.StringArray("external-target", nil, "IP, CIDR or host outside the cluster to limit the fault to; repeat for more")
	flags.String("device", "", "network device, such as eth0")
}

func networkCommon(flags *pflag.FlagSet, spec map[string]any) {
	copyStringFlags(flags, spec, map[string]string{"direction": "direction", "device": "device"})
	if flags.Changed("external-target") {
		v, _ := flags.GetStringArray("external-target")
		spec["externalTargets"] = v
	}
}

func networkDelay(flags *pflag.FlagSet, spec map[string]any) error {
	spec["action"] = "delay"
	delay := map[string]any{}
	copyStringFlags(flags, delay, map[string]string{"latency": "latency", "jitter": "jitter", "correlation": "correlation"})
	spec["delay"] = delay
	networkCommon(flags, spec)
	return nil
}

func networkLossFlags(flags *pflag.FlagSet) {
	flags.String("loss", "", "share of packets dropped, in percent, such as 30 (required)")
	flags.String("correlation", "", "correlation with the previous packet, in percent")
	networkCommonFlags(flags)
}

func networkLoss(flags *pflag.FlagSet, spec map[string]any) error {
	spec["action"] = "loss"
	loss := map[string]any{}
	copyStringFlags(flags, loss, map[string]string{"loss": "loss", "correlation": "correlation"})
	spec["loss"] = loss
	networkCommon(flags, spec)
	return nil
}

func networkDuplicateFlags(flags *pflag.FlagSet) {
	flags.String("duplicate", "", "share of packets sent twice, in percent, such as 5 (required)")
	flags.String("correlation", "", "correlation with the previous packet, in percent")
	networkCommonFlags(flags)
}

func networkDuplicate(flags *pflag.FlagSet, spec map[string]any) error {
	spec["action"] = "duplicate"
	duplicate := map[string]any{}
	copyStringFlags(flags, duplicate, map[string]string{"duplicate": "duplicate", "correlation": "correlation"})
	spec["duplicate"] = duplicate
	networkCommon(flags, spec)
	return nil
}

func networkCorruptFlags(flags *pflag.FlagSet) {
	flags.String("corrupt", "", "share of packets corrupted, in percent, such as 5 (required)")
	flags.String("correlation", "", "correlation with the previous packet, in percent")
	networkCommonFlags(flags)
}

func networkCorrupt(flags *pflag.FlagSet, spec map[string]any) error {
	spec["action"] = "corrupt"
	corrupt := map[string]any{}
	copyStringFlags(flags, corrupt, map[string]string{"corrupt": "corrupt", "correlation": "correlation"})
	spec["corrupt"] = corrupt
	networkCommon(flags, spec)
	return nil
}

func networkBandwidthFlags(flags *pflag.FlagSet) {
	flags.String("rate", "", "rate limit, such as 1mbps (required)")
	flags.Int("limit", 0, "bytes that can wait in the queue (required)")
	flags.Int("buffer", 0, "bucket size in bytes (required)")
	flags.Int("peakrate", 0, "maximum depletion rate of the bucket in bytes per second")
	flags.Int("minburst", 0, "size of the peakrate bucket in bytes")
	networkCommonFlags(flags)
}

func networkBandwidth(flags *pflag.FlagSet, spec map[string]any) error {
	spec["action"] = "bandwidth"
	bw := map[string]any{}
	copyStringFlags(flags, bw, map[string]string{"rate": "rate"})
	copyIntFlags(flags, bw, map[string]string{"limit": "limit", "buffer": "buffer", "peakrate": "peakrate", "minburst": "minburst"})
	spec["bandwidth"] = bw
	networkCommon(flags, spec)
	return nil
}

func networkPartitionFlags(flags *pflag.FlagSet) {
	flags.StringArray("target-selector", nil, "label selector of the pods on the other side, as key=value; repeat for more")
	flags.StringArray("target-selector-namespace", nil, "namespace of the pods on the other side; repeat for more")
	flags.String("target-mode", "all", "mode of the other side: one, all, fixed, fixed-percent or random-max-percent")
	flags.String("target-value", "", "value of --target-mode")
	networkCommonFlags(flags)
}

func networkPartition(flags *pflag.FlagSet, spec map[string]any) error {
	spec["action"] = "partition"
	networkCommon(flags, spec)
	labels, _ := flags.GetStringArray("target-selector")
	namespaces, _ := flags.GetStringArray("target-selector-namespace")
	if len(labels) == 0 && len(namespaces) == 0 {
		return nil
	}
	selector := map[string]any{}
	if len(labels) > 0 {
		m, err := keyValues("--target-selector", labels)
		if err != nil {
			return err
		}
		selector["labelSelectors"] = m
	}
	if len(namespaces) > 0 {
		selector["namespaces"] = namespaces
	}
	mode, _ := flags.GetString("target-mode")
	target := map[string]any{"selector": selector, "mode": mode}
	if v, _ := flags.GetString("target-value"); v != "" {
		target["value"] = v
	}
	spec["target"] = target
	return nil
}

func stressCPUFlags(flags *pflag.FlagSet) {
	flags.Int("workers", 1, "number of stress workers")
	flags.Int("load", 0, "load each worker puts on a CPU, in percent from 0 to 100")
}

func stressCPU(flags *pflag.FlagSet, spec map[string]any) error {
	workers, _ := flags.GetInt("workers")
	cpu := map[string]any{"workers": workers}
	copyIntFlags(flags, cpu, map[string]string{"load": "load"})
	spec["stressors"] = map[string]any{"cpu": cpu}
	return nil
}

func stressMemoryFlags(flags *pflag.FlagSet) {
	flags.Int("workers", 1, "number of stress workers")
	flags.String("size", "", "memory each worker allocates, such as 256MB or 50%")
}

func stressMemory(flags *pflag.FlagSet, spec map[string]any) error {
	workers, _ := flags.GetInt("workers")
	mem := map[string]any{"workers": workers}
	copyStringFlags(flags, mem, map[string]string{"size": "size"})
	spec["stressors"] = map[string]any{"memory": mem}
	return nil
}

func ioFlags(flags *pflag.FlagSet) {
	flags.String("volume-path", "", "mount point of the volume in the target container (required)")
	flags.String("path", "", "files the fault applies to, a glob such as /data/**")
	flags.StringArray("method", nil, "file system call the fault applies to, such as read or write; repeat for more")
	flags.Int("percent", 0, "share of calls affected, in percent (default 100)")
	flags.String("delay", "", "io-latency: added latency, such as 100ms")
	flags.Int("errno", 0, "io-fault: error number returned, such as 5 (EIO)")
}

func ioAction(action string) func(*pflag.FlagSet, map[string]any) error {
	return func(flags *pflag.FlagSet, spec map[string]any) error {
		spec["action"] = action
		copyStringFlags(flags, spec, map[string]string{"volume-path": "volumePath", "path": "path", "delay": "delay"})
		copyIntFlags(flags, spec, map[string]string{"percent": "percent", "errno": "errno"})
		if flags.Changed("method") {
			v, _ := flags.GetStringArray("method")
			spec["methods"] = v
		}
		return nil
	}
}

func timeFlags(flags *pflag.FlagSet) {
	flags.String("time-offset", "", "clock offset, such as -5m or 1h (required)")
	flags.StringArray("clock-id", nil, "clock to shift, such as CLOCK_REALTIME; repeat for more")
}

func timeOffset(flags *pflag.FlagSet, spec map[string]any) error {
	copyStringFlags(flags, spec, map[string]string{"time-offset": "timeOffset"})
	if flags.Changed("clock-id") {
		v, _ := flags.GetStringArray("clock-id")
		spec["clockIds"] = v
	}
	return nil
}

func (a *app) newChaosListCommand() *cobra.Command {
	var call callOptions
	var kind, namespace string
	var all, foreign bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the experiments mockforged created for the tenant",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			params := map[string]any{"operation": "list"}
			setIfNotEmpty(params, "kind", kind)
			setIfNotEmpty(params, "namespace", namespace)
			if all {
				params["all_namespaces"] = true
			}
			if foreign {
				params["include_foreign"] = true
			}
			return a.callChaos(cmd, params, call)
		}),
	}
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind, such as PodChaos (default: every kind)")
	cmd.Flags().StringVar(&namespace, "namespace", "", "namespace to list (default: the plugin config's namespace)")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list every namespace")
	cmd.Flags().BoolVar(&foreign, "include-foreign", false, "also list objects that mockforged did not create for the tenant")
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

// newChaosTargetCommand returns a command that runs one operation on one
// experiment named as KIND NAME.
func (a *app) newChaosTargetCommand(use, short, operation string) *cobra.Command {
	var call callOptions
	var namespace string
	cmd := &cobra.Command{
		Use:     use + " KIND NAME",
		Short:   short,
		Example: "  mockforged chaos " + use + " podchaos web-kill --namespace shop",
		Args:    cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			params := map[string]any{"operation": operation, "kind": args[0], "name": args[1]}
			setIfNotEmpty(params, "namespace", namespace)
			return a.callChaos(cmd, params, call)
		}),
	}
	cmd.Flags().StringVar(&namespace, "namespace", "", "namespace of the experiment (default: the plugin config's namespace)")
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

// chaosWaitMargin is added to the wait's timeout for the call's deadline,
// so that the plugin reports the timeout itself with the experiment named.
const chaosWaitMargin = 10 * time.Second

func (a *app) newChaosWaitCommand() *cobra.Command {
	var call callOptions
	var namespace, condition string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait KIND NAME --for injected|recovered",
		Short: "Wait until an experiment is injected or recovered",
		Long: `Wait until Chaos Mesh reports every target of an experiment injected (its
condition AllInjected) or recovered (AllRecovered). The command fails when
the timeout passes first.`,
		Example: "  mockforged chaos wait networkchaos api-delay --for injected --timeout 2m",
		Args:    cobra.ExactArgs(2),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			if condition != "injected" && condition != "recovered" {
				return usageErrorf("invalid --for %q: use injected or recovered", condition)
			}
			if timeout <= 0 {
				return usageErrorf("invalid --timeout %s: use a positive duration such as 2m", timeout)
			}
			params := map[string]any{"operation": "wait", "kind": args[0], "name": args[1], "for": condition, "timeout": timeout.String()}
			setIfNotEmpty(params, "namespace", namespace)
			call.timeout = timeout + chaosWaitMargin
			return a.callChaos(cmd, params, call)
		}),
	}
	flags := cmd.Flags()
	flags.StringVar(&namespace, "namespace", "", "namespace of the experiment (default: the plugin config's namespace)")
	flags.StringVar(&condition, "for", "", "condition to wait for: injected or recovered (required)")
	flags.DurationVar(&timeout, "timeout", time.Minute, "how long to wait, such as 2m")
	flags.StringVar(&call.tenant, "tenant", "", "tenant on whose behalf the plugin is called")
	addOutputFlag(flags, &call.format, formatText, formatJSON)
	a.addTokenFlag(flags)
	return cmd
}

func (a *app) newChaosCleanupCommand() *cobra.Command {
	var call callOptions
	var kind, namespace string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete every experiment mockforged created for the tenant, in every namespace",
		Args:  cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			params := map[string]any{"operation": "cleanup"}
			setIfNotEmpty(params, "kind", kind)
			setIfNotEmpty(params, "namespace", namespace)
			return a.callChaos(cmd, params, call)
		}),
	}
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind (default: every kind)")
	cmd.Flags().StringVar(&namespace, "namespace", "", "only this namespace (default: every namespace)")
	a.addCallFlags(cmd.Flags(), &call)
	return cmd
}

func (a *app) callChaos(cmd *cobra.Command, params map[string]any, call callOptions) error {
	data, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode parameters: %w", err)
	}
	return a.callPlugin(cmd.Context(), chaosPluginID, data, call)
}

// printChaosManifest runs a dry-run create and prints only the manifest,
// so that the output can be piped to kubectl apply -f -.
func (a *app) printChaosManifest(ctx context.Context, params map[string]any, call callOptions) error {
	if call.format == formatJSON {
		data, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("encode parameters: %w", err)
		}
		return a.callPlugin(ctx, chaosPluginID, data, call)
	}
	data, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode parameters: %w", err)
	}
	client, err := a.connect()
	if err != nil {
		return err
	}
	defer client.close()
	req := &apiv1.ExecuteRequest{PluginId: chaosPluginID, ParametersJson: data, TenantId: call.tenant}
	if call.timeout > 0 {
		req.Timeout = durationpb.New(call.timeout)
	}
	resp, err := client.api.Execute(ctx, req)
	if err != nil {
		return client.explain(err, requestInfo{pluginID: chaosPluginID, timeout: call.timeout, timeoutFlag: true})
	}
	if !resp.GetSuccess() {
		if err := writeExecuteResult(a.err, resp); err != nil {
			return err
		}
		return callFailedError(chaosPluginID, resp, call.timeout)
	}
	var out struct {
		Manifest string `json:"manifest"`
	}
	if err := json.Unmarshal(resp.GetDataJson(), &out); err != nil || out.Manifest == "" {
		return fmt.Errorf("dry run of %s returned no manifest", chaosPluginID)
	}
	_, err = fmt.Fprint(a.out, out.Manifest)
	return err
}
