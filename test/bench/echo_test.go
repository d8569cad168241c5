package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// echoServer is a running echoserver: the plain grpc-go floor.
type echoServer struct {
	proc   *process
	root   string
	conn   *grpc.ClientConn
	client testpb.BenchmarkServiceClient
}

// startEchoServer starts the echo server on a fresh unix socket and waits
// until an echo call succeeds.
func startEchoServer() (*echoServer, error) {
	root, err := os.MkdirTemp("", "mfbench-echo-")
	if err != nil {
		return nil, err
	}
	e := &echoServer{root: root}
	socket := filepath.Join(root, "echo.sock")
	if e.proc, err = startProcess(bins.echo, "-socket", socket); err != nil {
		e.close()
		return nil, err
	}
	if e.conn, err = dialUnix(socket); err != nil {
		e.close()
		return nil, err
	}
	e.client = testpb.NewBenchmarkServiceClient(e.conn)
	if err := waitUntil(15*time.Second, 10*time.Millisecond, "the echo server to answer", e.call); err != nil {
		err = fmt.Errorf("%w\necho server output:\n%s", err, e.proc.output.String())
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *echoServer) close() {
	if e.conn != nil {
		e.conn.Close()
	}
	if e.proc != nil {
		e.proc.stop(5 * time.Second)
	}
	os.RemoveAll(e.root)
}

// call makes one echo call carrying the no-op call's parameters and checks
// that they came back.
func (e *echoServer) call(ctx context.Context) error {
	resp, err := e.client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: noopParameters}})
	if err != nil {
		return err
	}
	if !bytes.Equal(resp.GetPayload().GetBody(), noopParameters) {
		return fmt.Errorf("echo returned %q, want %q", resp.GetPayload().GetBody(), noopParameters)
	}
	return nil
}

// sharedEcho is the echo server shared by the benchmarks. It starts on
// first use and stops after the last benchmark.
var sharedEcho struct {
	once sync.Once
	e    *echoServer
	err  error
}

func sharedEchoServer() (*echoServer, error) {
	sharedEcho.once.Do(func() {
		sharedEcho.e, sharedEcho.err = startEchoServer()
		if sharedEcho.err == nil {
			atExit(sharedEcho.e.close)
		}
	})
	if sharedEcho.err != nil {
		return nil, fmt.Errorf("start the echo server: %w", sharedEcho.err)
	}
	return sharedEcho.e, nil
}

// BenchmarkEchoFloor measures a plain grpc-go unary call to another process
// over a unix socket: the floor that the plugin calls are compared with.
func BenchmarkEchoFloor(b *testing.B) {
	e, err := sharedEchoServer()
	if err != nil {
		b.Fatal(err)
	}
	for _, callers := range callerCounts {
		b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
			benchCalls(b, callers, e.call)
		})
	}
}
