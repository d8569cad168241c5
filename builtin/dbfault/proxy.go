package dbfault

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// dialTimeout bounds the connection to the upstream server.
const dialTimeout = 10 * time.Second

// proxy accepts client connections on one listener and relays each to the
// upstream server, applying the proxy's active faults on the way.
type proxy struct {
	name string
	log  hclog.Logger
	// dialErrors rate-limits the log of failed upstream dials, which repeat
	// for every client connection while the server is down.
	dialErrors *logLimiter

	cfg    atomic.Pointer[ProxyConfig]
	faults atomic.Pointer[faultSet]

	mu         sync.Mutex
	listener   net.Listener
	acceptDone chan struct{}
	links      map[uint64]*link
	nextLinkID uint64
	// wg counts the accept loop and every link's goroutines.
	wg sync.WaitGroup
}

func newProxy(cfg ProxyConfig, log hclog.Logger) *proxy {
	p := &proxy{
		name:       cfg.Name,
		log:        log.With("proxy", cfg.Name),
		dialErrors: newLogLimiter(10 * time.Second),
		links:      make(map[uint64]*link),
	}
	p.cfg.Store(&cfg)
	return p
}

// listen opens a listener for addr without serving it yet, so that a
// reconfiguration can open every new listener before it changes anything.
func listen(addr string) (net.Listener, error) {
	return net.Listen("tcp", addr)
}

// serve starts accepting connections on l, which the proxy now owns.
func (p *proxy) serve(l net.Listener) {
	p.mu.Lock()
	p.listener = l
	done := make(chan struct{})
	p.acceptDone = done
	p.mu.Unlock()

	cfg := p.cfg.Load()
	p.log.Info("proxy started", "listen", l.Addr().String(), "upstream", cfg.Upstream, "protocol", cfg.Protocol, "tls", cfg.TLS)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(done)
		p.acceptLoop(l)
	}()
}

// address returns the bound listen address, or "" when not listening.
func (p *proxy) address() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener == nil {
		return ""
	}
	return p.listener.Addr().String()
}

func (p *proxy) acceptLoop(l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Accept fails temporarily when the process runs out of file
			// descriptors; wait a little instead of spinning.
			p.log.Warn("accept failed", "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		p.startLink(conn)
	}
}

func (p *proxy) startLink(conn net.Conn) {
	p.mu.Lock()
	p.nextLinkID++
	l := newLink(p.nextLinkID, p, conn)
	p.links[l.id] = l
	p.wg.Add(1)
	p.mu.Unlock()

	go func() {
		defer p.wg.Done()
		defer p.dropLink(l)
		l.serve()
	}()
}

func (p *proxy) dropLink(l *link) {
	l.close()
	p.mu.Lock()
	delete(p.links, l.id)
	p.mu.Unlock()
	close(l.finished)
}

// connectionCount returns the number of client connections being served.
func (p *proxy) connectionCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// currentLinks returns a copy of the links, for applying a fault to
// existing connections.
func (p *proxy) currentLinks() []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*link, 0, len(p.links))
	for _, l := range p.links {
		out = append(out, l)
	}
	return out
}

// closeListener stops accepting connections and waits for the accept loop
// to end. Connections already accepted keep running.
func (p *proxy) closeListener() {
	p.mu.Lock()
	l, done := p.listener, p.acceptDone
	p.listener, p.acceptDone = nil, nil
	p.mu.Unlock()
	if l == nil {
		return
	}
	if err := l.Close(); err != nil {
		p.log.Warn("closing listener failed", "error", err)
	}
	<-done
	p.log.Info("proxy stopped listening", "listen", l.Addr().String())
}

// closeLinks closes every client connection and its upstream connection,
// and waits until their goroutines have returned.
func (p *proxy) closeLinks() {
	links := p.currentLinks()
	for _, l := range links {
		l.close()
	}
	for _, l := range links {
		<-l.finished
	}
}

// stop closes the listener and every connection, and waits until all of
// the proxy's goroutines have returned. It is safe to call more than once.
func (p *proxy) stop() {
	p.closeListener()
	p.closeLinks()
	p.wg.Wait()
}

// setFaults installs a new snapshot of the proxy's faults.
func (p *proxy) setFaults(faults []*fault) {
	p.faults.Store(newFaultSet(faults))
}
