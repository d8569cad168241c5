package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/auth"
	"github.com/mockforge/mockforged/host/paths"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
	"github.com/mockforge/mockforged/sdk"
)

// envToken is the environment variable that sets the bearer token when
// --token is not given.
const envToken = auth.EnvToken

// connectTimeout bounds each attempt to connect to the daemon's socket,
// including the HTTP/2 handshake.
const connectTimeout = 5 * time.Second

// daemonClient is a connection to the daemon's API.
type daemonClient struct {
	api     apiv1.DaemonClient
	tenants apiv1.TenantsClient
	conn    *grpc.ClientConn
	dialer  *socketDialer
}

// addTokenFlag adds --token to a client command's flags.
func (a *app) addTokenFlag(flags *pflag.FlagSet) {
	flags.StringVar(&a.token, "token", "", "bearer token sent to the daemon (env "+envToken+")")
}

// connect creates a client for the daemon's socket. The connection itself is
// made by the first request, which fails at once when the daemon is not
// reachable.
func (a *app) connect() (*daemonClient, error) {
	socket, err := a.socketPath()
	if err != nil {
		return nil, err
	}
	token, err := a.bearerToken()
	if err != nil {
		return nil, err
	}

	dialer := &socketDialer{path: socket}
	options := []grpc.DialOption{
		// The unix socket's file mode and the daemon's SO_PEERCRED check
		// control access, so the transport carries no TLS. These
		// credentials mark the connection as private, which gRPC requires
		// before it sends the bearer token.
		grpc.WithTransportCredentials(auth.TransportCredentials()),
		grpc.WithContextDialer(dialer.dial),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: connectTimeout}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes), grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes)),
	}
	if token != "" {
		options = append(options, grpc.WithPerRPCCredentials(auth.BearerToken(token)))
	}
	conn, err := grpc.NewClient("unix://"+socket, options...)
	if err != nil {
		return nil, fmt.Errorf("create a client for the daemon's socket %s: %w", socket, err)
	}
	return &daemonClient{
		api:     apiv1.NewDaemonClient(conn),
		tenants: apiv1.NewTenantsClient(conn),
		conn:    conn,
		dialer:  dialer,
	}, nil
}

// socketPath returns the absolute path of the --socket flag after checking
// that it fits the operating system's limit.
func (a *app) socketPath() (string, error) {
	if a.socket == "" {
		return "", usageErrorf("the socket path is empty; set --socket or %s to the daemon's socket", paths.EnvSocket)
	}
	socket, err := filepath.Abs(a.socket)
	if err != nil {
		return "", fmt.Errorf("resolve socket path %q: %w", a.socket, err)
	}
	if err := paths.CheckSocketPath(socket); err != nil {
		return "", usageError{err: err}
	}
	return socket, nil
}

// bearerToken returns the token of --token, else of MOCKFORGE_TOKEN, with
// surrounding white space removed. It never puts the token in an error.
func (a *app) bearerToken() (string, error) {
	token, source := a.token, "--token"
	if token == "" {
		token, source = os.Getenv(envToken), envToken
	}
	token = strings.TrimSpace(token)
	for _, r := range token {
		if r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", fmt.Errorf("invalid token in %s: it contains white space, control or non-ASCII characters; pass the token alone, without quotes or line breaks", source)
		}
	}
	return token, nil
}

// close closes the connection. Errors are ignored because every request's
// result was already read.
func (c *daemonClient) close() {
	_ = c.conn.Close()
}

// explain turns an error of a request into a message for the operator.
func (c *daemonClient) explain(err error, req requestInfo) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return explainStatus(st, req, c.dialer.report())
}

// socketDialer dials the daemon's socket and records what happened to the
// connection. It lets explain distinguish a daemon that is not reachable, or
// that went away during the request, from a daemon that returned
// Unavailable itself.
type socketDialer struct {
	path string

	mu      sync.Mutex
	dialed  bool
	dialErr error
	// received is set once the server sent data, such as its HTTP/2
	// settings, which shows that a server listens on the socket.
	received bool
	// closed is set when a read from the connection failed, as it does when
	// the server closes the connection or its process exits.
	closed bool
}

// dial ignores the address from gRPC, which is the target URL, and dials
// the socket path.
func (d *socketDialer) dial(ctx context.Context, _ string) (net.Conn, error) {
	dialer := net.Dialer{Timeout: connectTimeout}
	conn, err := dialer.DialContext(ctx, "unix", d.path)

	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.dialErr = err
		return nil, err
	}
	d.dialed = true
	return &trackedConn{Conn: conn, dialer: d}, nil
}

func (d *socketDialer) recordRead(n int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > 0 {
		d.received = true
	}
	if err != nil {
		d.closed = true
	}
}

func (d *socketDialer) report() connectionReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	return connectionReport{
		socket:    d.path,
		connected: d.dialed && d.received,
		lost:      d.closed,
		dialErr:   d.dialErr,
	}
}

// trackedConn reports the outcome of every read to its dialer.
type trackedConn struct {
	net.Conn
	dialer *socketDialer
}

// SyscallConn gives the transport credentials access to the socket, which
// they need to read the daemon's SO_PEERCRED.
func (c *trackedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("connection %T gives no access to its socket", c.Conn)
	}
	return sc.SyscallConn()
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.dialer.recordRead(n, err)
	return n, err
}
