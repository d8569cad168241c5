package main

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestExplainStatus(t *testing.T) {
	const socket = "/run/mockforged/mockforged.sock"
	refused := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	denied := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}
	connected := connectionReport{socket: socket, connected: true}

	tests := []struct {
		name string
		st   *status.Status
		req  requestInfo
		conn connectionReport
		want string
	}{
		{
			name: "unavailable before connecting",
			st:   status.New(codes.Unavailable, "connection error"),
			conn: connectionReport{socket: socket, dialErr: refused},
			want: `daemon not reachable at /run/mockforged/mockforged.sock (connect: connection refused); is the daemon running? Start it with "mockforged serve", or point --socket or MOCKFORGE_SOCKET at its socket`,
		},
		{
			name: "unavailable without dial error",
			st:   status.New(codes.Unavailable, "handshake failed"),
			conn: connectionReport{socket: socket},
			want: `daemon not reachable at /run/mockforged/mockforged.sock (handshake failed); is the daemon running? Start it with "mockforged serve", or point --socket or MOCKFORGE_SOCKET at its socket`,
		},
		{
			name: "permission denied on socket",
			st:   status.New(codes.Unavailable, "connection error"),
			conn: connectionReport{socket: socket, dialErr: denied},
			want: "permission denied on the daemon's socket /run/mockforged/mockforged.sock (connect: permission denied); run the command as a user that may open the socket",
		},
		{
			name: "unavailable from the daemon",
			st:   status.New(codes.Unavailable, "plugin dbfault is starting; retry in a moment"),
			conn: connected,
			want: "plugin dbfault is starting; retry in a moment",
		},
		{
			name: "connection lost during the request",
			st:   status.New(codes.Unavailable, "error reading from server: EOF"),
			conn: connectionReport{socket: socket, connected: true, lost: true},
			want: `lost the connection to the daemon at /run/mockforged/mockforged.sock during the request (error reading from server: EOF); check that the daemon is running with "mockforged status"`,
		},
		{
			name: "not found",
			st:   status.New(codes.NotFound, `plugin "x" not found`),
			req:  requestInfo{pluginID: "x"},
			conn: connected,
			want: `plugin "x" not found; run "mockforged plugins list" to see the plugins the daemon serves`,
		},
		{
			name: "not found without message",
			st:   status.New(codes.NotFound, ""),
			req:  requestInfo{pluginID: "x"},
			conn: connected,
			want: `plugin "x" not found; run "mockforged plugins list" to see the plugins the daemon serves`,
		},
		{
			name: "not found with hint from the daemon",
			st:   status.New(codes.NotFound, `plugin "x" not found; list the plugins with mockforged plugins list`),
			req:  requestInfo{pluginID: "x"},
			conn: connected,
			want: `plugin "x" not found; list the plugins with mockforged plugins list`,
		},
		{
			name: "invalid argument as is",
			st:   status.New(codes.InvalidArgument, "invalid config for plugin x: at '/port': must be >= 1"),
			conn: connected,
			want: "invalid config for plugin x: at '/port': must be >= 1",
		},
		{
			name: "deadline from --timeout",
			st:   status.New(codes.DeadlineExceeded, "context deadline exceeded"),
			req:  requestInfo{pluginID: "x", timeout: 5 * time.Second, timeoutFlag: true},
			conn: connected,
			want: `call to plugin "x" timed out after 5s; raise --timeout or check the plugin's logs`,
		},
		{
			name: "deadline from the daemon's default",
			st:   status.New(codes.DeadlineExceeded, "call to plugin x exceeded its deadline"),
			req:  requestInfo{pluginID: "x", timeoutFlag: true},
			conn: connected,
			want: `call to plugin "x" timed out at the daemon's default deadline (call to plugin x exceeded its deadline); set a longer deadline with --timeout`,
		},
		{
			name: "deadline without --timeout flag",
			st:   status.New(codes.DeadlineExceeded, "reload took too long"),
			req:  requestInfo{pluginID: "x"},
			conn: connected,
			want: `call to plugin "x" timed out: reload took too long`,
		},
		{
			name: "unauthenticated",
			st:   status.New(codes.Unauthenticated, "missing bearer token"),
			conn: connected,
			want: "missing bearer token; pass a valid token with --token or MOCKFORGE_TOKEN",
		},
		{
			name: "permission denied by the daemon",
			st:   status.New(codes.PermissionDenied, `tenant "t" may not call plugin "x"`),
			conn: connected,
			want: `tenant "t" may not call plugin "x"`,
		},
		{
			name: "canceled",
			st:   status.New(codes.Canceled, "context canceled"),
			conn: connected,
			want: "request canceled: context canceled",
		},
		{
			name: "unimplemented",
			st:   status.New(codes.Unimplemented, "unknown method Status"),
			conn: connected,
			want: "the daemon at /run/mockforged/mockforged.sock does not support this request (unknown method Status); run a daemon of the same version as this client (" + currentVersion() + ")",
		},
		{
			name: "internal",
			st:   status.New(codes.Internal, "plugin x failed: boom"),
			conn: connected,
			want: "daemon error (Internal): plugin x failed: boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := explainStatus(tt.st, tt.req, tt.conn)

			if err.Error() != tt.want {
				t.Errorf("message:\n got %s\nwant %s", err, tt.want)
			}
			if got := status.Code(err); got != tt.st.Code() {
				t.Errorf("status.Code = %s, want %s kept", got, tt.st.Code())
			}
		})
	}
}

func TestDaemonErrorUnwrapsStatus(t *testing.T) {
	st := status.New(codes.NotFound, "gone")

	err := explainStatus(st, requestInfo{}, connectionReport{connected: true})

	var target *daemonError
	if !errors.As(err, &target) {
		t.Fatalf("error %T is not a *daemonError", err)
	}
	if s, ok := status.FromError(errors.Unwrap(err)); !ok || s.Message() != "gone" {
		t.Errorf("Unwrap = %v, want the daemon's status error", errors.Unwrap(err))
	}
}
