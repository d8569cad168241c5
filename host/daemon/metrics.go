package daemon

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/metrics"
)

// metricsStopTimeout bounds how long running scrapes may finish at
// shutdown.
const metricsStopTimeout = 5 * time.Second

// startMetrics serves the daemon's metrics on opts.MetricsListen and
// returns them with the function that stops the listener. With an empty
// MetricsListen it returns nil metrics, which record nothing.
func startMetrics(opts Options, log hclog.Logger) (*metrics.Metrics, func(), error) {
	if opts.MetricsListen == "" {
		return nil, func() {}, nil
	}
	m := metrics.New(opts.Version)
	srv, err := metrics.Serve(opts.MetricsListen, m, log)
	if err != nil {
		return nil, nil, err
	}
	return m, func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsStopTimeout)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
