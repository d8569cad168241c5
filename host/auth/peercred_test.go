package auth_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mockforge/mockforged/host/auth"
)

func TestReadPeerCredentials(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "p.sock")
	lis, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := lis.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- conn
	}()
	client, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer server.Close()

	for side, conn := range map[string]net.Conn{"server": server, "client": client} {
		info, err := auth.ReadPeerCredentials(conn)
		if err != nil {
			t.Fatalf("%s side: %v", side, err)
		}
		if info.UID != uint32(os.Getuid()) || info.GID != uint32(os.Getgid()) || info.PID != int32(os.Getpid()) {
			t.Errorf("%s side: peer = uid %d gid %d pid %d, want uid %d gid %d pid %d", side,
				info.UID, info.GID, info.PID, os.Getuid(), os.Getgid(), os.Getpid())
		}
		if info.AuthType() != "peercred" {
			t.Errorf("AuthType = %q", info.AuthType())
		}
	}
}

func TestReadPeerCredentialsRejectsTCP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		if conn, err := lis.Accept(); err == nil {
			_ = conn.Close()
		}
	}()
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = auth.ReadPeerCredentials(conn)
	if err == nil || !strings.Contains(err.Error(), "only unix socket") {
		t.Errorf("error = %v, want one saying only unix sockets carry credentials", err)
	}
}
