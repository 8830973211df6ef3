//go:build linux

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/settings"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/dsnparse"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestPQCancelUsesTheDialer: lib/pq cancels a statement whose context ends
// with a cancel request; it is dialed through redshift-ka. The statement is
// watched from a database of its own, so the only dial after the first is
// the cancel request's.
func TestPQCancelUsesTheDialer(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	_, conn, logs := openLogged(t, rkpq.Name, pg.URL("KeepAlivesIdle=21"))
	require.Len(t, logs.lines(), 1)
	_, watch := open(t, driver.Name, pg.URL(""))
	running := func() int {
		var n int
		require.NoError(t, watch.QueryRowContext(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'").Scan(&n))
		return n
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(ctx, "SELECT pg_sleep(30)")
		done <- err
	}()
	waitFor(t, func() bool { return running() == 1 })
	before := len(logs.lines())
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the statement did not end within 10 s of its context")
	}
	require.Error(t, err)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		assert.Equal(t, pq.ErrorCode("57014"), pqErr.Code) // query_canceled
	} else {
		assert.ErrorIs(t, err, context.Canceled)
	}
	// The server no longer runs it: the cancel request arrived.
	waitFor(t, func() bool { return running() == 0 })
	lines := logs.lines()
	require.Len(t, lines, before+1, "the cancel request was dialed by redshift-ka: %v", lines)
	for _, l := range lines {
		assert.Contains(t, l, "keepalive=on, idle 21s")
		harness.NoLeak(t, pg, "a log line", l)
	}
}

// TestPgxPool: every pooled connection's socket carries the DSN's settings;
// pgxpool's own keys still work.
func TestPgxPool(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			extra := [][2]string{{"pool_max_conns", "4"}, {"KeepAlivesIdle", "55"}, {"keepalives_count", "4"}, {"application_name", "pooled"}}
			dsn := f.dsn(pg, extra)
			cfg, err := driver.ParsePoolConfig(dsn)
			require.NoError(t, err)
			if f.name == "jdbc" {
				// The JDBC driver has no pool keys; its URL's unknown
				// keys are dropped, pool_max_conns among them.
				d, err := dsnparse.Parse(dsn)
				require.NoError(t, err)
				assert.Contains(t, d.Config.Ignored, dsnparse.IgnoredKey{Key: "pool_max_conns", Driver: "none",
					Does: "unknown to Amazon's JDBC driver, which ignores such keys; a JDBC URL hands on only libpq's"})
				cfg.MaxConns = 4
			}
			assert.EqualValues(t, 4, cfg.MaxConns)
			// Bounded: pgxpool's Close waits for connects in progress.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			defer pool.Close()

			// Hold four connections at once, so the pool dials four sockets.
			conns := make([]*pgxpool.Conn, 4)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					conns[i], errs[i] = pool.Acquire(ctx)
				}()
			}
			wg.Wait()
			pids := map[uint32]bool{}
			for i, c := range conns {
				require.NoError(t, errs[i])
				r, err := settings.ReadPgx(c.Conn().PgConn())
				require.NoError(t, err)
				assert.Equal(t, 55*time.Second, r.Idle)
				assert.Equal(t, 4, r.Count)
				assert.Equal(t, r.OS.Interval, r.Interval)
				var app string
				require.NoError(t, c.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app))
				assert.Equal(t, "pooled", app)
				pids[c.Conn().PgConn().PID()] = true
			}
			assert.Len(t, pids, 4, "four distinct server sessions")
			for _, c := range conns {
				c.Release()
			}
		})
	}
}

// TestPgxConnect: a plain pgx connection from ParseConfig.
func TestPgxConnect(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	cfg, err := driver.ParseConfig(pg.KeyValue("tcp_keepalive_interval=12 tcp_user_timeout=30000"))
	require.NoError(t, err)
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	r, err := settings.ReadPgx(conn.PgConn())
	require.NoError(t, err)
	assert.Equal(t, 12*time.Second, r.Interval)
	assert.Equal(t, 30*time.Second, r.UserTimeout)
	assert.Equal(t, "DSN key tcp_keepalive_interval", r.IntervalFrom.String())
	var one int
	require.NoError(t, conn.QueryRow(ctx, "SELECT 1").Scan(&one))
}

// TestODBCDataSource: DSN=name reads an odbc.ini data source, over both
// backends; the settings report lists the ODBC keys ignored, and whose.
func TestODBCDataSource(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ini := filepath.Join(t.TempDir(), "odbc.ini")
	require.NoError(t, os.WriteFile(ini, []byte(fmt.Sprintf(`[Local Warehouse]
Driver = /opt/amazon/redshiftodbc/lib/64/libamazonredshiftodbc64.so
Server = %s
Port = %d
Database = %s
UID = %s
PWD = %s
SSLMode = disable
KeepAlivesIdle = 200
KeepAliveInterval = 20
BoolsAsChar = 0
`, pg.Host, pg.Port, pg.Database, pg.User, pg.Password)), 0o600))
	t.Setenv("ODBCINI", ini)
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			_, conn := open(t, b, "DSN={Local Warehouse};KeepAlivesCount=4;Application_Name=from-ini")
			r := reportOf(t, conn)
			assert.Equal(t, 200*time.Second, r.Idle)
			assert.Equal(t, 20*time.Second, r.Interval)
			assert.Equal(t, 4, r.Count)
			assert.Equal(t, []dsnparse.IgnoredKey{
				{Key: "Driver", Driver: "ODBC", Does: "read by the ODBC driver manager or Amazon's ODBC driver only"},
				{Key: "BoolsAsChar", Driver: "ODBC", Does: "read by the ODBC driver manager or Amazon's ODBC driver only"}}, r.Config.Ignored)
			assert.Equal(t, "Local Warehouse in "+ini, r.Config.DataSource)
			var app string
			require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT current_setting('application_name')").Scan(&app))
			assert.Equal(t, "from-ini", app)
		})
	}
	_, err := sql.Open(driver.Name, "DSN=Nowhere;PWD="+harness.ODBCQuote(pg.Password))
	require.ErrorIs(t, err, dsnparse.ErrDataSource)
	harness.NoLeak(t, pg, "the error", err.Error())
}
