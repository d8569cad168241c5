package sdk

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pluginv1 "github.com/mockforge/mockforged/proto/plugin/v1"
)

// ProtocolVersion is the version of the wire protocol between the host and
// plugins that this SDK speaks. The host rejects a plugin that speaks none of
// the versions it supports, naming both sides' versions.
const ProtocolVersion = 1

// PluginName is the name under which the plugin's gRPC service is offered in
// go-plugin's plugin set.
const PluginName = "mockforged"

// MaxMessageBytes is the largest gRPC message a plugin sends or receives.
const MaxMessageBytes = 64 << 20

// Handshake returns the go-plugin handshake that the host and plugins share.
// The magic cookie only tells a user who runs a plugin binary by hand that it
// is not meant to be run that way; it is not a security measure.
func Handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "MOCKFORGED_PLUGIN",
		MagicCookieValue: "4c1f8a0e-mockforged-plugin-v1",
	}
}

// parentPollInterval is how often a plugin checks whether its host is alive.
const parentPollInterval = 500 * time.Millisecond

// cleanupOnOrphanTimeout bounds Cleanup when the host died.
const cleanupOnOrphanTimeout = 10 * time.Second

var logger = hclog.New(&hclog.LoggerOptions{
	Level:      hclog.Trace,
	Output:     os.Stderr,
	JSONFormat: true,
})

// Logger returns the plugin's logger. It writes JSON lines to stderr, which
// the host re-emits under the plugin's name at the same level.
func Logger() hclog.Logger {
	return logger
}

// Serve serves p to the mockforged host and returns when the host stops the
// plugin. It is all a plugin's main function needs:
//
//	func main() { sdk.Serve(&myPlugin{}) }
//
// Serve performs go-plugin's handshake, serves gRPC with panic recovery and
// message limits of MaxMessageBytes both ways, and exits after running
// Cleanup when the host process dies. Run by hand, outside the host, the
// binary prints a message saying so and exits with status 1.
func Serve(p Plugin) {
	srv := newServer(p, logger)
	go watchParent(srv, logger)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{
			ProtocolVersion: {PluginName: &grpcPlugin{server: srv}},
		},
		GRPCServer: newGRPCServer(logger),
		Logger:     logger,
	})
}

// streamWindowBytes and connWindowBytes are the static HTTP/2 flow control
// windows of the plugin's server, per call and for the whole connection. A
// static window turns off grpc-go's estimate of the bandwidth-delay
// product. That estimate follows a request with a window update and a ping
// that the host must acknowledge, which costs about one more read and write
// per call in each process when calls come one at a time. The host sets the
// same windows on its side. 16 MiB is the largest window that the estimate
// grows to in grpc-go 1.85.
const (
	streamWindowBytes = 16 << 20
	connWindowBytes   = 16 << 20
)

// streamWorkers is the number of goroutines that serve calls and are reused
// from call to call, so that their stacks, once grown, are kept. Without
// them grpc-go starts a goroutine per call, whose stack may have to grow
// again. Calls beyond this number get a goroutine of their own.
const streamWorkers = 16

// newGRPCServer returns go-plugin's server factory with the SDK's limits,
// transport settings and panic recovery added.
func newGRPCServer(log hclog.Logger) func([]grpc.ServerOption) *grpc.Server {
	return func(opts []grpc.ServerOption) *grpc.Server {
		opts = append(opts,
			grpc.MaxRecvMsgSize(MaxMessageBytes),
			grpc.MaxSendMsgSize(MaxMessageBytes),
			grpc.StaticStreamWindowSize(streamWindowBytes),
			grpc.StaticConnWindowSize(connWindowBytes),
			grpc.NumStreamWorkers(streamWorkers),
			grpc.ChainUnaryInterceptor(recoverUnary(log)),
			grpc.ChainStreamInterceptor(recoverStream(log)),
		)
		return grpc.NewServer(opts...)
	}
}

func recoverUnary(log hclog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = panicError(log, info.FullMethod, r)
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log hclog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = panicError(log, info.FullMethod, r)
			}
		}()
		return handler(srv, ss)
	}
}

func panicError(log hclog.Logger, method string, value any) error {
	log.Error("plugin panicked", "method", method, "panic", fmt.Sprint(value), "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "plugin panicked in %s: %v", method, value)
}

// watchParent runs Cleanup and exits when the host process is gone, which
// shows as the parent process id changing.
func watchParent(srv *server, log hclog.Logger) {
	parent := os.Getppid()
	ticker := time.NewTicker(parentPollInterval)
	defer ticker.Stop()
	for range ticker.C {
		if os.Getppid() == parent {
			continue
		}
		log.Warn("host process exited; cleaning up and exiting", "host_pid", parent)
		ctx, cancel := context.WithTimeout(context.Background(), cleanupOnOrphanTimeout)
		if err := srv.plugin.Cleanup(ctx); err != nil {
			log.Error("cleanup after host exit failed", "error", err)
		}
		cancel()
		os.Exit(1)
	}
}

// grpcPlugin plugs the server into go-plugin. Only the server half is used
// here; the host has its own client.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	server *server
}

var _ goplugin.GRPCPlugin = (*grpcPlugin)(nil)

func (g *grpcPlugin) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	g.server.broker = broker
	pluginv1.RegisterPluginServer(s, g.server)
	return nil
}

func (g *grpcPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, fmt.Errorf("sdk: the plugin side has no client")
}

// ServeInProcess serves p inside the current process on a local socket until
// ctx is cancelled, the way go-plugin serves a plugin under test, and returns
// the config a go-plugin client uses to attach to it. It exists for tests and
// tools such as sdktest; a plugin's main calls Serve.
func ServeInProcess(ctx context.Context, p Plugin) (*goplugin.ReattachConfig, <-chan struct{}, error) {
	srv := newServer(p, logger)
	reattach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{
			ProtocolVersion: {PluginName: &grpcPlugin{server: srv}},
		},
		GRPCServer: newGRPCServer(logger),
		Logger:     logger,
		Test: &goplugin.ServeTestConfig{
			Context:          ctx,
			ReattachConfigCh: reattach,
			CloseCh:          closed,
		},
	})
	select {
	case cfg := <-reattach:
		return cfg, closed, nil
	case <-closed:
		return nil, closed, fmt.Errorf("sdk: in-process plugin server stopped before it was ready")
	case <-ctx.Done():
		return nil, closed, ctx.Err()
	}
}
