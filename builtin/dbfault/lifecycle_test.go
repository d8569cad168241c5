package dbfault

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestReconfigureKeepsUnaffectedConnections(t *testing.T) {
	echoA := startEchoServer(t)
	echoB := startEchoServer(t)
	p := newTestPlugin(t)
	configure(t, p,
		ProxyConfig{Name: "a", Upstream: echoA.addr(), Protocol: ProtocolTCP},
		ProxyConfig{Name: "b", Upstream: echoA.addr(), Protocol: ProtocolTCP},
		ProxyConfig{Name: "c", Upstream: echoA.addr(), Protocol: ProtocolTCP},
	)
	connA := dial(t, proxyAddress(t, p, "a"))
	connB := dial(t, proxyAddress(t, p, "b"))
	addrB := proxyAddress(t, p, "b")
	echoRoundTrip(t, connA, []byte("a1"))
	echoRoundTrip(t, connB, []byte("b1"))
	bandwidth := addFault(t, p, map[string]any{"proxy": "a", "type": "bandwidth", "bytes_per_second": 1 << 20, "duration": "1m"})
	addFault(t, p, map[string]any{"proxy": "c", "type": "connection_timeout", "duration": "1m"})

	// a is unchanged, b gets a new upstream, c is removed and d is added.
	configure(t, p,
		ProxyConfig{Name: "a", Upstream: echoA.addr(), Protocol: ProtocolTCP},
		ProxyConfig{Name: "b", Upstream: echoB.addr(), Protocol: ProtocolTCP},
		ProxyConfig{Name: "d", Upstream: echoB.addr(), Protocol: ProtocolTCP},
	)

	if got := echoRoundTrip(t, connA, []byte("a2")); string(got) != "a2" {
		t.Errorf("connection through the unchanged proxy echoed %q, expected a2", got)
	}
	if err := connB.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	if _, err := connB.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection through the changed proxy: read returned %v, expected it to be closed", err)
	}
	if got := proxyAddress(t, p, "b"); got != addrB {
		t.Errorf("proxy b moved from %s to %s although its listen address did not change", addrB, got)
	}
	if got := echoRoundTrip(t, dial(t, addrB), []byte("b2")); string(got) != "b2" {
		t.Errorf("new connection through the changed proxy echoed %q", got)
	}

	names := []string{}
	for _, px := range listProxies(t, p) {
		names = append(names, px.Name)
	}
	if len(names) != 3 || names[0] != "a" || names[1] != "b" || names[2] != "d" {
		t.Errorf("proxies %v, expected [a b d]", names)
	}
	faults := listFaults(t, p, "")
	if len(faults) != 1 || faults[0].ID != bandwidth {
		t.Errorf("faults %+v, expected only %s: the removed proxy's fault goes with it", faults, bandwidth)
	}
}

func TestReconfigureMovesListener(t *testing.T) {
	echo := startEchoServer(t)
	p := newTestPlugin(t)
	configure(t, p, ProxyConfig{Name: "a", Upstream: echo.addr(), Protocol: ProtocolTCP})
	oldAddr := proxyAddress(t, p, "a")
	conn := dial(t, oldAddr)
	// A dial returns once the kernel has queued the connection. Closing the
	// old listener resets connections still in its queue, so a round trip
	// first makes sure that the proxy has accepted this one.
	echoRoundTrip(t, conn, []byte("first"))

	configure(t, p, ProxyConfig{Name: "a", Listen: "127.0.0.2:0", Upstream: echo.addr(), Protocol: ProtocolTCP})
	if got := echoRoundTrip(t, conn, []byte("kept")); string(got) != "kept" {
		t.Errorf("connection accepted on the old address echoed %q, expected kept", got)
	}
	newAddr := proxyAddress(t, p, "a")
	if newAddr == oldAddr {
		t.Fatalf("listen address stayed %s", oldAddr)
	}
	if c, err := net.DialTimeout("tcp", oldAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("old address %s still accepts connections", oldAddr)
	}
	echoRoundTrip(t, dial(t, newAddr), []byte("new"))

	configure(t, p, ProxyConfig{Name: "a", Listen: "127.0.0.2:0", Upstream: echo.addr(), Protocol: ProtocolTCP, Enabled: new(false)})
	if px := listProxies(t, p)[0]; px.Enabled || px.Address != "" || px.Connections != 0 {
		t.Errorf("disabled proxy listed as %+v, expected not listening and no connections", px)
	}
}

func TestCleanupStopsEverything(t *testing.T) {
	echo := startEchoServer(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	p := New(WithLogger(testLogger()))
	configure(t, p,
		ProxyConfig{Name: "a", Upstream: echo.addr(), Protocol: ProtocolTCP},
		ProxyConfig{Name: "b", Upstream: echo.addr(), Protocol: ProtocolPostgres},
	)
	addr := proxyAddress(t, p, "a")
	conn := dial(t, addr)
	echoRoundTrip(t, conn, []byte("x"))
	addFault(t, p, map[string]any{"proxy": "a", "type": "connection_timeout", "duration": "1h"})
	heldConn := dial(t, addr) // held by the fault until cleanup

	if err := p.Cleanup(context.Background()); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after cleanup", addr)
	}
	for _, c := range []net.Conn{conn, heldConn} {
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatalf("set deadline: %v", err)
		}
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("connection still open after cleanup: read returned %v", err)
		}
		c.Close()
	}
	if got := listFaults(t, p, ""); len(got) != 0 {
		t.Errorf("faults after cleanup: %+v", got)
	}
	if err := p.Cleanup(context.Background()); err != nil {
		t.Errorf("second cleanup: %v", err)
	}
}

func TestReconfigureToTCPDropsQueryFaults(t *testing.T) {
	p := newTestPlugin(t)
	configure(t, p, ProxyConfig{Name: "db", Upstream: "127.0.0.1:9", Protocol: ProtocolPostgres})
	addFault(t, p, map[string]any{"proxy": "db", "type": "slow_query", "latency": "1s", "duration": "1m"})
	timeoutFault := addFault(t, p, map[string]any{"proxy": "db", "type": "connection_timeout", "duration": "1m"})

	configure(t, p, ProxyConfig{Name: "db", Upstream: "127.0.0.1:9", Protocol: ProtocolTCP})
	faults := listFaults(t, p, "")
	if len(faults) != 1 || faults[0].ID != timeoutFault {
		t.Errorf("faults %+v, expected only %s: a tcp proxy cannot apply slow_query", faults, timeoutFault)
	}
}
