//go:build linux

package integration

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
)

// TestReconnectWithLostConfig: after a lost connection, a program that
// connects again with the lost connection's own configuration
// (pgx.Conn.Config, a copy that carries the driver's guard against pgx's
// cancel request, driver/cancel.go) gets a connection, whether the loss
// came to a statement (pgx then closes the connection itself, and tries
// to send its cancel request) or to a LISTEN session waiting for a
// notification (the program closes it). That the cancel request is
// refused, TestCLIExecThroughFirewall shows: here pgx would dial it on a
// goroutine outside the client namespace, which has no route.
func TestReconnectWithLostConfig(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	cfg, err := driver.ParseConfig(s.pg.URL(fastKA.params()))
	require.NoError(t, err)
	connect := func(c *pgx.ConnConfig) *pgx.Conn {
		t.Helper()
		var conn *pgx.Conn
		s.inClient(t, func() error {
			var err error
			conn, err = pgx.ConnectConfig(ctx, c)
			return err
		})
		return conn
	}
	stmt, listener := connect(cfg), connect(cfg)
	defer stmt.Close(ctx)
	defer listener.Close(ctx)
	_, err = listener.Exec(ctx, "LISTEN rska")
	require.NoError(t, err)
	dead := fastKA.d(fastKA.idle + fastKA.interval*fastKA.count)
	bound := dead + 5*time.Second

	stmtErr := make(chan error, 1)
	go func() {
		_, err := stmt.Exec(ctx, "SELECT pg_sleep(20)") // outlasts the test
		stmtErr <- err
	}()
	waitErr := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, bound)
		defer cancel()
		waitErr <- listener.PgConn().WaitForNotification(wctx)
	}()
	pid := stmt.PgConn().PID()
	for deadline := time.Now().Add(10 * time.Second); !active(t, s, pid); time.Sleep(20 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the statement did not start within 10 s")
	}
	awaitAcked(t, s.fw.Client)
	for _, c := range []*pgx.Conn{stmt, listener} {
		require.NoError(t, s.fw.CutPort(c.PgConn().Conn().LocalAddr().(*net.TCPAddr).Port))
	}
	defer func() { assert.NoError(t, s.fw.Restore()) }()

	for name, ch := range map[string]chan error{"statement": stmtErr, "LISTEN": waitErr} {
		select {
		case err := <-ch:
			require.ErrorIs(t, err, dialer.ErrConnectionLost, name)
		case <-time.After(bound + ctxGrace):
			t.Fatalf("%s: no error within %s of the cut", name, bound+ctxGrace)
		}
	}
	listener.Close(ctx)
	for name, c := range map[string]*pgx.Conn{"statement": stmt, "LISTEN": listener} {
		again := connect(c.Config())
		var one int
		assert.NoError(t, again.QueryRow(ctx, "SELECT 1").Scan(&one), name)
		again.Close(ctx)
	}
}

// active reports whether the server process pid runs a statement.
func active(t *testing.T, s *setup, pid uint32) bool {
	t.Helper()
	return selectCount(t, s, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", int64(pid)) == 1
}

// selectCount runs query, a SELECT count(*), on a new connection to s's server.
func selectCount(t *testing.T, s *setup, query string, args ...any) int {
	t.Helper()
	var n int
	s.inClient(t, func() error {
		conn, err := pgx.Connect(context.Background(), s.pg.URL(""))
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		return conn.QueryRow(context.Background(), query, args...).Scan(&n)
	})
	return n
}
