package dbfault

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// errConnectionReset is returned by writes after a connection_reset fault
// reset the link.
var errConnectionReset = errors.New("connection reset by a connection_reset fault")

// link is one client connection and its upstream connection.
type link struct {
	id     uint64
	proxy  *proxy
	client net.Conn
	// cfg is the proxy's config when the connection was accepted.
	cfg *ProxyConfig

	serverMu sync.Mutex
	server   net.Conn

	// ctx is cancelled when the link closes; done is ctx.Done().
	ctx       context.Context
	cancel    context.CancelFunc
	done      <-chan struct{}
	closeOnce sync.Once
	// finished is closed when the link's goroutines have returned and the
	// proxy forgot the link.
	finished chan struct{}

	// sent counts the bytes written toward the server (upstream) and toward
	// the client (downstream).
	sentUp   atomic.Int64
	sentDown atomic.Int64

	mu sync.Mutex
	// decisions stores, per fault, whether a per-connection fault fires on
	// this connection, so that its probability is rolled only once.
	decisions map[*fault]bool
	// resets are connection_reset faults waiting for their byte count, and
	// armed is len(resets), read by writes without taking mu.
	resets []armedReset
	armed  atomic.Int32
}

// armedReset resets the link once the byte counter of direction reaches
// limit.
type armedReset struct {
	fault     *fault
	direction Direction
	limit     int64
}

func newLink(id uint64, p *proxy, client net.Conn) *link {
	ctx, cancel := context.WithCancel(context.Background())
	return &link{
		id:        id,
		proxy:     p,
		client:    client,
		cfg:       p.cfg.Load(),
		ctx:       ctx,
		cancel:    cancel,
		done:      ctx.Done(),
		finished:  make(chan struct{}),
		decisions: make(map[*fault]bool),
	}
}

// serve runs the connection until either side closes it or a fault ends it.
func (l *link) serve() {
	log := l.proxy.log.With("connection", l.id, "client", l.client.RemoteAddr().String())
	log.Trace("connection accepted")
	defer log.Trace("connection closed")

	faults := l.proxy.faults.Load()
	if l.applyNewConnectionResets(faults) {
		log.Debug("connection reset by fault at accept")
		return
	}
	if !l.holdForTimeouts(faults) {
		return
	}

	server, err := l.dialUpstream()
	if err != nil {
		if l.isClosed() {
			return // the proxy closed the link; the dial was cancelled
		}
		if l.proxy.dialErrors.allow() {
			log.Warn("connecting to upstream failed", "upstream", l.cfg.Upstream, "error", err,
				"suppressed", l.proxy.dialErrors.takeSuppressed())
		}
		return
	}
	l.serverMu.Lock()
	l.server = server
	l.serverMu.Unlock()
	if l.isClosed() {
		// close ran before the server connection was stored.
		_ = server.Close()
		return
	}

	switch l.cfg.Protocol {
	case ProtocolPostgres:
		s := newPostgresSession(l)
		l.relay(s.upstream, s.downstream)
	case ProtocolMySQL:
		s := newMySQLSession(l)
		l.relay(s.upstream, s.downstream)
	default:
		l.relay(
			func() error { return copyRaw(l.writer(DirectionUpstream), l.client) },
			func() error { return copyRaw(l.writer(DirectionDownstream), l.server) },
		)
	}
}

// dialUpstream connects to the upstream server; closing the link aborts it.
func (l *link) dialUpstream() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(l.ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	return d.DialContext(ctx, "tcp", l.cfg.Upstream)
}

// applyNewConnectionResets arms the connection_reset faults that cover new
// connections, and reports whether one of them reset the link at once.
func (l *link) applyNewConnectionResets(faults *faultSet) bool {
	if faults == nil {
		return false
	}
	for _, f := range faults.resets {
		if f.spec.Connections == resetExisting || !l.decide(f) {
			continue
		}
		if f.spec.AfterBytes == 0 {
			l.reset()
			return true
		}
		l.armReset(f)
	}
	return false
}

// holdForTimeouts holds a new connection for every connection_timeout
// fault that fires: until the fault's delay passes or, without a delay,
// until the fault ends. It returns false when the link closed meanwhile.
func (l *link) holdForTimeouts(faults *faultSet) bool {
	if faults == nil {
		return true
	}
	for _, f := range faults.timeouts {
		if !f.active() || !f.roll() {
			continue
		}
		var timeout <-chan time.Time
		if f.spec.Delay > 0 {
			t := time.NewTimer(f.spec.Delay)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-timeout:
		case <-f.done:
		case <-l.done:
			return false
		}
	}
	return true
}

// decide returns whether a per-connection fault fires on this link,
// rolling its probability the first time only.
func (l *link) decide(f *fault) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	fires, ok := l.decisions[f]
	if !ok {
		fires = f.roll()
		l.decisions[f] = fires
	}
	return fires
}

// armReset makes the link reset after f's byte count, counted from now.
func (l *link) armReset(f *fault) {
	limit := f.spec.AfterBytes + l.counted(f.spec.Direction)
	l.mu.Lock()
	l.resets = append(l.resets, armedReset{fault: f, direction: f.spec.Direction, limit: limit})
	l.armed.Store(int32(len(l.resets)))
	l.mu.Unlock()
}

// counted returns the bytes sent so far in direction d.
func (l *link) counted(d Direction) int64 {
	switch d {
	case DirectionUpstream:
		return l.sentUp.Load()
	case DirectionDownstream:
		return l.sentDown.Load()
	}
	return l.sentUp.Load() + l.sentDown.Load()
}

// allowance returns how many of n bytes flowing in direction flow may be
// written before an armed reset fires, and whether one fires.
func (l *link) allowance(flow Direction, n int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.resets) == 0 {
		return n, false
	}
	allowed, fires := n, false
	for _, r := range l.resets {
		if !r.direction.covers(flow) || !r.fault.active() {
			continue
		}
		left := max(r.limit-l.counted(r.direction), 0)
		if left < int64(allowed) {
			allowed, fires = int(left), true
		} else if left == int64(allowed) {
			fires = true
		}
	}
	return allowed, fires
}

// reset closes the client connection with a TCP RST, so that the client
// sees "connection reset by peer", and closes the upstream connection.
func (l *link) reset() {
	if tc, ok := l.client.(*net.TCPConn); ok {
		// A zero linger time makes Close send RST instead of FIN.
		_ = tc.SetLinger(0)
	}
	l.close()
}

// close closes both connections. It is safe to call more than once.
func (l *link) close() {
	l.closeOnce.Do(func() {
		l.cancel()
		_ = l.client.Close()
		l.serverMu.Lock()
		server := l.server
		l.serverMu.Unlock()
		if server != nil {
			_ = server.Close()
		}
	})
}

func (l *link) isClosed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// sleep waits for d and reports false when the link closed meanwhile.
func (l *link) sleep(d time.Duration) bool {
	if d <= 0 {
		return !l.isClosed()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}

// relay runs the two directions, up in this goroutine and down in another,
// and closes the link when both have ended.
func (l *link) relay(up, down func() error) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.finish(down(), l.client)
	}()
	l.finish(up(), l.server)
	wg.Wait()
	l.close()
}

// finish ends one direction. At a clean end of stream it half-closes the
// destination, so that the peer reads end of stream too. On an error it
// closes the whole link, which also stops the other direction.
func (l *link) finish(err error, dst net.Conn) {
	if err == nil || errors.Is(err, io.EOF) {
		if hc, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = hc.CloseWrite()
			return
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !l.isClosed() {
		l.proxy.log.Debug("connection ended with an error", "connection", l.id, "error", err)
	}
	l.close()
}

// writer returns the fault-applying writer for one direction.
func (l *link) writer(flow Direction) *shapedWriter {
	dst := l.client
	if flow == DirectionUpstream {
		l.serverMu.Lock()
		dst = l.server
		l.serverMu.Unlock()
	}
	return &shapedWriter{link: l, flow: flow, dst: dst}
}

// copyBufferSize is the read size of relays that do not parse the stream.
const copyBufferSize = 32 << 10

// copyRaw copies src to dst until src ends. Unlike io.Copy it never hands
// src to a ReaderFrom, so every read is written at once, which keeps
// interactive traffic moving.
func copyRaw(dst io.Writer, src io.Reader) error {
	buf := make([]byte, copyBufferSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}
