package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Bounds of the HTTP server.
const (
	readHeaderTimeout  = 10 * time.Second
	scrapeTimeout      = 30 * time.Second
	maxScrapesInFlight = 8
)

// Server serves the daemon's metrics at /metrics, in the Prometheus text
// format or OpenMetrics, whichever the scraper requests.
type Server struct {
	http     *http.Server
	listener net.Listener
	log      hclog.Logger
	// done is closed when the serving goroutine returned.
	done chan struct{}
}

// ListenAddress checks a host:port and returns it with an empty host
// replaced by 127.0.0.1, so that ":9464" does not listen on every
// interface.
func ListenAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid metrics listen address %q: %w; use host:port such as 127.0.0.1:9464", addr, err)
	}
	if port == "" {
		return "", fmt.Errorf("invalid metrics listen address %q: the port is missing; use host:port such as 127.0.0.1:9464", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// Serve listens on addr (see ListenAddress) and serves m until Shutdown.
func Serve(addr string, m *Metrics, log hclog.Logger) (*Server, error) {
	addr, err := ListenAddress(addr)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Gatherer(), promhttp.HandlerOpts{
		EnableOpenMetrics:   true,
		ErrorLog:            promhttpLogger{log},
		MaxRequestsInFlight: maxScrapesInFlight,
		Timeout:             scrapeTimeout,
	}))
	s := &Server{
		http: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
		},
		listener: l,
		log:      log,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed; /metrics is no longer served", "address", s.Addr(), "error", err)
		}
	}()
	if tcp, ok := l.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn("metrics are served on a non-loopback address without authentication", "address", s.Addr())
	}
	log.Info("metrics listener started", "address", s.Addr())
	return s, nil
}

// Addr returns the bound address, which shows the port chosen when the
// listen address has port 0.
func (s *Server) Addr() string {
	return s.listener.Addr().String()
}

// Shutdown stops accepting scrapes, lets running ones finish until ctx is
// done, then closes their connections. It returns once the server stopped.
func (s *Server) Shutdown(ctx context.Context) {
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("scrapes did not finish in time; closing their connections", "address", s.Addr(), "error", err)
		_ = s.http.Close()
	}
	<-s.done
	s.log.Info("metrics listener stopped", "address", s.Addr())
}

// promhttpLogger passes promhttp's errors, such as a failed write to a
// scraper, to the daemon's logger.
type promhttpLogger struct {
	log hclog.Logger
}

func (l promhttpLogger) Println(v ...any) {
	l.log.Error("serving metrics failed", "error", fmt.Sprint(v...))
}
