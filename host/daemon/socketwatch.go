package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	"github.com/mockforge/mockforged/host/auth"
)

// socketCheckInterval is how often the daemon checks that its socket file
// still exists.
const socketCheckInterval = time.Second

// apiSocket serves the API on the socket and replaces the socket when its
// file was deleted while the daemon runs, for example by a clean-up of
// /tmp, so that new clients can connect. Connections already open are not
// affected by the deletion. A path taken by another file is left alone
// and logged once.
type apiSocket struct {
	path   string
	opts   auth.SocketOptions
	server *grpc.Server
	log    hclog.Logger
	// errs receives the error of a listener that failed for a reason
	// other than its replacement or the server's stop.
	errs chan error

	mu       sync.Mutex
	current  net.Listener
	replaced map[net.Listener]bool
}

func newAPISocket(path string, opts auth.SocketOptions, server *grpc.Server, log hclog.Logger) *apiSocket {
	return &apiSocket{path: path, opts: opts, server: server, log: log, errs: make(chan error, 1), replaced: map[net.Listener]bool{}}
}

// serve serves the API on listener until it is closed or replaced.
func (s *apiSocket) serve(listener net.Listener) {
	s.mu.Lock()
	s.current = listener
	s.mu.Unlock()
	go func() {
		err := s.server.Serve(listener)
		s.mu.Lock()
		replaced := s.replaced[listener]
		s.mu.Unlock()
		if replaced || err == nil || errors.Is(err, grpc.ErrServerStopped) {
			return
		}
		select {
		case s.errs <- err:
		default:
		}
	}()
}

// replace serves a new listener and closes the one whose file was deleted.
func (s *apiSocket) replace(listener net.Listener) {
	s.mu.Lock()
	old := s.current
	s.replaced[old] = true
	s.mu.Unlock()
	s.serve(listener)
	if old != nil {
		_ = old.Close()
	}
}

// watch checks the socket file every socketCheckInterval until ctx ends.
func (s *apiSocket) watch(ctx context.Context) {
	path, opts, log := s.path, s.opts, s.log
	ticker := time.NewTicker(socketCheckInterval)
	defer ticker.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		info, err := os.Lstat(path)
		switch {
		case err == nil && info.Mode()&os.ModeSocket != 0:
			warned = false
			continue
		case err == nil:
			if !warned {
				log.Error("socket path is taken by a file that is not a socket; new clients cannot connect until it is removed", "socket", path)
				warned = true
			}
			continue
		case !errors.Is(err, os.ErrNotExist):
			log.Error("cannot check the socket file", "socket", path, "error", err)
			continue
		}
		listener, err := auth.Listen(path, opts)
		if err != nil {
			log.Error("socket file was deleted and listening again failed", "socket", path, "error", err)
			continue
		}
		log.Warn("socket file was deleted; listening again", "socket", path)
		s.replace(listener)
	}
}
