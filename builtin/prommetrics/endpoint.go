package prommetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Bounds of the HTTP server that serves /metrics.
const (
	readHeaderTimeout   = 10 * time.Second
	scrapeTimeout       = 30 * time.Second
	maxScrapesInFlight  = 8
	endpointStopTimeout = 5 * time.Second
)

// endpoint serves a gatherer's metrics at /metrics on one listener, in the
// Prometheus text format or OpenMetrics, whichever the scraper requests.
type endpoint struct {
	server   *http.Server
	listener net.Listener
	log      hclog.Logger
	// done is closed when the server's goroutine returned.
	done chan struct{}
}

// startEndpoint listens on addr and serves g until stop.
func startEndpoint(addr string, g prometheus.Gatherer, log hclog.Logger) (*endpoint, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		EnableOpenMetrics:   true,
		ErrorLog:            promhttpLogger{log},
		MaxRequestsInFlight: maxScrapesInFlight,
		Timeout:             scrapeTimeout,
	}))
	e := &endpoint{
		server: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
		},
		listener: l,
		log:      log,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(e.done)
		if err := e.server.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "address", e.address(), "error", err)
		}
	}()
	log.Info("metrics listener started", "address", e.address())
	return e, nil
}

// address returns the bound address, which differs from the configured one
// when the config asked for port 0.
func (e *endpoint) address() string {
	return e.listener.Addr().String()
}

// stop closes the listener and lets running scrapes finish until ctx is
// done, then closes their connections. It returns once the server stopped.
func (e *endpoint) stop(ctx context.Context) {
	if err := e.server.Shutdown(ctx); err != nil {
		e.log.Warn("scrapes did not finish in time; closing their connections", "address", e.address(), "error", err)
		_ = e.server.Close()
	}
	<-e.done
	e.log.Info("metrics listener stopped", "address", e.address())
}

// stopWithin is stop bounded by endpointStopTimeout.
func (e *endpoint) stopWithin(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, endpointStopTimeout)
	defer cancel()
	e.stop(ctx)
}

// promhttpLogger passes promhttp's errors, such as a failed write to a
// scraper, to the plugin's logger.
type promhttpLogger struct {
	log hclog.Logger
}

func (l promhttpLogger) Println(v ...any) {
	l.log.Error("serving metrics failed", "error", fmt.Sprint(v...))
}
