package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// noopPluginID is the id of the no-op test plugin.
const noopPluginID = "noop"

// noopParameters are the parameters of every benchmarked call; the no-op
// plugin returns them as its data.
var noopParameters = []byte(`{"k":"v"}`)

// daemonStopGrace bounds the daemon's shutdown after SIGTERM.
const daemonStopGrace = 15 * time.Second

// benchRequestsPerMinute replaces the default tenant's rate limit, which is
// 10,000 calls per minute on the enterprise plan, because one benchmark
// makes more calls than that. The limit stays finite, so every call still
// goes through the rate limit's sliding window.
const benchRequestsPerMinute = 100_000_000

// daemonProcess is a running `mockforged serve` on fresh directories.
type daemonProcess struct {
	proc       *process
	root       string
	socket     string
	pluginsDir string
	conn       *grpc.ClientConn
	client     apiv1.DaemonClient
}

// startDaemon starts the daemon on fresh directories, waits until its
// Status RPC succeeds and raises the default tenant's rate limit. The
// caller stops it with close.
func startDaemon() (*daemonProcess, error) {
	// The socket lives in a short directory of its own, because a unix
	// socket path is limited to 107 bytes.
	root, err := os.MkdirTemp("", "mfbench-")
	if err != nil {
		return nil, err
	}
	d := &daemonProcess{
		root:       root,
		socket:     filepath.Join(root, "mockforged.sock"),
		pluginsDir: filepath.Join(root, "plugins.d"),
	}
	if err := d.start(); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// start runs `mockforged serve` on the daemon's directories and prepares
// it for the benchmarks.
func (d *daemonProcess) start() error {
	if err := os.MkdirAll(d.pluginsDir, 0o755); err != nil {
		return err
	}
	var err error
	d.proc, err = startProcess(bins.daemon, "serve",
		"--socket", d.socket,
		"--plugins-dir", d.pluginsDir,
		"--data-dir", filepath.Join(d.root, "data"),
	)
	if err != nil {
		return err
	}
	if d.conn, err = dialUnix(d.socket); err != nil {
		return err
	}
	d.client = apiv1.NewDaemonClient(d.conn)

	err = waitUntil(15*time.Second, 10*time.Millisecond, "the daemon's Status RPC to succeed", func(ctx context.Context) error {
		_, err := d.client.Status(ctx, &apiv1.StatusRequest{})
		return err
	})
	if err == nil {
		err = d.raiseRateLimit()
	}
	if err != nil {
		return fmt.Errorf("%w\ndaemon output:\n%s", err, d.proc.output.String())
	}
	return nil
}

// raiseRateLimit sets the default tenant's rate limit to
// benchRequestsPerMinute through the daemon's Tenants API. The benchmark
// runs as the daemon's own user, so the daemon treats it as an
// administrator and its calls act for the default tenant.
func (d *daemonProcess) raiseRateLimit() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := apiv1.NewTenantsClient(d.conn).SetQuotas(ctx, &apiv1.SetQuotasRequest{
		Name: tenant.DefaultTenant,
		Set: &apiv1.Quotas{
			RequestsPerMinute: &apiv1.Limit{Kind: &apiv1.Limit_Max{Max: benchRequestsPerMinute}},
		},
	})
	if err != nil {
		return fmt.Errorf("raise the rate limit of tenant %s to %d calls per minute: %w", tenant.DefaultTenant, benchRequestsPerMinute, err)
	}
	return nil
}

// close stops the daemon and removes its directories.
func (d *daemonProcess) close() {
	if d.conn != nil {
		d.conn.Close()
	}
	if d.proc != nil {
		d.proc.stop(daemonStopGrace)
	}
	os.RemoveAll(d.root)
}

// stage copies src to a hidden name in the plugins directory, which the
// daemon ignores, and returns that path, to be renamed into place.
func (d *daemonProcess) stage(src, name string) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	hidden := filepath.Join(d.pluginsDir, "."+name+".tmp")
	if err := os.WriteFile(hidden, data, 0o755); err != nil {
		return "", err
	}
	return hidden, nil
}

// install drops src into the plugins directory under name by a rename and
// waits until a call to plugin id succeeds.
func (d *daemonProcess) install(src, name, id string) error {
	hidden, err := d.stage(src, name)
	if err != nil {
		return err
	}
	if err := os.Rename(hidden, filepath.Join(d.pluginsDir, name)); err != nil {
		return err
	}
	err = waitUntil(15*time.Second, 10*time.Millisecond, "plugin "+id+" to answer", func(ctx context.Context) error {
		return d.executeNoop(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("%w\ndaemon output:\n%s", err, d.proc.output.String())
	}
	return nil
}

// executeNoop calls plugin id through the daemon's Execute RPC and checks
// that the call succeeded.
func (d *daemonProcess) executeNoop(ctx context.Context, id string) error {
	resp, err := d.client.Execute(ctx, &apiv1.ExecuteRequest{PluginId: id, ParametersJson: noopParameters})
	if err != nil {
		return err
	}
	if !resp.Success {
		return fmt.Errorf("plugin %s returned success false: %s", id, resp.Message)
	}
	return nil
}

// noopDaemon is the daemon shared by the call benchmarks, serving the no-op
// plugin. It starts on first use and stops after the last benchmark.
var noopDaemon struct {
	once sync.Once
	d    *daemonProcess
	err  error
}

// sharedNoopDaemon returns the shared daemon serving the no-op plugin.
func sharedNoopDaemon() (*daemonProcess, error) {
	noopDaemon.once.Do(func() {
		d, err := startDaemon()
		if err != nil {
			noopDaemon.err = err
			return
		}
		if err := d.install(bins.noop, "noop", noopPluginID); err != nil {
			d.close()
			noopDaemon.err = err
			return
		}
		noopDaemon.d = d
		atExit(d.close)
	})
	if noopDaemon.err != nil {
		return nil, fmt.Errorf("start the daemon with the no-op plugin: %w", noopDaemon.err)
	}
	return noopDaemon.d, nil
}
