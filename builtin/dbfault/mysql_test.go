package dbfault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mysqlRows runs a query and returns its rows as strings.
func mysqlRows(t *testing.T, conn *sql.Conn, query string, args ...any) [][]string {
	t.Helper()
	rows, err := conn.QueryContext(testContext(t), query, args...)
	if err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("columns of %q: %v", query, err)
	}
	var out [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		dest := make([]any, len(cols))
		for i := range raw {
			dest[i] = &raw[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("scan %q: %v", query, err)
		}
		row := make([]string, len(raw))
		for i, b := range raw {
			row[i] = string(b)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows of %q: %v", query, err)
	}
	return out
}

// mysqlTranscript runs a fixed workload on conn and returns everything the
// client saw, so that two connections can be compared.
func mysqlTranscript(t *testing.T, conn *sql.Conn) string {
	t.Helper()
	ctx := testContext(t)
	var out strings.Builder
	record := func(step string, v ...any) { fmt.Fprintf(&out, "%s: %v\n", step, v) }
	exec := func(query string, args ...any) sql.Result {
		t.Helper()
		res, err := conn.ExecContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("exec %q: %v", query, err)
		}
		return res
	}

	exec(`CREATE TEMPORARY TABLE items (id INT PRIMARY KEY, name VARCHAR(64), data BLOB, amount DECIMAL(10,2))`)
	for i := 1; i <= 20; i++ {
		// With arguments the driver uses the binary protocol: prepare,
		// execute and close.
		exec(`INSERT INTO items VALUES (?, ?, ?, ?)`, i, fmt.Sprintf("item-%02d", i), []byte{byte(i), 0, 255}, fmt.Sprintf("%d.25", i))
	}
	res := exec(`UPDATE items SET name = CONCAT(name, '!') WHERE id > 15`)
	affected, _ := res.RowsAffected()
	record("update", affected)

	stmt, err := conn.PrepareContext(ctx, `SELECT id, name, HEX(data), amount FROM items WHERE id > ? ORDER BY id LIMIT 5`)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	for _, after := range []int{0, 15, 1000} {
		rows, err := stmt.QueryContext(ctx, after)
		if err != nil {
			t.Fatalf("query prepared: %v", err)
		}
		var got []string
		for rows.Next() {
			var id int
			var name, data, amount string
			if err := rows.Scan(&id, &name, &data, &amount); err != nil {
				t.Fatalf("scan prepared: %v", err)
			}
			got = append(got, fmt.Sprint(id, name, data, amount))
		}
		_ = rows.Close()
		record("prepared", after, got)
	}
	_ = stmt.Close()

	record("text", mysqlRows(t, conn, `SELECT COUNT(*), SUM(id), MAX(name) FROM items`))

	var large string
	if err := conn.QueryRowContext(ctx, `SELECT CONCAT(REPEAT('x', 2000000), 'end')`).Scan(&large); err != nil {
		t.Fatalf("large value: %v", err)
	}
	record("large", len(large), large[len(large)-4:])

	_, err = conn.ExecContext(ctx, `SELECT * FROM missing_table`)
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		t.Fatalf("missing table: got %v, expected a MySQLError", err)
	}
	record("server error", myErr.Number, string(myErr.SQLState[:]))
	record("after error", mysqlRows(t, conn, `SELECT 'still usable'`))
	return out.String()
}

func TestMySQLTransparent(t *testing.T) {
	_, addr := mysqlProxy(t)
	cfg := requireMySQL(t)

	direct := mysqlTranscript(t, mustMySQLConn(t, cfg.Addr, nil))
	proxied := mysqlTranscript(t, mustMySQLConn(t, addr, nil))
	if direct != proxied {
		t.Fatalf("results through the proxy differ from a direct connection\ndirect:\n%s\nproxied:\n%s", direct, proxied)
	}
}

func TestMySQLQueryError(t *testing.T) {
	p, addr := mysqlProxy(t)
	conn := mustMySQLConn(t, addr, nil)
	ctx := testContext(t)
	if _, err := conn.ExecContext(ctx, `CREATE TEMPORARY TABLE accounts (id INT PRIMARY KEY, balance INT)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO accounts VALUES (1, 100)`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	addFault(t, p, map[string]any{
		"proxy": "my", "type": "query_error", "code": 1213, "sqlstate": "40001",
		"message": "Deadlock found when trying to get lock; try restarting transaction",
		"match":   `^UPDATE accounts`, "duration": "1m",
	})

	expectInjected := func(t *testing.T, err error) {
		t.Helper()
		var myErr *mysql.MySQLError
		if !errors.As(err, &myErr) {
			t.Fatalf("got %v, expected a MySQLError", err)
		}
		if myErr.Number != 1213 {
			t.Errorf("error code %d, expected 1213", myErr.Number)
		}
		if string(myErr.SQLState[:]) != "40001" {
			t.Errorf("SQLSTATE %q, expected 40001", myErr.SQLState[:])
		}
		if !strings.HasPrefix(myErr.Message, "Deadlock found") {
			t.Errorf("message %q, expected the fault's message", myErr.Message)
		}
	}
	expectUsable := func(t *testing.T) {
		t.Helper()
		var balance int
		if err := conn.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = 1`).Scan(&balance); err != nil {
			t.Fatalf("connection unusable after the injected error: %v", err)
		}
		if balance != 100 {
			t.Errorf("balance %d, expected 100: the failed update must not have run", balance)
		}
	}

	t.Run("text protocol", func(t *testing.T) {
		for range 2 {
			_, err := conn.ExecContext(ctx, `UPDATE accounts SET balance = balance - 10 WHERE id = 1`)
			expectInjected(t, err)
			expectUsable(t)
		}
	})
	t.Run("prepared statement", func(t *testing.T) {
		stmt, err := conn.PrepareContext(ctx, `UPDATE accounts SET balance = balance - ? WHERE id = 1`)
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
		defer stmt.Close()
		for range 2 {
			_, err := stmt.ExecContext(ctx, 10)
			expectInjected(t, err)
			expectUsable(t)
		}
	})
}

func TestMySQLSlowQuery(t *testing.T) {
	const latency = 250 * time.Millisecond
	p, addr := mysqlProxy(t)
	conn := mustMySQLConn(t, addr, nil)
	ctx := testContext(t)
	addFault(t, p, map[string]any{
		"proxy": "my", "type": "slow_query", "latency": latency.String(),
		"match": `^SELECT 'slow'`, "duration": "1m",
	})

	for _, tc := range []struct {
		name string
		args []any
	}{
		{name: "text protocol"},
		{name: "prepared statement", args: []any{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suffix := ""
			if len(tc.args) > 0 {
				suffix = ", ?"
			}
			start := time.Now()
			if _, err := conn.ExecContext(ctx, `SELECT 'slow'`+suffix, tc.args...); err != nil {
				t.Fatalf("slow query: %v", err)
			}
			if elapsed := time.Since(start); elapsed < latency {
				t.Errorf("matching query took %s, expected at least %s", elapsed, latency)
			}
			start = time.Now()
			if _, err := conn.ExecContext(ctx, `SELECT 'fast'`+suffix, tc.args...); err != nil {
				t.Fatalf("fast query: %v", err)
			}
			if elapsed := time.Since(start); elapsed >= latency {
				t.Errorf("query that does not match took %s, expected no added latency", elapsed)
			}
		})
	}
}

func TestMySQLConnectionTimeout(t *testing.T) {
	p, addr := mysqlProxy(t)
	addFault(t, p, map[string]any{"proxy": "my", "type": "connection_timeout", "duration": "1m"})

	// The driver's timeout option bounds only the TCP dial, which the proxy
	// accepts; readTimeout bounds the wait for the server's greeting.
	const readTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := mysqlConn(t, addr, func(c *mysql.Config) {
		c.Timeout = readTimeout
		c.ReadTimeout = readTimeout
	})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("connect succeeded during a connection_timeout fault")
	}
	// After a read timeout the driver logs the i/o timeout and returns
	// ErrInvalidConn.
	if !errors.Is(err, mysql.ErrInvalidConn) {
		t.Errorf("connect error %v, expected %v after the read timeout", err, mysql.ErrInvalidConn)
	}
	if elapsed < readTimeout {
		t.Errorf("connect failed after %s, before the %s read timeout", elapsed, readTimeout)
	}

	call(t, p, "", map[string]any{"operation": OpReset})
	mustMySQLConn(t, addr, nil)
}

func TestMySQLConnectionReset(t *testing.T) {
	p, addr := mysqlProxy(t)
	conn := mustMySQLConn(t, addr, nil)
	ctx := testContext(t)
	addFault(t, p, map[string]any{"proxy": "my", "type": "connection_reset", "connections": "existing", "duration": "1m"})

	_, err := conn.ExecContext(ctx, `SELECT 1`)
	if err == nil {
		t.Fatal("query on a reset connection succeeded")
	}
	fresh := mustMySQLConn(t, addr, nil)
	if _, err := fresh.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Errorf("new connection failed: %v", err)
	}
}

func TestMySQLProbability(t *testing.T) {
	const (
		queries     = 400
		probability = 0.3
	)
	p, addr := mysqlProxy(t)
	conn := mustMySQLConn(t, addr, nil)
	ctx := testContext(t)
	addFault(t, p, map[string]any{"proxy": "my", "type": "query_error", "code": 1205, "probability": probability, "duration": "1m"})

	failed := 0
	for range queries {
		_, err := conn.ExecContext(ctx, `DO 1`)
		var myErr *mysql.MySQLError
		switch {
		case err == nil:
		case errors.As(err, &myErr) && myErr.Number == 1205:
			failed++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	low, high := binomialBounds(queries, probability, 5)
	if failed < low || failed > high {
		t.Errorf("%d of %d queries failed, expected %d to %d for probability %.2f", failed, queries, low, high, probability)
	}
}

func TestMySQLFaultExpires(t *testing.T) {
	p, addr := mysqlProxy(t)
	conn := mustMySQLConn(t, addr, nil)
	ctx := context.Background()
	addFault(t, p, map[string]any{"proxy": "my", "type": "query_error", "code": 1317, "sqlstate": "70100", "duration": "300ms"})

	_, err := conn.ExecContext(ctx, `DO 1`)
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) || myErr.Number != 1317 {
		t.Fatalf("query during the fault: got %v, expected error 1317", err)
	}
	waitForNoFaults(t, p, 5*time.Second)
	if _, err := conn.ExecContext(ctx, `DO 1`); err != nil {
		t.Fatalf("query after the fault expired: %v", err)
	}
}

func TestMySQLTLS(t *testing.T) {
	ctx := testContext(t)
	cipher := func(t *testing.T, conn *sql.Conn) string {
		t.Helper()
		var name, value string
		if err := conn.QueryRowContext(ctx, `SHOW SESSION STATUS LIKE 'Ssl_cipher'`).Scan(&name, &value); err != nil {
			t.Fatalf("query the session's cipher: %v", err)
		}
		return value
	}
	direct := mustMySQLConn(t, requireMySQL(t).Addr, func(c *mysql.Config) { c.TLSConfig = "skip-verify" })
	if cipher(t, direct) == "" {
		t.Fatal("the test server does not offer TLS; start it with `sudo bash .ci/databases.sh`, which turns TLS on")
	}

	t.Run("refuse", func(t *testing.T) {
		p, addr := mysqlProxyTLS(t, TLSRefuse)
		_, err := mysqlConn(t, addr, func(c *mysql.Config) { c.TLSConfig = "skip-verify" })
		if !errors.Is(err, mysql.ErrNoTLS) {
			t.Fatalf("tls=skip-verify through a refusing proxy: %v, expected %v", err, mysql.ErrNoTLS)
		}
		// tls=preferred continues in plain text, and faults apply.
		conn := mustMySQLConn(t, addr, func(c *mysql.Config) { c.TLSConfig = "preferred" })
		if got := cipher(t, conn); got != "" {
			t.Errorf("cipher %q through a refusing proxy, expected plain text", got)
		}
		addFault(t, p, map[string]any{"proxy": "my", "type": "query_error", "code": 1205, "duration": "1m"})
		_, err = conn.ExecContext(ctx, `DO 1`)
		var myErr *mysql.MySQLError
		if !errors.As(err, &myErr) || myErr.Number != 1205 {
			t.Errorf("query on the plain-text connection: %v, expected error 1205", err)
		}
	})

	t.Run("passthrough", func(t *testing.T) {
		_, addr := mysqlProxyTLS(t, TLSPassthrough)
		conn := mustMySQLConn(t, addr, func(c *mysql.Config) { c.TLSConfig = "skip-verify" })
		if cipher(t, conn) == "" {
			t.Error("the server reports no cipher, expected TLS through the proxy")
		}
	})
}
