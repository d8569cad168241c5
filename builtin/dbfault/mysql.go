package dbfault

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
)

// MySQL capability flags and commands, from the MySQL client/server
// protocol documentation; MariaDB uses the same values.
const (
	myCapCompress        = 0x00000020
	myCapProtocol41      = 0x00000200
	myCapSSL             = 0x00000800
	myCapQueryAttributes = 1 << 27

	myComQuery           = 0x03
	myComChangeUser      = 0x11
	myComStmtPrepare     = 0x16
	myComStmtExecute     = 0x17
	myComStmtClose       = 0x19
	myComResetConnection = 0x1f

	myPacketOK    = 0x00
	myGreetingV10 = 0x0a
	// myMaxPayload is the largest payload of one packet; a packet of this
	// size is followed by another that continues it.
	myMaxPayload = 0xffffff
	// mySSLRequestLength is the payload length of the SSL request that a
	// protocol 4.1 client sends instead of its handshake response.
	mySSLRequestLength = 32
)

// mySQLSession relays one MySQL or MariaDB connection.
//
// The server speaks first. During the connection phase (greeting,
// handshake response, authentication) the relay reads packets only to
// remove the TLS capability from the greeting when the proxy refuses TLS,
// to learn the client's capabilities, and to see the OK that ends
// authentication. In the command phase it reads COM_QUERY and
// COM_STMT_EXECUTE to apply query faults, and learns the SQL text of
// prepared statements from COM_STMT_PREPARE and the server's response.
//
// The proxy replies to a query_error itself, with an ERR packet whose
// sequence id follows the command's, and the query never reaches the server. The
// protocol is strictly request and response, so the connection stays
// usable.
type mySQLSession struct {
	link    *link
	clientR *bufio.Reader
	serverR *bufio.Reader
	serverW *bufio.Writer
	clientW *lockedWriter

	// commandPhase is set when authentication succeeded, and cleared by
	// COM_CHANGE_USER, which authenticates again.
	commandPhase atomic.Bool
	// opaque is set once TLS or compression starts; from then on both
	// directions are forwarded without reading them.
	opaque atomic.Bool
	// clientCaps are the capabilities of the client's handshake response.
	clientCaps atomic.Uint32

	// Used by the upstream direction only.
	handshakeSeen  bool
	upContinuation bool
	upScratch      []byte

	// Used by the downstream direction only.
	greetingSeen     bool
	downContinuation bool
	downScratch      []byte

	mu         sync.Mutex
	statements map[uint32]statementText
	// preparing is the SQL text of a COM_STMT_PREPARE whose response has
	// not arrived yet.
	preparing *statementText
}

func newMySQLSession(l *link) *mySQLSession {
	return &mySQLSession{
		link:       l,
		clientR:    bufio.NewReaderSize(l.client, relayBufferSize),
		serverR:    bufio.NewReaderSize(l.server, relayBufferSize),
		serverW:    bufio.NewWriterSize(l.writer(DirectionUpstream), relayBufferSize),
		clientW:    newLockedWriter(l.writer(DirectionDownstream)),
		statements: make(map[uint32]statementText),
	}
}

// packetHeader returns the payload length and sequence id of a packet.
func packetHeader(h []byte) (length int, seq byte) {
	return int(h[0]) | int(h[1])<<8 | int(h[2])<<16, h[3]
}

// upstream relays the client's packets to the server.
func (s *mySQLSession) upstream() error {
	for {
		if s.clientR.Buffered() == 0 {
			if err := s.serverW.Flush(); err != nil {
				return err
			}
		}
		header, err := s.clientR.Peek(4)
		if err != nil {
			return err
		}
		if s.opaque.Load() {
			return passRaw(s.serverW, s.link.writer(DirectionUpstream), s.clientR, s.link.client)
		}
		length, seq := packetHeader(header)
		total := 4 + length
		continued := s.upContinuation
		s.upContinuation = length == myMaxPayload

		switch {
		case !s.commandPhase.Load() && !s.handshakeSeen:
			s.handshakeSeen = true
			if err := s.handshakeResponse(total); err != nil {
				return err
			}
		// NOTE: a command starts with sequence id 0. The data packets of
		// LOAD DATA LOCAL INFILE count up from 2 and wrap after 255, so in
		// a long upload one packet in 256 has id 0 and is read as a command.
		case !s.commandPhase.Load() || continued || seq != 0 || length == 0:
			err = copyN(s.serverW, s.clientR, total)
		case total > maxInspectBytes:
			err = s.largeCommand(total)
		default:
			var msg []byte
			if msg, err = readMessage(s.clientR, total, &s.upScratch); err == nil {
				err = s.command(msg)
			}
		}
		if err != nil {
			return err
		}
	}
}

// handshakeResponse forwards the client's first packet and records its
// capabilities. An SSL request makes the rest of the stream opaque.
func (s *mySQLSession) handshakeResponse(total int) error {
	msg, err := readMessage(s.clientR, min(total, maxInspectBytes), &s.upScratch)
	if err != nil {
		return err
	}
	payload := msg[4:]
	var caps uint32
	if len(payload) >= 4 {
		caps = binary.LittleEndian.Uint32(payload)
	}
	s.clientCaps.Store(caps)
	if caps&myCapSSL != 0 && len(payload) == mySSLRequestLength {
		// Set before the server can respond, so that the downstream
		// direction forwards the TLS handshake without reading it.
		s.opaque.Store(true)
	}
	if _, err := s.serverW.Write(msg); err != nil {
		return err
	}
	return copyN(s.serverW, s.clientR, total-len(msg))
}

// largeCommand forwards a command too large to read whole. Only faults
// without a match pattern apply to it.
func (s *mySQLSession) largeCommand(total int) error {
	peek, err := s.clientR.Peek(5)
	if err != nil {
		return err
	}
	if cmd := peek[4]; cmd == myComQuery || cmd == myComStmtExecute {
		outcome := s.link.proxy.faults.Load().forQuery("", false)
		outcome.err = nil // an early reply would leave the rest of the packet unread
		if err := s.applyDelay(outcome); err != nil {
			return err
		}
	}
	return copyN(s.serverW, s.clientR, total)
}

// command handles one command packet.
func (s *mySQLSession) command(msg []byte) error {
	payload := msg[4:]
	switch payload[0] {
	case myComQuery:
		return s.runQuery(msg, s.queryText(payload[1:]))
	case myComStmtExecute:
		if len(payload) >= 5 {
			return s.runQuery(msg, s.statement(binary.LittleEndian.Uint32(payload[1:5])))
		}
	case myComStmtPrepare:
		s.mu.Lock()
		s.preparing = &statementText{sql: string(payload[1:]), known: true}
		s.mu.Unlock()
	case myComStmtClose:
		if len(payload) >= 5 {
			s.mu.Lock()
			delete(s.statements, binary.LittleEndian.Uint32(payload[1:5]))
			s.mu.Unlock()
		}
	case myComChangeUser:
		s.commandPhase.Store(false)
		s.forgetStatements()
	case myComResetConnection:
		s.forgetStatements()
	}
	_, err := s.serverW.Write(msg)
	return err
}

func (s *mySQLSession) forgetStatements() {
	s.mu.Lock()
	clear(s.statements)
	s.preparing = nil
	s.mu.Unlock()
}

func (s *mySQLSession) statement(id uint32) statementText {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statements[id]
}

// queryText returns the SQL text of a COM_QUERY payload after the command
// byte. With query attributes negotiated, the text follows the attribute
// counts; a query that carries attributes is reported as unknown text.
func (s *mySQLSession) queryText(b []byte) statementText {
	if s.clientCaps.Load()&myCapQueryAttributes != 0 {
		count, rest, ok := lengthEncodedInt(b)
		if !ok || count != 0 {
			return statementText{}
		}
		if _, rest, ok = lengthEncodedInt(rest); !ok {
			return statementText{}
		}
		b = rest
	}
	return statementText{sql: string(b), known: true}
}

// lengthEncodedInt decodes a MySQL length-encoded integer.
func lengthEncodedInt(b []byte) (v uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, nil, false
	}
	size := 0
	switch b[0] {
	case 0xfc:
		size = 2
	case 0xfd:
		size = 3
	case 0xfe:
		size = 8
	case 0xfb, 0xff:
		return 0, nil, false
	default:
		return uint64(b[0]), b[1:], true
	}
	if len(b) < 1+size {
		return 0, nil, false
	}
	for i := size; i >= 1; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, b[1+size:], true
}

// runQuery applies the query faults to a command and forwards it, or
// replies to it with an ERR packet.
func (s *mySQLSession) runQuery(msg []byte, stmt statementText) error {
	outcome := s.link.proxy.faults.Load().forQuery(stmt.sql, stmt.known)
	if err := s.applyDelay(outcome); err != nil {
		return err
	}
	if f := outcome.err; f != nil {
		protocol41 := s.clientCaps.Load()&myCapProtocol41 != 0
		return s.clientW.writeNow(mysqlErrPacket(msg[3]+1, f.spec.Code, f.spec.SQLState, f.spec.Message, protocol41))
	}
	_, err := s.serverW.Write(msg)
	return err
}

func (s *mySQLSession) applyDelay(outcome queryOutcome) error {
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

// mysqlErrPacket builds an ERR packet. The SQLSTATE marker and value are
// part of the packet only under protocol 4.1.
func mysqlErrPacket(seq byte, code uint16, sqlState, message string, protocol41 bool) []byte {
	payload := make([]byte, 0, 9+len(message))
	payload = append(payload, 0xff, byte(code), byte(code>>8))
	if protocol41 {
		payload = append(payload, '#')
		payload = append(payload, sqlState...)
	}
	payload = append(payload, message...)
	if len(payload) > myMaxPayload {
		payload = payload[:myMaxPayload]
	}
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

// downstream relays the server's packets to the client.
func (s *mySQLSession) downstream() error {
	for {
		if s.serverR.Buffered() == 0 {
			if err := s.clientW.Flush(); err != nil {
				return err
			}
		}
		header, err := s.serverR.Peek(4)
		if err != nil {
			return err
		}
		if s.opaque.Load() {
			return passRaw(s.clientW, s.link.writer(DirectionDownstream), s.serverR, s.link.server)
		}
		length, seq := packetHeader(header)
		total := 4 + length
		continued := s.downContinuation
		s.downContinuation = length == myMaxPayload

		switch {
		case !s.commandPhase.Load() && !continued && total <= maxInspectBytes:
			err = s.connectionPhasePacket(total)
		case seq == 1 && !continued:
			s.learnStatementID(total)
			err = copyN(s.clientW, s.serverR, total)
		default:
			err = copyN(s.clientW, s.serverR, total)
		}
		if err != nil {
			return err
		}
	}
}

// connectionPhasePacket forwards a server packet of the connection phase:
// the greeting, without TLS when the proxy refuses it, or an
// authentication packet, watching for the OK that starts the command phase.
func (s *mySQLSession) connectionPhasePacket(total int) error {
	msg, err := readMessage(s.serverR, total, &s.downScratch)
	if err != nil {
		return err
	}
	payload := msg[4:]
	switch {
	case !s.greetingSeen:
		s.greetingSeen = true
		if s.link.cfg.TLS == TLSRefuse {
			clearGreetingSSL(payload)
		}
	case len(payload) > 0 && payload[0] == myPacketOK:
		if s.clientCaps.Load()&myCapCompress != 0 {
			// Packets after this OK are compressed, which the proxy does
			// not read. Set before the client sees the OK.
			s.opaque.Store(true)
		}
		s.commandPhase.Store(true)
	}
	_, err = s.clientW.Write(msg)
	return err
}

// clearGreetingSSL removes the SSL capability from a protocol 10 greeting,
// so that the client continues in plain text or fails cleanly when it
// requires TLS.
func clearGreetingSSL(payload []byte) {
	if len(payload) == 0 || payload[0] != myGreetingV10 {
		return
	}
	_, rest, ok := cString(payload[1:]) // server version
	// connection id (4), auth-plugin-data part 1 (8), filler (1), then the
	// lower two bytes of the capability flags.
	if !ok || len(rest) < 15 {
		return
	}
	offset := len(payload) - len(rest) + 13
	caps := binary.LittleEndian.Uint16(payload[offset:])
	binary.LittleEndian.PutUint16(payload[offset:], caps&^uint16(myCapSSL))
}

// learnStatementID records the statement id from the server's response to
// a COM_STMT_PREPARE. The response's first packet, with sequence id 1, is
// 0x00 followed by the id.
func (s *mySQLSession) learnStatementID(total int) {
	s.mu.Lock()
	preparing := s.preparing
	s.preparing = nil
	s.mu.Unlock()
	if preparing == nil || total < 9 {
		return
	}
	b, err := s.serverR.Peek(9)
	if err != nil || b[4] != myPacketOK {
		return
	}
	id := binary.LittleEndian.Uint32(b[5:9])
	s.mu.Lock()
	s.statements[id] = *preparing
	s.mu.Unlock()
}
