package dbfault

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/sdk"
)

// testLogger logs warnings and errors to stderr, where a failing test
// shows them.
func testLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: PluginID, Output: os.Stderr, Level: hclog.Warn})
}

// newTestPlugin returns a plugin that is cleaned up when the test ends.
func newTestPlugin(t testing.TB) *Plugin {
	t.Helper()
	p := New(WithLogger(testLogger()))
	t.Cleanup(func() {
		if err := p.Cleanup(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return p
}

// configure applies a config made of proxies.
func configure(t testing.TB, p *Plugin, proxies ...ProxyConfig) {
	t.Helper()
	raw, err := json.Marshal(Config{Proxies: proxies})
	if err != nil {
		t.Fatalf("marshal config: %v", err)
	}
	if err := p.Initialize(context.Background(), raw); err != nil {
		t.Fatalf("initialize with %s: %v", raw, err)
	}
}

// call runs one operation for tenant and returns the result's data.
func call(t testing.TB, p *Plugin, tenant string, params map[string]any) map[string]json.RawMessage {
	t.Helper()
	res, err := callRaw(p, tenant, nil, params)
	if err != nil {
		t.Fatalf("execute %v: %v", params, err)
	}
	if !res.Success {
		t.Fatalf("execute %v: not successful: %s", params, res.Message)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatalf("execute %v: data %s: %v", params, res.Data, err)
	}
	return data
}

func callRaw(p *Plugin, tenant string, metadata map[string]string, params map[string]any) (*sdk.ExecuteResult, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return p.Execute(context.Background(), &sdk.ExecuteRequest{TenantID: tenant, Parameters: raw, Metadata: metadata})
}

// callFails runs an operation that must fail and returns its error detail.
func callFails(t testing.TB, p *Plugin, tenant string, metadata map[string]string, params map[string]any) *sdk.ErrorDetail {
	t.Helper()
	res, err := callRaw(p, tenant, metadata, params)
	if err == nil {
		t.Fatalf("execute %v: succeeded with %q, expected an error", params, res.Message)
	}
	var detail *sdk.ErrorDetail
	if !errors.As(err, &detail) {
		t.Fatalf("execute %v: error %v is not an *sdk.ErrorDetail", params, err)
	}
	return detail
}

// addFault adds a fault and returns its id.
func addFault(t testing.TB, p *Plugin, params map[string]any) string {
	t.Helper()
	params["operation"] = OpAddFault
	data := call(t, p, "", params)
	var f FaultInfo
	if err := json.Unmarshal(data["fault"], &f); err != nil {
		t.Fatalf("decode fault: %v", err)
	}
	return f.ID
}

func listFaults(t testing.TB, p *Plugin, tenant string) []FaultInfo {
	t.Helper()
	data := call(t, p, tenant, map[string]any{"operation": OpListFaults})
	var faults []FaultInfo
	if err := json.Unmarshal(data["faults"], &faults); err != nil {
		t.Fatalf("decode faults: %v", err)
	}
	return faults
}

func listProxies(t testing.TB, p *Plugin) []ProxyInfo {
	t.Helper()
	data := call(t, p, "", map[string]any{"operation": OpListProxies})
	var proxies []ProxyInfo
	if err := json.Unmarshal(data["proxies"], &proxies); err != nil {
		t.Fatalf("decode proxies: %v", err)
	}
	return proxies
}

// proxyAddress returns the bound address of the named proxy.
func proxyAddress(t testing.TB, p *Plugin, name string) string {
	t.Helper()
	for _, px := range listProxies(t, p) {
		if px.Name == name {
			if px.Address == "" {
				t.Fatalf("proxy %q is not listening", name)
			}
			return px.Address
		}
	}
	t.Fatalf("proxy %q not listed", name)
	return ""
}

// waitForNoFaults polls list_faults until it is empty or the timeout ends.
func waitForNoFaults(t testing.TB, p *Plugin, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if len(listFaults(t, p, "")) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("faults still active after %s: %+v", timeout, listFaults(t, p, ""))
}

// echoServer is a TCP server on loopback that writes back what it reads.
type echoServer struct {
	listener net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startEchoServer(t testing.TB) *echoServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &echoServer{listener: l}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						if tc, ok := c.(*net.TCPConn); ok {
							_ = tc.CloseWrite()
						}
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *echoServer) addr() string { return s.listener.Addr().String() }

// tcpProxy starts a plugin with one tcp proxy named "echo" in front of an
// echo server and returns the plugin and the proxy's address.
func tcpProxy(t testing.TB) (*Plugin, string) {
	t.Helper()
	echo := startEchoServer(t)
	p := newTestPlugin(t)
	configure(t, p, ProxyConfig{Name: "echo", Upstream: echo.addr(), Protocol: ProtocolTCP})
	return p, proxyAddress(t, p, "echo")
}

// dial connects to addr with a bounded timeout and closes the connection
// when the test ends.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// containsAll reports whether s contains every one of parts.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
