package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mockforge/mockforged/sdk"
)

// process is a child process started by a benchmark.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
}

// startProcess starts path with args. The kernel kills the child if the
// benchmark process dies first, so that no child is left behind.
func startProcess(path string, args ...string) (*process, error) {
	p := &process{
		name:   path,
		cmd:    exec.Command(path, args...),
		output: &syncBuffer{},
		exited: make(chan struct{}),
	}
	p.cmd.Stdout = p.output
	p.cmd.Stderr = p.output
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM, and SIGKILL when the process has not exited after
// grace. It returns once the process has exited.
func (p *process) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	fmt.Fprintf(os.Stderr, "%s did not exit within %s of SIGTERM; killing it\n", p.name, grace)
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// syncBuffer collects a child's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dialUnix returns a gRPC client connection to the unix socket at path.
// Every path in this package is dialled with these same options, so that
// the floor and the daemon are measured alike.
func dialUnix(path string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("unix://"+path,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes),
		))
	if err != nil {
		return nil, fmt.Errorf("dial unix socket %s: %w", path, err)
	}
	return conn, nil
}

// waitUntil calls cond every interval until it returns nil, and returns the
// last error of cond when within passed first.
func waitUntil(within, interval time.Duration, what string, cond func(ctx context.Context) error) error {
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s: %w", within, what, err)
		}
		time.Sleep(interval)
	}
}
