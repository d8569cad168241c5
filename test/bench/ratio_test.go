package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
	"github.com/mockforge/mockforged/sdk"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

// ratioChunk is how many calls one path makes before the next path takes
// its turn, so that all paths see the same load from other processes.
const ratioChunk = 500

// callPath is one way of making the no-op call, measured in
// BenchmarkDaemonEchoRatio.
type callPath struct {
	name      string
	call      callFunc
	cpu       cpuMeter
	latencies []time.Duration
	elapsed   time.Duration
}

// BenchmarkDaemonEchoRatio compares an end-to-end no-op call through the
// daemon with a plain grpc-go echo in the same run. It also measures the
// hop in between: the no-op plugin called directly over go-plugin, with a
// plain connection (plugin) and with the daemon's mutual TLS
// (plugin-mtls). Each iteration makes one call on every path, in turns of
// ratioChunk calls per path. It reports each path's p50 latency and
// throughput, and the ratio of the daemon's p50 to the echo's
// (daemon/echo-p50). It also reports the CPU time per call of the processes
// involved: the benchmark's own (client), the echo server's, the mutual-TLS
// plugin's, and the daemon's and its plugin's. CPU time is less disturbed
// than latency by other work on the machine. The plain plugin path reports
// none, because sdktest does not expose the plugin's process id. ns/op is
// the time of one call on every path together.
func BenchmarkDaemonEchoRatio(b *testing.B) {
	d, err := sharedNoopDaemon()
	if err != nil {
		b.Fatal(err)
	}
	e, err := sharedEchoServer()
	if err != nil {
		b.Fatal(err)
	}
	daemonPluginPid, err := d.pidOf(filepath.Join(d.pluginsDir, "noop"))
	if err != nil {
		b.Fatal(err)
	}
	plain := sdktest.StartProcess(b, bins.noop)
	withTLS, err := launchNoop()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { withTLS.Stop(5 * time.Second) })

	for _, callers := range callerCounts {
		b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
			echo := &callPath{name: "echo", call: e.call}
			echo.cpu.watch("client", os.Getpid())
			echo.cpu.watch("echo-server", e.proc.cmd.Process.Pid)
			plugin := &callPath{name: "plugin", call: func(ctx context.Context) error {
				return checkResult(plain.Execute(ctx, &sdk.ExecuteRequest{Parameters: noopParameters}))
			}}
			pluginTLS := &callPath{name: "plugin-mtls", call: func(ctx context.Context) error {
				return executeProto(ctx, withTLS.RPC)
			}}
			pluginTLS.cpu.watch("client", os.Getpid())
			pluginTLS.cpu.watch("plugin", withTLS.Pid)
			viaDaemon := &callPath{name: "daemon", call: func(ctx context.Context) error {
				return d.executeNoop(ctx, noopPluginID)
			}}
			viaDaemon.cpu.watch("client", os.Getpid())
			viaDaemon.cpu.watch("daemon", d.proc.cmd.Process.Pid)
			viaDaemon.cpu.watch("plugin", daemonPluginPid)
			paths := []*callPath{echo, plugin, pluginTLS, viaDaemon}

			ctx, cancel := context.WithTimeout(context.Background(), 4*runTimeout)
			defer cancel()
			for _, p := range paths {
				if _, _, err := measureCalls(ctx, warmupCalls, callers, p.call); err != nil {
					b.Fatalf("%s: warm-up call failed: %v", p.name, err)
				}
			}
			b.ResetTimer()
			for done := 0; done < b.N; done += ratioChunk {
				n := min(ratioChunk, b.N-done)
				for _, p := range paths {
					if err := p.add(ctx, n, callers); err != nil {
						b.Fatalf("%s: %v", p.name, err)
					}
				}
			}
			b.StopTimer()

			for _, p := range paths {
				p.report(b)
			}
			ratio := float64(percentile(viaDaemon.latencies, 50)) / float64(percentile(echo.latencies, 50))
			b.ReportMetric(ratio, "daemon/echo-p50")
		})
	}
}

// executeProto calls the no-op plugin through its generated gRPC client,
// as the daemon does.
func executeProto(ctx context.Context, rpc pluginv1.PluginClient) error {
	resp, err := rpc.Execute(ctx, &pluginv1.ExecuteRequest{TenantId: "default", ParametersJson: noopParameters})
	if err != nil {
		return err
	}
	if !resp.Success {
		return fmt.Errorf("no-op call returned success false: %s", resp.Message)
	}
	return nil
}

// add measures n more calls on the path.
func (p *callPath) add(ctx context.Context, n, callers int) error {
	if err := p.cpu.begin(); err != nil {
		return err
	}
	latencies, elapsed, err := measureCalls(ctx, n, callers, p.call)
	if err != nil {
		return err
	}
	if err := p.cpu.end(); err != nil {
		return err
	}
	p.latencies = append(p.latencies, latencies...)
	p.elapsed += elapsed
	return nil
}

// report reports the path's p50 latency, its throughput and the CPU time
// per call of each watched process, named after the path.
func (p *callPath) report(b *testing.B) {
	b.Helper()
	slices.Sort(p.latencies)
	b.ReportMetric(microseconds(percentile(p.latencies, 50)), p.name+"-p50-µs")
	b.ReportMetric(float64(len(p.latencies))/p.elapsed.Seconds(), p.name+"-calls/s")
	for i, process := range p.cpu.names {
		perCall := p.cpu.used[i] / time.Duration(len(p.latencies))
		b.ReportMetric(microseconds(perCall), p.name+":"+process+"-cpu-µs/call")
	}
}
