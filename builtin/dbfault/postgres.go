package dbfault

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Codes of the PostgreSQL startup packets that are not a StartupMessage.
const (
	pgCancelRequestCode   = 80877102
	pgSSLRequestCode      = 80877103
	pgGSSENCRequestCode   = 80877104
	pgMaxStartupLength    = 10000 // the server's own limit
	pgSentinelStatement   = "mockforged_fault"
	pgSentinelTokenPrefix = "mockforged_fault_"
)

var pgSentinelToken = regexp.MustCompile(pgSentinelTokenPrefix + `[0-9]+`)

// statementText is the SQL text of a prepared statement or portal; known
// is false when the proxy did not see it.
type statementText struct {
	sql   string
	known bool
}

// postgresSession relays one PostgreSQL connection (protocol 3).
//
// Upstream it reads the client's messages to find the SQL text of simple
// queries (Query) and of the extended protocol (Parse, then Bind and
// Execute), and applies query faults when a query runs. Downstream it
// forwards the server's messages, rewriting the errors of injected faults.
//
// A query_error fault is injected by the server itself: the proxy replaces
// the query (a Query message, or an Execute message) with a statement that
// fails to parse, named by a unique token. The server responds with a
// syntax error, aborts a transaction block and skips to the next Sync exactly as
// for a real error, and the proxy replaces that ErrorResponse with the
// fault's SQLSTATE and message. The client therefore sees a normal error
// and its connection stays usable.
type postgresSession struct {
	link    *link
	clientR *bufio.Reader
	serverR *bufio.Reader
	serverW *bufio.Writer
	clientW *lockedWriter

	// tlsPending is set when an SSLRequest or GSSENCRequest was forwarded,
	// so the server's next byte is its one-byte response.
	tlsPending atomic.Bool
	// opaque is set once client and server negotiated encryption; from
	// then on both directions are forwarded without reading them.
	opaque atomic.Bool

	// Read and written by the upstream direction only.
	statements map[string]statementText
	portals    map[string]statementText
	nextToken  uint64
	upScratch  []byte

	// downScratch is used by the downstream direction only.
	downScratch []byte

	// readyRequested counts the messages forwarded to the server that it
	// ends with a ReadyForQuery: StartupMessage, Query, FunctionCall and
	// Sync. readySeen counts the ReadyForQuery messages received; only the
	// downstream direction uses it.
	readyRequested atomic.Uint64
	readySeen      uint64

	mu sync.Mutex
	// pending maps the token of each injected error to the error waiting
	// for the server's response.
	pending map[string]pendingError
}

// pendingError is an injected error whose sentinel went to the server.
type pendingError struct {
	fault *fault
	// ready is readyRequested when the sentinel was sent. The server's
	// error for the sentinel comes before ReadyForQuery number ready+1, or
	// never, when an earlier error made the server skip the sentinel.
	ready uint64
}

func newPostgresSession(l *link) *postgresSession {
	return &postgresSession{
		link:       l,
		clientR:    bufio.NewReaderSize(l.client, relayBufferSize),
		serverR:    bufio.NewReaderSize(l.server, relayBufferSize),
		serverW:    bufio.NewWriterSize(l.writer(DirectionUpstream), relayBufferSize),
		clientW:    newLockedWriter(l.writer(DirectionDownstream)),
		statements: make(map[string]statementText),
		portals:    make(map[string]statementText),
		pending:    make(map[string]pendingError),
	}
}

// upstream relays the client's messages to the server.
func (s *postgresSession) upstream() error {
	raw, err := s.startup()
	if err != nil {
		return err
	}
	if raw {
		return passRaw(s.serverW, s.link.writer(DirectionUpstream), s.clientR, s.link.client)
	}
	return s.messages()
}

// startup relays the untyped packets that open a connection: SSLRequest,
// GSSENCRequest, CancelRequest and StartupMessage. It returns raw=true when
// the rest of the stream cannot be read: after encryption was negotiated,
// after a CancelRequest, or for a packet it does not know.
func (s *postgresSession) startup() (raw bool, err error) {
	for {
		if err := s.serverW.Flush(); err != nil {
			return false, err
		}
		if _, err := s.clientR.Peek(1); err != nil {
			return false, err
		}
		if s.opaque.Load() {
			return true, nil
		}
		peeked, err := s.clientR.Peek(8)
		if err != nil {
			return false, err
		}
		var header [8]byte
		copy(header[:], peeked)
		length := binary.BigEndian.Uint32(header[0:4])
		code := binary.BigEndian.Uint32(header[4:8])
		if length < 8 || length > pgMaxStartupLength {
			return true, nil
		}
		switch {
		case (code == pgSSLRequestCode || code == pgGSSENCRequestCode) && length == 8:
			_, _ = s.clientR.Discard(8)
			if err := s.negotiateEncryption(header[:]); err != nil {
				return false, err
			}
		case code>>16 == 3:
			// StartupMessage for protocol 3.x; typed messages follow.
			s.readyRequested.Add(1)
			return false, copyN(s.serverW, s.clientR, int(length))
		default:
			// CancelRequest or an unknown packet: the server reads it and
			// closes, or replies in a way the proxy does not read.
			return true, nil
		}
	}
}

// negotiateEncryption replies "N" (not supported) to an SSLRequest or
// GSSENCRequest when the proxy refuses TLS, and otherwise forwards it.
func (s *postgresSession) negotiateEncryption(request []byte) error {
	if s.link.cfg.TLS == TLSRefuse {
		return s.clientW.writeNow([]byte{'N'})
	}
	s.tlsPending.Store(true)
	_, err := s.serverW.Write(request)
	return err
}

// messages relays typed frontend messages until the client closes.
func (s *postgresSession) messages() error {
	for {
		if s.clientR.Buffered() == 0 {
			if err := s.serverW.Flush(); err != nil {
				return err
			}
		}
		header, err := s.clientR.Peek(5)
		if err != nil {
			return err
		}
		typ := header[0]
		length := int(binary.BigEndian.Uint32(header[1:5]))
		if length < 4 {
			return fmt.Errorf("invalid postgres message: type %q has length %d", typ, length)
		}
		total := 1 + length
		if typ == 'Q' || typ == 'F' || typ == 'S' {
			s.readyRequested.Add(1)
		}
		if total > maxInspectBytes {
			if typ == 'Q' || typ == 'E' {
				// The text is too large to read, so only faults without a
				// match pattern apply.
				if err := s.applyDelay(s.link.proxy.faults.Load().forQuery("", false)); err != nil {
					return err
				}
			}
			if err := copyN(s.serverW, s.clientR, total); err != nil {
				return err
			}
			continue
		}
		switch typ {
		case 'Q', 'P', 'B', 'E', 'C':
			msg, err := readMessage(s.clientR, total, &s.upScratch)
			if err != nil {
				return err
			}
			if err := s.handle(msg); err != nil {
				return err
			}
		default:
			if err := copyN(s.serverW, s.clientR, total); err != nil {
				return err
			}
		}
	}
}

// handle forwards one message that may carry or run SQL text.
func (s *postgresSession) handle(msg []byte) error {
	body := msg[5:]
	switch msg[0] {
	case 'Q':
		sql, _, ok := cString(body)
		return s.runQuery(msg, statementText{sql: sql, known: ok}, s.sentinelQuery)
	case 'E':
		portal, _, _ := cString(body)
		return s.runQuery(msg, s.portals[portal], s.sentinelParse)
	case 'P':
		name, rest, _ := cString(body)
		sql, _, ok := cString(rest)
		s.statements[name] = statementText{sql: sql, known: ok}
	case 'B':
		portal, rest, _ := cString(body)
		stmt, _, _ := cString(rest)
		s.portals[portal] = s.statements[stmt]
	case 'C':
		if len(body) > 0 {
			name, _, _ := cString(body[1:])
			if body[0] == 'S' {
				delete(s.statements, name)
			} else {
				delete(s.portals, name)
			}
		}
	}
	_, err := s.serverW.Write(msg)
	return err
}

// runQuery applies the query faults to a message that runs a query and
// forwards it, or forwards the sentinel that sentinel builds instead.
func (s *postgresSession) runQuery(msg []byte, stmt statementText, sentinel func(token string) ([]byte, error)) error {
	outcome := s.link.proxy.faults.Load().forQuery(stmt.sql, stmt.known)
	if err := s.applyDelay(outcome); err != nil {
		return err
	}
	if outcome.err != nil {
		replacement, err := sentinel(s.registerError(outcome.err))
		if err != nil {
			return err
		}
		msg = replacement
	}
	_, err := s.serverW.Write(msg)
	return err
}

// applyDelay sends what is buffered and waits for the query's delay.
func (s *postgresSession) applyDelay(outcome queryOutcome) error {
	if outcome.delay <= 0 {
		return nil
	}
	if err := s.serverW.Flush(); err != nil {
		return err
	}
	if !s.link.sleep(outcome.delay) {
		return net.ErrClosed
	}
	return nil
}

// registerError returns a new token for an injected error of f.
func (s *postgresSession) registerError(f *fault) string {
	s.nextToken++
	token := pgSentinelTokenPrefix + strconv.FormatUint(s.nextToken, 10)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[token] = pendingError{fault: f, ready: s.readyRequested.Load()}
	return token
}

func (s *postgresSession) sentinelQuery(token string) ([]byte, error) {
	return (&pgproto3.Query{String: token}).Encode(nil)
}

// sentinelParse replaces an Execute. The statement is named so that the
// failing Parse does not drop the client's unnamed statement.
func (s *postgresSession) sentinelParse(token string) ([]byte, error) {
	return (&pgproto3.Parse{Name: pgSentinelStatement, Query: token}).Encode(nil)
}

// downstream relays the server's messages to the client.
func (s *postgresSession) downstream() error {
	for {
		if s.serverR.Buffered() == 0 {
			if err := s.clientW.Flush(); err != nil {
				return err
			}
		}
		first, err := s.serverR.Peek(1)
		if err != nil {
			return err
		}
		if s.tlsPending.Swap(false) {
			if raw, err := s.forwardEncryptionResponse(first[0]); err != nil || raw {
				if err != nil {
					return err
				}
				return passRaw(s.clientW, s.link.writer(DirectionDownstream), s.serverR, s.link.server)
			}
			continue
		}
		header, err := s.serverR.Peek(5)
		if err != nil {
			return err
		}
		typ := header[0]
		length := int(binary.BigEndian.Uint32(header[1:5]))
		if length < 4 {
			return fmt.Errorf("invalid postgres message from the server: type %q has length %d", typ, length)
		}
		total := 1 + length
		if typ == 'Z' {
			s.readySeen++
			s.dropUnanswered()
		}
		if typ == 'E' && total <= maxInspectBytes && s.hasPending() {
			msg, err := readMessage(s.serverR, total, &s.downScratch)
			if err != nil {
				return err
			}
			if err := s.forwardError(msg); err != nil {
				return err
			}
			continue
		}
		if err := copyN(s.clientW, s.serverR, total); err != nil {
			return err
		}
	}
}

// forwardEncryptionResponse forwards the server's one-byte response to an
// SSLRequest or GSSENCRequest and reports whether encryption starts.
func (s *postgresSession) forwardEncryptionResponse(answer byte) (raw bool, err error) {
	_, _ = s.serverR.Discard(1)
	if answer == 'S' || answer == 'G' {
		// Set before the client reads the response, so that the upstream
		// direction treats the client's next bytes as a TLS or GSS handshake.
		s.opaque.Store(true)
		raw = true
	}
	return raw, s.clientW.writeNow([]byte{answer})
}

// dropUnanswered deletes the injected errors that the server skipped, which
// are those whose ReadyForQuery arrived without their error.
func (s *postgresSession) dropUnanswered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for token, p := range s.pending {
		if p.ready < s.readySeen {
			delete(s.pending, token)
		}
	}
}

func (s *postgresSession) hasPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0
}

// forwardError forwards an ErrorResponse, replaced by the fault's error
// when it is the server's response to an injected sentinel.
func (s *postgresSession) forwardError(msg []byte) error {
	var received pgproto3.ErrorResponse
	if err := received.Decode(msg[5:]); err != nil {
		_, werr := s.clientW.Write(msg)
		return werr
	}
	token := pgSentinelToken.FindString(received.Message)
	s.mu.Lock()
	pending, ok := s.pending[token]
	delete(s.pending, token)
	s.mu.Unlock()
	if token == "" || !ok {
		_, err := s.clientW.Write(msg)
		return err
	}
	f := pending.fault
	injected := &pgproto3.ErrorResponse{
		Severity:            "ERROR",
		SeverityUnlocalized: "ERROR",
		Code:                f.spec.SQLState,
		Message:             f.spec.Message,
	}
	out, err := injected.Encode(nil)
	if err != nil {
		return err
	}
	_, err = s.clientW.Write(out)
	return err
}
