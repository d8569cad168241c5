package dbfault

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// defaultMySQLDSN matches the MariaDB server that .ci/databases.sh starts.
const defaultMySQLDSN = "mockforge:mockforge@tcp(127.0.0.1:53306)/mockforge_test"

var (
	mysqlOnce sync.Once
	mysqlErr  error
)

func mysqlDSN() string {
	if dsn := os.Getenv("MOCKFORGE_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return defaultMySQLDSN
}

// requireMySQL returns the parsed test DSN and fails the test with
// instructions when the server is unreachable.
func requireMySQL(t testing.TB) *mysql.Config {
	t.Helper()
	cfg, err := mysql.ParseDSN(mysqlDSN())
	if err != nil {
		t.Fatalf("invalid MOCKFORGE_TEST_MYSQL_DSN %q: %v", mysqlDSN(), err)
	}
	mysqlOnce.Do(func() {
		db := openMySQL(cfg.Clone())
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		mysqlErr = db.PingContext(ctx)
	})
	if mysqlErr != nil {
		t.Fatalf("cannot connect to the test MySQL server at %s: %v\n"+
			"Start it with `sudo bash .ci/databases.sh`, or set MOCKFORGE_TEST_MYSQL_DSN to a server you run.",
			cfg.Addr, mysqlErr)
	}
	return cfg
}

func openMySQL(cfg *mysql.Config) *sql.DB {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		panic(err) // only for configs that ParseDSN accepted
	}
	return sql.OpenDB(connector)
}

// mysqlProxy starts a plugin with one mysql proxy named "my" in front of
// the test server and returns the plugin and the proxy's address.
func mysqlProxy(t testing.TB) (*Plugin, string) {
	t.Helper()
	return mysqlProxyTLS(t, TLSRefuse)
}

// mysqlProxyTLS is mysqlProxy with the given TLS mode.
func mysqlProxyTLS(t testing.TB, tls TLSMode) (*Plugin, string) {
	t.Helper()
	cfg := requireMySQL(t)
	p := newTestPlugin(t)
	configure(t, p, ProxyConfig{Name: "my", Upstream: cfg.Addr, Protocol: ProtocolMySQL, TLS: tls})
	return p, proxyAddress(t, p, "my")
}

// mysqlConn opens one connection to addr with the test DSN's credentials;
// edit may change the config first. It closes when the test ends.
func mysqlConn(t testing.TB, addr string, edit func(*mysql.Config)) (*sql.Conn, error) {
	t.Helper()
	cfg := requireMySQL(t).Clone()
	cfg.Addr = addr
	if edit != nil {
		edit(cfg)
	}
	db := openMySQL(cfg)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, nil
}

func mustMySQLConn(t testing.TB, addr string, edit func(*mysql.Config)) *sql.Conn {
	t.Helper()
	conn, err := mysqlConn(t, addr, edit)
	if err != nil {
		t.Fatalf("connect to MySQL through %s: %v", addr, err)
	}
	return conn
}
