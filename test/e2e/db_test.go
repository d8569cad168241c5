package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresDSN is the test server that .ci/databases.sh starts.
func postgresDSN() string {
	if dsn := os.Getenv("MOCKFORGE_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://mockforge:mockforge@127.0.0.1:55432/mockforge_test?sslmode=disable"
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestDBFaultThroughCLI(t *testing.T) {
	cfg, err := pgx.ParseConfig(postgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	direct, err := pgx.ConnectConfig(ctx, cfg)
	cancel()
	if err != nil {
		t.Fatalf("PostgreSQL at %s:%d is not reachable (%v); start it with `sudo bash .ci/databases.sh`", cfg.Host, cfg.Port, err)
	}
	direct.Close(context.Background())

	d := startDaemon(t)
	d.waitState("builtin:dbfault", running, 20*time.Second)
	listen := freeLoopbackAddr(t)
	config := fmt.Sprintf(`{"proxies":[{"name":"pg","listen":%q,"upstream":"%s:%d","protocol":"postgres"}]}`, listen, cfg.Host, cfg.Port)
	if _, errOut, code := d.cli(strings.NewReader(config), "plugins", "configure", "db-fault-injector", "--file", "-"); code != 0 {
		t.Fatalf("configure proxies: exit %d: %s", code, errOut)
	}
	out, errOut, code := d.cli(nil, "db", "proxy", "list")
	if code != 0 || !strings.Contains(out, "pg") {
		t.Fatalf("proxy list: exit %d, out %q, err %q", code, out, errOut)
	}

	host, port, _ := net.SplitHostPort(listen)
	viaProxy := cfg.Copy()
	viaProxy.Host = host
	fmt.Sscan(port, &viaProxy.Port)
	conn, err := pgx.ConnectConfig(context.Background(), viaProxy)
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	defer conn.Close(context.Background())
	query := func() (time.Duration, error) {
		start := time.Now()
		var one int
		err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one)
		return time.Since(start), err
	}
	if _, err := query(); err != nil {
		t.Fatalf("query through the transparent proxy: %v", err)
	}

	if _, errOut, code := d.cli(nil, "db", "fault", "add", "pg", "slow_query", "--latency", "300ms", "--match", "^SELECT", "--duration", "1m"); code != 0 {
		t.Fatalf("fault add: exit %d: %s", code, errOut)
	}
	elapsed, err := query()
	if err != nil {
		t.Fatal(err)
	}
	if elapsed < 300*time.Millisecond {
		t.Errorf("query took %s with a 300ms slow_query fault", elapsed)
	}
	out, _, _ = d.cli(nil, "db", "fault", "list")
	if !strings.Contains(out, "slow_query") {
		t.Errorf("fault list does not show the fault:\n%s", out)
	}

	if _, errOut, code := d.cli(nil, "db", "fault", "reset"); code != 0 {
		t.Fatalf("fault reset: exit %d: %s", code, errOut)
	}
	if elapsed, err := query(); err != nil || elapsed >= 300*time.Millisecond {
		t.Errorf("after reset: query took %s, err %v", elapsed, err)
	}

	_, errOut, code = d.cli(nil, "db", "fault", "add", "nope", "slow_query", "--latency", "1s", "--duration", "1m")
	if code == 0 || !strings.Contains(errOut, "nope") {
		t.Errorf("unknown proxy: exit %d, stderr %q; want a rejection naming it", code, errOut)
	}
	_, errOut, code = d.cli(nil, "db", "fault", "add", "pg", "slow_query", "--latency", "1s", "--probability", "2", "--duration", "1m")
	if code == 0 || !strings.Contains(errOut, "probability") {
		t.Errorf("probability 2: exit %d, stderr %q; want a rejection naming probability", code, errOut)
	}
}
