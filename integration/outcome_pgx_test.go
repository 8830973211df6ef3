//go:build linux

package integration

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/outcome"
)

// TestOutcomeFromPgx: a program that uses pgx without database/sql asks
// with a *sql.DB made from its configuration (stdlib.OpenDB) or its pool
// (stdlib.OpenDBFromPool), as the package docs say; the answer is the
// same. The lost connection is built by the test around a live session's
// process id: TestOutcomeAfterLostConnection loses real ones.
func TestOutcomeFromPgx(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx := context.Background()
	busy, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer busy.Close(ctx)
	pid := busy.PgConn().PID()
	done := make(chan error, 1)
	go func() {
		_, err := busy.Exec(ctx, "SELECT pg_sleep(30)")
		done <- err
	}()
	defer func() {
		_ = busy.PgConn().CancelRequest(ctx)
		harness.Await(t, done, 10*time.Second, "the cancelled sleep")
	}()
	lost := &dialer.ConnLostError{Addr: "test", Cause: "built by the test", ServerPID: pid, Sent: time.Now()}

	cfg, err := driver.ParseConfig(pg.URL(""))
	require.NoError(t, err)
	poolCfg, err := driver.ParsePoolConfig(pg.URL(""))
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	require.NoError(t, err)
	defer pool.Close()
	for name, db := range map[string]*sql.DB{"config": stdlib.OpenDB(*cfg), "pool": stdlib.OpenDBFromPool(pool)} {
		t.Run(name, func(t *testing.T) {
			defer db.Close()
			deadline := time.Now().Add(10 * time.Second)
			for {
				st, err := outcome.Of(ctx, db, lost, "SELECT pg_sleep(30)", false)
				require.NoError(t, err)
				if st.State == outcome.Running {
					assert.Equal(t, pid, st.PID)
					assert.Equal(t, "SELECT pg_sleep(30)", st.Query)
					return
				}
				// The sleep may not have reached the server yet.
				require.True(t, time.Now().Before(deadline), "not running within 10 s: %s", st)
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
