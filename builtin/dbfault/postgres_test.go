package dbfault

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// postgresTranscript runs a fixed workload on conn and returns everything
// the client saw, so that two connections can be compared.
func postgresTranscript(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	ctx := testContext(t)
	var out strings.Builder
	record := func(step string, v ...any) { fmt.Fprintf(&out, "%s: %v\n", step, v) }
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	_, err := conn.Exec(ctx, `CREATE TEMP TABLE items (id int PRIMARY KEY, name text, data bytea, amount numeric)`)
	must("create table", err)
	for i := 1; i <= 20; i++ {
		_, err := conn.Exec(ctx, `INSERT INTO items VALUES ($1, $2, $3, $4)`, i, fmt.Sprintf("item-%02d", i), []byte{byte(i), 0, 255}, fmt.Sprintf("%d.25", i))
		must("insert", err)
	}

	rows := make([][]any, 0, 2000)
	for i := 100; i < 2100; i++ {
		rows = append(rows, []any{i, strings.Repeat("c", i%50), []byte(fmt.Sprint(i)), nil})
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name", "data", "amount"}, pgx.CopyFromRows(rows))
	must("copy from", err)
	record("copy from", copied)

	_, err = conn.Prepare(ctx, "page", `SELECT id, name, data, amount::text FROM items WHERE id > $1 ORDER BY id LIMIT 5`)
	must("prepare", err)
	for _, after := range []int{0, 15, 1000} {
		record("prepared", after, queryRows(t, conn, "page", after))
	}

	record("simple", queryRows(t, conn, `SELECT count(*), sum(id), max(name) FROM items`, pgx.QueryExecModeSimpleProtocol))

	var copyOut bytes.Buffer
	tag, err := conn.PgConn().CopyTo(ctx, &copyOut, `COPY (SELECT id, name FROM items WHERE id < 200 ORDER BY id) TO STDOUT`)
	must("copy to", err)
	record("copy to", tag.String(), copyOut.Len(), copyOut.String()[:200])

	var large string
	must("large value", conn.QueryRow(ctx, `SELECT repeat('x', 1000000) || 'end'`).Scan(&large))
	record("large", len(large), large[len(large)-4:])

	_, err = conn.Exec(ctx, `SELECT 1/0`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("division by zero: got %v, expected a PgError", err)
	}
	record("server error", pgErr.Code, pgErr.Message)

	results, err := conn.PgConn().Exec(ctx, `SELECT 1 AS a; SELECT 'two' AS b`).ReadAll()
	must("multi statement", err)
	for _, r := range results {
		record("multi", r.CommandTag.String(), r.Rows)
	}

	batch := &pgx.Batch{}
	batch.Queue(`SELECT $1::int * 2`, 21)
	batch.Queue(`UPDATE items SET name = 'renamed' WHERE id = $1`, 3)
	batch.Queue(`SELECT name FROM items WHERE id = 3`)
	br := conn.SendBatch(ctx, batch)
	var doubled int
	must("batch 1", br.QueryRow().Scan(&doubled))
	updated, err := br.Exec()
	must("batch 2", err)
	var renamed string
	must("batch 3", br.QueryRow().Scan(&renamed))
	must("batch close", br.Close())
	record("batch", doubled, updated.String(), renamed)
	return out.String()
}

// queryRows runs a query and returns its rows as slices of values.
func queryRows(t *testing.T, conn *pgx.Conn, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := conn.Query(testContext(t), sql, args...)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]any, error) { return row.Values() })
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return got
}

// binomialBounds returns mean ± sigmas standard deviations of the number of
// successes in n trials of probability p.
func binomialBounds(n int, p, sigmas float64) (low, high int) {
	mean := float64(n) * p
	spread := sigmas * math.Sqrt(float64(n)*p*(1-p))
	return int(math.Floor(mean - spread)), int(math.Ceil(mean + spread))
}

// insecureTLS accepts the test server's self-signed certificate.
func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true}
}

func TestPostgresTransparent(t *testing.T) {
	_, addr := postgresProxy(t, TLSRefuse)
	_, upstream := requirePostgres(t)

	direct := postgresTranscript(t, connectPostgres(t, upstream, nil))
	proxied := postgresTranscript(t, connectPostgres(t, addr, nil))
	if direct != proxied {
		t.Fatalf("results through the proxy differ from a direct connection\ndirect:\n%s\nproxied:\n%s", direct, proxied)
	}
}

func TestPostgresSlowQuery(t *testing.T) {
	const latency = 250 * time.Millisecond
	p, addr := postgresProxy(t, TLSRefuse)
	conn := connectPostgres(t, addr, nil)
	ctx := testContext(t)
	addFault(t, p, map[string]any{
		"proxy": "pg", "type": "slow_query", "latency": latency.String(), "jitter": "10ms",
		"match": `^SELECT 'slow'`, "duration": "1m",
	})

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			start := time.Now()
			if _, err := conn.Exec(ctx, `SELECT 'slow'`, mode); err != nil {
				t.Fatalf("slow query: %v", err)
			}
			if elapsed := time.Since(start); elapsed < latency-10*time.Millisecond {
				t.Errorf("matching query took %s, expected at least %s", elapsed, latency-10*time.Millisecond)
			}

			start = time.Now()
			if _, err := conn.Exec(ctx, `SELECT 'fast'`, mode); err != nil {
				t.Fatalf("fast query: %v", err)
			}
			if elapsed := time.Since(start); elapsed >= latency {
				t.Errorf("query that does not match took %s, expected no added latency", elapsed)
			}
		})
	}
}

func TestPostgresQueryError(t *testing.T) {
	p, addr := postgresProxy(t, TLSRefuse)
	conn := connectPostgres(t, addr, nil)
	ctx := testContext(t)
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE accounts (id int PRIMARY KEY, balance int)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO accounts VALUES (1, 100)`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	addFault(t, p, map[string]any{
		"proxy": "pg", "type": "query_error", "sqlstate": "40001",
		"message": "could not serialize access due to concurrent update",
		"match":   `^UPDATE accounts`, "duration": "1m",
	})

	expectInjected := func(t *testing.T, err error) {
		t.Helper()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Fatalf("got %v, expected a PgError", err)
		}
		if pgErr.Code != "40001" {
			t.Errorf("SQLSTATE %q, expected 40001", pgErr.Code)
		}
		if pgErr.Message != "could not serialize access due to concurrent update" {
			t.Errorf("message %q, expected the fault's message", pgErr.Message)
		}
	}
	expectUsable := func(t *testing.T) {
		t.Helper()
		var balance int
		if err := conn.QueryRow(ctx, `SELECT balance FROM accounts WHERE id = 1`).Scan(&balance); err != nil {
			t.Fatalf("connection unusable after the injected error: %v", err)
		}
		if balance != 100 {
			t.Errorf("balance %d, expected 100: the failed update must not have run", balance)
		}
	}

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			for range 2 {
				_, err := conn.Exec(ctx, `UPDATE accounts SET balance = balance - 10 WHERE id = $1`, mode, 1)
				expectInjected(t, err)
				expectUsable(t)
			}
		})
	}

	t.Run("transaction", func(t *testing.T) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		_, err = tx.Exec(ctx, `UPDATE accounts SET balance = 0 WHERE id = 1`)
		expectInjected(t, err)
		// As after a real error, the server aborted the transaction.
		_, err = tx.Exec(ctx, `SELECT 1`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "25P02" {
			t.Errorf("query after the injected error in a transaction: got %v, expected SQLSTATE 25P02", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatalf("rollback: %v", err)
		}
		expectUsable(t)
	})

	t.Run("batch", func(t *testing.T) {
		batch := &pgx.Batch{}
		batch.Queue(`SELECT 1`)
		batch.Queue(`UPDATE accounts SET balance = 1 WHERE id = 1`)
		err := conn.SendBatch(ctx, batch).Close()
		expectInjected(t, err)
		expectUsable(t)
	})

	t.Run("batch with an earlier real error", func(t *testing.T) {
		// The server skips the rest of the batch after the real error, so
		// the client sees that error and not the injected one.
		batch := &pgx.Batch{}
		batch.Queue(`SELECT 1/0`)
		batch.Queue(`UPDATE accounts SET balance = 1 WHERE id = 1`)
		err := conn.SendBatch(ctx, batch).Close()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22012" {
			t.Fatalf("batch error %v, expected the real division by zero, SQLSTATE 22012", err)
		}
		expectUsable(t)
		_, err = conn.Exec(ctx, `UPDATE accounts SET balance = 2 WHERE id = 1`)
		expectInjected(t, err)
	})
}

func TestPostgresConnectionTimeout(t *testing.T) {
	p, addr := postgresProxy(t, TLSRefuse)
	existing := connectPostgres(t, addr, nil)
	ctx := testContext(t)
	id := addFault(t, p, map[string]any{"proxy": "pg", "type": "connection_timeout", "duration": "1m"})

	_, err := tryConnectPostgres(t, addr, func(c *pgx.ConnConfig) { c.ConnectTimeout = 300 * time.Millisecond })
	if err == nil {
		t.Fatal("connect succeeded during a connection_timeout fault")
	}
	if !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect error %v, expected the driver's connect timeout", err)
	}
	if _, err := existing.Exec(ctx, `SELECT 1`); err != nil {
		t.Errorf("existing connection failed during connection_timeout: %v", err)
	}

	call(t, p, "", map[string]any{"operation": OpRemoveFault, "id": id})
	connectPostgres(t, addr, func(c *pgx.ConnConfig) { c.ConnectTimeout = 5 * time.Second })

	t.Run("delay", func(t *testing.T) {
		addFault(t, p, map[string]any{"proxy": "pg", "type": "connection_timeout", "delay": "300ms", "duration": "1m"})
		start := time.Now()
		connectPostgres(t, addr, func(c *pgx.ConnConfig) { c.ConnectTimeout = 10 * time.Second })
		if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
			t.Errorf("connect took %s, expected at least the 300ms delay", elapsed)
		}
	})
}

func TestPostgresConnectionReset(t *testing.T) {
	p, addr := postgresProxy(t, TLSRefuse)
	ctx := testContext(t)

	t.Run("existing", func(t *testing.T) {
		conn := connectPostgres(t, addr, nil)
		id := addFault(t, p, map[string]any{"proxy": "pg", "type": "connection_reset", "connections": "existing", "duration": "1m"})
		if _, err := conn.Exec(ctx, `SELECT 1`); err == nil {
			t.Fatal("query on a reset connection succeeded")
		}
		if !conn.IsClosed() {
			t.Error("pgx still considers the reset connection open")
		}
		// Only the connections that existed were reset.
		fresh := connectPostgres(t, addr, nil)
		if _, err := fresh.Exec(ctx, `SELECT 1`); err != nil {
			t.Errorf("new connection failed: %v", err)
		}
		call(t, p, "", map[string]any{"operation": OpRemoveFault, "id": id})
	})

	t.Run("new", func(t *testing.T) {
		id := addFault(t, p, map[string]any{"proxy": "pg", "type": "connection_reset", "connections": "new", "duration": "1m"})
		_, err := tryConnectPostgres(t, addr, nil)
		if err == nil {
			t.Fatal("connect succeeded during connection_reset of new connections")
		}
		if !containsAll(err.Error(), "reset") && !containsAll(err.Error(), "EOF") {
			t.Errorf("connect error %q, expected a reset connection", err)
		}
		call(t, p, "", map[string]any{"operation": OpRemoveFault, "id": id})
	})

	t.Run("after bytes", func(t *testing.T) {
		addFault(t, p, map[string]any{
			"proxy": "pg", "type": "connection_reset", "connections": "new",
			"after_bytes": 2_000_000, "direction": "downstream", "duration": "1m",
		})
		conn := connectPostgres(t, addr, nil)
		var small string
		if err := conn.QueryRow(ctx, `SELECT repeat('a', 1000)`).Scan(&small); err != nil {
			t.Fatalf("small query before the byte count: %v", err)
		}
		var large string
		err := conn.QueryRow(ctx, `SELECT repeat('b', 3000000)`).Scan(&large)
		if err == nil {
			t.Fatal("query that crosses after_bytes succeeded")
		}
	})
}

func TestPostgresFaultExpires(t *testing.T) {
	p, addr := postgresProxy(t, TLSRefuse)
	conn := connectPostgres(t, addr, nil)
	ctx := testContext(t)
	addFault(t, p, map[string]any{"proxy": "pg", "type": "query_error", "sqlstate": "57014", "duration": "300ms"})

	_, err := conn.Exec(ctx, `SELECT 1`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("query during the fault: got %v, expected SQLSTATE 57014", err)
	}
	waitForNoFaults(t, p, 5*time.Second)
	if _, err := conn.Exec(ctx, `SELECT 1`); err != nil {
		t.Fatalf("query after the fault expired: %v", err)
	}
}

func TestPostgresProbability(t *testing.T) {
	const (
		queries     = 400
		probability = 0.3
	)
	p, addr := postgresProxy(t, TLSRefuse)
	conn := connectPostgres(t, addr, nil)
	ctx := testContext(t)
	addFault(t, p, map[string]any{"proxy": "pg", "type": "query_error", "sqlstate": "40001", "probability": probability, "duration": "1m"})

	failed := 0
	for range queries {
		_, err := conn.Exec(ctx, `SELECT 1`)
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
		case errors.As(err, &pgErr) && pgErr.Code == "40001":
			failed++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	// Five standard deviations of the binomial distribution either side of
	// the mean: a correct proxy fails this about once in 1.7 million runs.
	low, high := binomialBounds(queries, probability, 5)
	if failed < low || failed > high {
		t.Errorf("%d of %d queries failed, expected %d to %d for probability %.2f", failed, queries, low, high, probability)
	}
}

func TestPostgresTLS(t *testing.T) {
	ctx := testContext(t)

	t.Run("refuse", func(t *testing.T) {
		p, addr := postgresProxy(t, TLSRefuse)
		_, err := tryConnectPostgres(t, addr, func(c *pgx.ConnConfig) {
			c.TLSConfig = insecureTLS()
		})
		if err == nil || !strings.Contains(err.Error(), "refused TLS") {
			t.Fatalf("sslmode=require through a refusing proxy: got %v, expected the server to refuse TLS", err)
		}
		// sslmode=prefer falls back to plain text, and faults apply.
		conn := connectPostgres(t, addr, func(c *pgx.ConnConfig) {
			c.TLSConfig = insecureTLS()
			c.Fallbacks = []*pgconn.FallbackConfig{{Host: c.Host, Port: c.Port}}
		})
		addFault(t, p, map[string]any{"proxy": "pg", "type": "query_error", "sqlstate": "57014", "duration": "1m"})
		_, err = conn.Exec(ctx, `SELECT 1`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
			t.Errorf("query on the fallback connection: got %v, expected SQLSTATE 57014", err)
		}
	})

	t.Run("passthrough", func(t *testing.T) {
		_, addr := postgresProxy(t, TLSPassthrough)
		conn := connectPostgres(t, addr, func(c *pgx.ConnConfig) { c.TLSConfig = insecureTLS() })
		var encrypted bool
		if err := conn.QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&encrypted); err != nil {
			t.Fatalf("query over TLS: %v", err)
		}
		if !encrypted {
			t.Error("the server reports the connection as unencrypted, expected TLS through the proxy")
		}
	})
}

func TestPostgresCancelRequest(t *testing.T) {
	_, addr := postgresProxy(t, TLSRefuse)
	conn := connectPostgres(t, addr, nil)

	// On a cancelled context pgx sends a CancelRequest on a new connection
	// to the same address, which the proxy forwards to the server.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := conn.Exec(ctx, `SELECT pg_sleep(20)`)
	if err == nil {
		t.Fatal("pg_sleep(20) returned without error, expected the cancelled query to fail")
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("cancelled query returned after %s, expected the server to stop it", elapsed)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code != "57014" {
		t.Errorf("cancelled query failed with SQLSTATE %s, expected 57014 (query_canceled)", pgErr.Code)
	}
}
