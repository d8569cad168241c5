package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk/sdktest"
)

// dropPollInterval is how often BenchmarkRenameToFirstCall tries the first
// call, so its figures are late by up to this much.
const dropPollInterval = 2 * time.Millisecond

// dropTimeout bounds each wait in BenchmarkRenameToFirstCall.
const dropTimeout = 10 * time.Second

// reportMilliseconds reports the mean of total over b.N iterations in
// milliseconds, easier to read than ns/op for operations this slow.
func reportMilliseconds(b *testing.B, total time.Duration) {
	b.ReportMetric(float64(total)/float64(time.Millisecond)/float64(b.N), "ms/op")
}

// BenchmarkPluginLaunch measures the start of the no-op plugin binary until
// its GetInfo call has returned, so that it is ready for calls. launcher=host is
// the daemon's launcher (host/launch): it verifies the binary's SHA-256 and
// sets up go-plugin's automatic mutual TLS. launcher=sdktest is a plain
// go-plugin client. Stopping the plugin is not timed.
func BenchmarkPluginLaunch(b *testing.B) {
	b.Run("launcher=host", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			start := time.Now()
			proc, err := launchNoop()
			total += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			proc.Stop(5 * time.Second)
			b.StartTimer()
		}
		reportMilliseconds(b, total)
	})
	b.Run("launcher=sdktest", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			start := time.Now()
			client := sdktest.StartProcess(b, bins.noop)
			_, err := client.Info(context.Background())
			total += time.Since(start)
			if err != nil {
				b.Fatalf("read plugin info: %v", err)
			}
			b.StopTimer()
			client.Kill()
			b.StartTimer()
		}
		reportMilliseconds(b, total)
	})
}

// BenchmarkRenameToFirstCall measures the time from renaming the no-op
// plugin into a running daemon's plugins directory to the first successful
// call through the daemon's socket. The time includes the watcher's settle
// delay for renamed files, the copy into the binary store, the launch and
// the initialisation. Each iteration renames a fresh copy under a new name,
// and removes it afterwards, untimed, waiting until its process is gone.
func BenchmarkRenameToFirstCall(b *testing.B) {
	d, err := startDaemon()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.close)
	var total time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		name := "noop-" + strconv.Itoa(i)
		hidden, err := d.stage(bins.noop, name)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(d.pluginsDir, name)
		b.StartTimer()

		start := time.Now()
		if err := os.Rename(hidden, path); err != nil {
			b.Fatal(err)
		}
		err = waitUntil(dropTimeout, dropPollInterval, "the first call to "+name, func(ctx context.Context) error {
			return d.executeNoop(ctx, noopPluginID)
		})
		total += time.Since(start)
		if err != nil {
			b.Fatalf("%v\ndaemon output:\n%s", err, d.proc.output.String())
		}

		b.StopTimer()
		if err := d.uninstall(path, noopPluginID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportMilliseconds(b, total)
}

// uninstall removes the plugin file at path and waits until the daemon
// stopped its process and no longer serves id.
func (d *daemonProcess) uninstall(path, id string) error {
	pid, err := d.pidOf(path)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	return waitUntil(dropTimeout, dropPollInterval, "plugin "+id+" to stop", func(ctx context.Context) error {
		err := d.executeNoop(ctx, id)
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("plugin %s still serves calls: %v", id, err)
		}
		if !processGone(pid) {
			return fmt.Errorf("plugin process %d still runs", pid)
		}
		return nil
	})
}

// pidOf returns the process id of the plugin loaded from path.
func (d *daemonProcess) pidOf(path string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := d.client.ListPlugins(ctx, &apiv1.ListPluginsRequest{})
	if err != nil {
		return 0, fmt.Errorf("list plugins: %w", err)
	}
	for _, p := range resp.Plugins {
		if p.File == path && p.Pid > 0 {
			return int(p.Pid), nil
		}
	}
	return 0, fmt.Errorf("no running plugin listed for %s", path)
}

// processGone reports whether pid no longer runs: it has exited, or it is a
// zombie that its parent has not reaped yet.
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}
