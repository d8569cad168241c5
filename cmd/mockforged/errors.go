package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/paths"
)

// usageError is an invalid command line, such as a bad flag value. The
// command exits with exitUsage.
type usageError struct {
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{err: fmt.Errorf(format, args...)}
}

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// daemonError is a failed request to the daemon, with a message for the
// operator. Unwrap returns the gRPC status error it was made from.
type daemonError struct {
	message string
	status  *status.Status
}

func (e *daemonError) Error() string { return e.message }
func (e *daemonError) Unwrap() error { return e.status.Err() }

// GRPCStatus returns the daemon's status, so that status.FromError and
// status.Code see through the message.
func (e *daemonError) GRPCStatus() *status.Status { return e.status }

// requestInfo describes a request for the messages of its errors.
type requestInfo struct {
	// pluginID is the plugin the request is about, if any.
	pluginID string
	// timeout is the deadline the operator set with --timeout, if any.
	timeout time.Duration
	// timeoutFlag is true when the command has a --timeout flag.
	timeoutFlag bool
}

// connectionReport describes what the client saw of the daemon's socket.
type connectionReport struct {
	socket string
	// connected is true once the client connected to the socket and the
	// server behind it sent data.
	connected bool
	// lost is true when the connection closed after it was made, as it does
	// when the daemon exits during a request.
	lost bool
	// dialErr is the error of the last failed connection attempt.
	dialErr error
}

// explainStatus converts a gRPC status from the daemon into an error that
// names what failed and the next step.
func explainStatus(st *status.Status, req requestInfo, conn connectionReport) error {
	message := st.Message()
	switch st.Code() {
	case codes.Unavailable:
		// The daemon itself returns Unavailable too, for example for a plugin
		// that is still starting. Its message is kept as it is.
		switch {
		case !conn.connected:
			message = unreachableMessage(conn, st)
		case conn.lost:
			message = fmt.Sprintf("lost the connection to the daemon at %s during the request (%s); check that the daemon is running with \"mockforged status\"",
				conn.socket, message)
		}
	case codes.NotFound:
		if message == "" {
			message = fmt.Sprintf("plugin %q not found", req.pluginID)
		}
		// Messages about tenants and tokens already name their own next step.
		if !strings.Contains(message, "plugins list") && !strings.Contains(message, "mockforged tenants") {
			message += `; run "mockforged plugins list" to see the plugins the daemon serves`
		}
	case codes.DeadlineExceeded:
		message = timeoutMessage(req, message)
	case codes.Unauthenticated:
		// The daemon's messages usually name the token options already.
		if !strings.Contains(message, "--token") {
			message = fmt.Sprintf("%s; pass a valid token with --token or %s", message, envToken)
		}
	case codes.Canceled:
		message = "request canceled: " + message
	case codes.Unimplemented:
		message = fmt.Sprintf("the daemon at %s does not support this request (%s); run a daemon of the same version as this client (%s)",
			conn.socket, message, currentVersion())
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.PermissionDenied,
		codes.ResourceExhausted, codes.Aborted, codes.OutOfRange:
		// The daemon's message names the value and the fix.
	default:
		message = fmt.Sprintf("daemon error (%s): %s", st.Code(), message)
	}
	return &daemonError{message: message, status: st}
}

func unreachableMessage(conn connectionReport, st *status.Status) string {
	cause := st.Message()
	if conn.dialErr != nil {
		cause = dialCause(conn.dialErr)
	}
	if errors.Is(conn.dialErr, fs.ErrPermission) {
		return fmt.Sprintf("permission denied on the daemon's socket %s (%s); run the command as a user that may open the socket",
			conn.socket, cause)
	}
	return fmt.Sprintf("daemon not reachable at %s (%s); is the daemon running? Start it with \"mockforged serve\", or point --socket or %s at its socket",
		conn.socket, cause, paths.EnvSocket)
}

// dialCause returns the system call error of a failed dial, such as
// "connect: no such file or directory", without repeating the socket path.
func dialCause(err error) string {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}

// timeoutMessage names the deadline that passed. The daemon's message is
// left out when the operator set the deadline, because it repeats it.
func timeoutMessage(req requestInfo, message string) string {
	subject := "request"
	if req.pluginID != "" {
		subject = fmt.Sprintf("call to plugin %q", req.pluginID)
	}
	switch {
	case req.timeout > 0:
		return fmt.Sprintf("%s timed out after %s; raise --timeout or check the plugin's logs", subject, req.timeout)
	case req.timeoutFlag:
		return fmt.Sprintf("%s timed out at the daemon's default deadline (%s); set a longer deadline with --timeout", subject, message)
	default:
		return fmt.Sprintf("%s timed out: %s", subject, message)
	}
}
