package auth

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// PeerInfo is the identity of the process at the other end of a unix
// socket, as the kernel reports it with SO_PEERCRED. It is the
// credentials.AuthInfo of connections made with TransportCredentials.
type PeerInfo struct {
	credentials.CommonAuthInfo
	// UID and GID are the peer's effective user and group IDs when it
	// connected (or, on the client side, when the server called listen).
	UID uint32
	GID uint32
	// PID is the peer's process ID.
	PID int32
}

// AuthType returns "peercred".
func (PeerInfo) AuthType() string { return "peercred" }

// PeerFrom returns the PeerInfo of the connection that ctx belongs to. ok is
// false when the server does not use TransportCredentials.
func PeerFrom(ctx context.Context) (info PeerInfo, ok bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return PeerInfo{}, false
	}
	info, ok = p.AuthInfo.(PeerInfo)
	return info, ok
}

// ReadPeerCredentials reads the peer's credentials of a unix socket
// connection with SO_PEERCRED. Other connections fail.
func ReadPeerCredentials(conn net.Conn) (PeerInfo, error) {
	if network := conn.LocalAddr().Network(); network != "unix" {
		return PeerInfo{}, fmt.Errorf("read peer credentials: the connection is %s, and only unix socket connections carry them", network)
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return PeerInfo{}, fmt.Errorf("read peer credentials: %T gives no access to its socket", conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return PeerInfo{}, fmt.Errorf("read peer credentials: %w", err)
	}
	var (
		cred    *unix.Ucred
		credErr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return PeerInfo{}, fmt.Errorf("read peer credentials: %w", err)
	}
	if credErr != nil {
		return PeerInfo{}, fmt.Errorf("read peer credentials: getsockopt SO_PEERCRED: %w", credErr)
	}
	return PeerInfo{
		// The traffic never leaves the host and other users cannot read a
		// unix socket's data, as with grpc's local credentials.
		CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
		UID:            cred.Uid,
		GID:            cred.Gid,
		PID:            cred.Pid,
	}, nil
}

// peerCredentials reads SO_PEERCRED during the handshake and performs no
// encryption, which a unix socket does not need.
type peerCredentials struct{}

// TransportCredentials returns gRPC transport credentials for unix sockets
// that put the peer's PeerInfo in the connection's AuthInfo, read it with
// PeerFrom. A connection that is not a unix socket fails its handshake. Use
// them on the server, and on the client when it sends a BearerToken.
func TransportCredentials() credentials.TransportCredentials {
	return peerCredentials{}
}

var _ credentials.TransportCredentials = peerCredentials{}

func (peerCredentials) ClientHandshake(_ context.Context, _ string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	info, err := ReadPeerCredentials(conn)
	if err != nil {
		return nil, nil, err
	}
	return conn, info, nil
}

func (peerCredentials) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	info, err := ReadPeerCredentials(conn)
	if err != nil {
		return nil, nil, err
	}
	return conn, info, nil
}

func (peerCredentials) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

func (peerCredentials) Clone() credentials.TransportCredentials { return peerCredentials{} }

func (peerCredentials) OverrideServerName(string) error { return nil }
