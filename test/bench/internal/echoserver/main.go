// Command echoserver serves grpc-go's benchmark service on a unix socket.
// Its UnaryCall returns the request's payload unchanged, so that the plugin
// host benchmarks can measure a plain cross-process gRPC call as the floor
// for the daemon's own calls.
//
// Usage:
//
//	echoserver -socket /path/to/echo.sock
//
// It serves until SIGINT or SIGTERM and removes the socket on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/mockforge/mockforged/sdk"
)

func main() {
	socket := flag.String("socket", "", "path of the unix socket to listen on (required)")
	flag.Parse()
	if err := run(*socket); err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}

func run(socket string) error {
	if socket == "" {
		return errors.New("missing -socket; give the path of the unix socket to listen on")
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return fmt.Errorf("listen on socket %s: %w", socket, err)
	}
	defer os.Remove(socket)

	// The message limits match the daemon's API server. Everything else
	// keeps grpc-go's defaults, because the echo is the plain call that
	// the daemon is measured against: the daemon's own transport settings,
	// such as its static flow control windows, are part of what the
	// benchmarks measure.
	server := grpc.NewServer(
		grpc.MaxRecvMsgSize(sdk.MaxMessageBytes),
		grpc.MaxSendMsgSize(sdk.MaxMessageBytes),
	)
	testpb.RegisterBenchmarkServiceServer(server, echoService{})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		server.GracefulStop()
	}()
	if err := server.Serve(listener); err != nil {
		return fmt.Errorf("serve on socket %s: %w", socket, err)
	}
	return nil
}

// echoService implements UnaryCall only; the streaming calls return
// Unimplemented.
type echoService struct {
	testpb.UnimplementedBenchmarkServiceServer
}

// UnaryCall returns the request's payload.
func (echoService) UnaryCall(_ context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Payload: req.GetPayload()}, nil
}
