package dbfault

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPostgresDSN matches the server that .ci/databases.sh starts.
const defaultPostgresDSN = "postgres://mockforge:mockforge@127.0.0.1:55432/mockforge_test?sslmode=disable"

var (
	postgresOnce sync.Once
	postgresErr  error
)

func postgresDSN() string {
	if dsn := os.Getenv("MOCKFORGE_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return defaultPostgresDSN
}

// requirePostgres returns the parsed test DSN and the server's host:port,
// and fails the test with instructions when the server is unreachable.
func requirePostgres(t testing.TB) (*pgx.ConnConfig, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(postgresDSN())
	if err != nil {
		t.Fatalf("invalid MOCKFORGE_TEST_POSTGRES_DSN %q: %v", postgresDSN(), err)
	}
	postgresOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
		if err != nil {
			postgresErr = err
			return
		}
		postgresErr = conn.Close(ctx)
	})
	if postgresErr != nil {
		t.Fatalf("cannot connect to the test PostgreSQL server at %s:%d: %v\n"+
			"Start it with `sudo bash .ci/databases.sh`, or set MOCKFORGE_TEST_POSTGRES_DSN to a server you run.",
			cfg.Host, cfg.Port, postgresErr)
	}
	return cfg, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// postgresProxy starts a plugin with one postgres proxy named "pg" in front
// of the test server and returns the plugin and the proxy's address.
func postgresProxy(t testing.TB, tls TLSMode) (*Plugin, string) {
	t.Helper()
	_, upstream := requirePostgres(t)
	p := newTestPlugin(t)
	configure(t, p, ProxyConfig{Name: "pg", Upstream: upstream, Protocol: ProtocolPostgres, TLS: tls})
	return p, proxyAddress(t, p, "pg")
}

// connectPostgres connects to addr with the test DSN's credentials; edit
// may change the config first. The connection closes when the test ends.
func connectPostgres(t testing.TB, addr string, edit func(*pgx.ConnConfig)) *pgx.Conn {
	t.Helper()
	conn, err := tryConnectPostgres(t, addr, edit)
	if err != nil {
		t.Fatalf("connect to PostgreSQL through %s: %v", addr, err)
	}
	return conn
}

func tryConnectPostgres(t testing.TB, addr string, edit func(*pgx.ConnConfig)) (*pgx.Conn, error) {
	t.Helper()
	base, _ := requirePostgres(t)
	cfg := base.Copy()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	n, _ := strconv.Atoi(port)
	cfg.Host, cfg.Port = host, uint16(n)
	cfg.Fallbacks = nil
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if edit != nil {
		edit(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	})
	return conn, nil
}

// testContext returns a context that ends with the test or after a bound.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
