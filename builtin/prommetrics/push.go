package prommetrics

import (
	"context"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

// maxPushTimeout bounds one push; shorter intervals bound it further.
const maxPushTimeout = 10 * time.Second

// PushStatus describes the Pushgateway pushes in the output of list.
type PushStatus struct {
	// URL is the Pushgateway's URL with any password hidden.
	URL      string `json:"url"`
	Job      string `json:"job"`
	Interval string `json:"interval"`
	// LastPush is the time of the last successful push.
	LastPush *time.Time `json:"last_push,omitempty"`
	// LastError is the error of the last push when it failed.
	LastError string `json:"last_error,omitempty"`
}

// pusher pushes a gatherer's metrics to a Pushgateway every interval, and
// once more when it stops. Each push replaces the whole group (HTTP PUT),
// so deleted series disappear from the Pushgateway too.
type pusher struct {
	cfg    pushSettings
	client *push.Pusher
	// transport is the pusher's own, so that stop can close its idle
	// connections.
	transport *http.Transport
	log       hclog.Logger
	stopCh    chan struct{}
	// done is closed when the push loop returned.
	done chan struct{}

	mu     sync.Mutex
	status PushStatus
}

func startPusher(cfg pushSettings, g prometheus.Gatherer, log hclog.Logger) *pusher {
	timeout := min(cfg.interval, maxPushTimeout)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	client := push.New(cfg.url, cfg.job).Gatherer(g).Client(&http.Client{Timeout: timeout, Transport: transport})
	for name, value := range cfg.grouping {
		client = client.Grouping(name, value)
	}
	p := &pusher{
		cfg:       cfg,
		client:    client,
		transport: transport,
		log:       log.With("pushgateway", redactURL(cfg.url), "job", cfg.job),
		stopCh:    make(chan struct{}),
		done:      make(chan struct{}),
		status:    PushStatus{URL: redactURL(cfg.url), Job: cfg.job, Interval: cfg.interval.String()},
	}
	go p.run(timeout)
	p.log.Info("pushing to the Pushgateway", "interval", cfg.interval)
	return p
}

// run pushes at once, then on every tick until stop, then a last time so
// that the Pushgateway keeps the final values.
func (p *pusher) run(timeout time.Duration) {
	defer close(p.done)
	p.pushOnce(timeout)
	ticker := time.NewTicker(p.cfg.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			p.pushOnce(timeout)
		case <-p.stopCh:
			p.pushOnce(timeout)
			return
		}
	}
}

// pushOnce pushes and records the outcome. It logs a failure when its
// message differs from the previous one, and the first success after
// failures, so that a Pushgateway that stays down does not flood the log.
func (p *pusher) pushOnce(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := p.client.PushContext(ctx)

	p.mu.Lock()
	defer p.mu.Unlock()
	previous := p.status.LastError
	if err != nil {
		p.status.LastError = err.Error()
		if p.status.LastError != previous {
			p.log.Error("push to the Pushgateway failed; retrying at the next interval", "error", err)
		}
		return
	}
	now := time.Now().UTC()
	p.status.LastPush = &now
	p.status.LastError = ""
	if previous != "" {
		p.log.Info("push to the Pushgateway succeeded again")
	}
}

// stop ends the loop after a last push, waiting at most until ctx is done.
func (p *pusher) stop(ctx context.Context) {
	close(p.stopCh)
	select {
	case <-p.done:
		p.transport.CloseIdleConnections()
		p.log.Info("stopped pushing to the Pushgateway")
	case <-ctx.Done():
		p.log.Warn("the last push to the Pushgateway did not finish in time; not waiting for it", "error", ctx.Err())
	}
}

// snapshot returns the current status.
func (p *pusher) snapshot() PushStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// sameSettings reports whether a and b push the same way.
func sameSettings(a, b *pushSettings) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.url == b.url && a.job == b.job && a.interval == b.interval && maps.Equal(a.grouping, b.grouping)
}
