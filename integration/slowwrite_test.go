//go:build linux

package integration

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
)

// TestLostAfterSlowWrite: a statement whose write took longer than 15 ms
// (a long text over a slow link) still fails with a lost connection, not
// with pgx's "conn closed". pgx starts a background reader when a write
// is slow; it stays blocked in a read through the silent statement and
// drops the first error it reads if that is a timeout
// (pgconn/internal/bgreader), and pgx's simple protocol, which
// database/sql's Exec without arguments uses, ignores the next one
// (MultiResultReader.NextResult) and then reports "conn closed", which
// pgx's database/sql adapter calls safe to retry: on a *sql.DB,
// database/sql would run the statement again on another connection. The
// client's link is held to 4 Mbit/s while the statement is written.
func TestLostAfterSlowWrite(t *testing.T) {
	s := newSetup(t)
	db, conn := s.open(t, driver.Name, s.pg.URL(fastKA.params()))
	port := localPort(t, conn)
	var pid int
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid))

	_, err := s.fw.Client.Run("tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "4mbit", "burst", "16kb", "latency", "5s")
	require.NoError(t, err, "tc (iproute2) with the tbf queueing discipline")
	limited := true
	unlimit := func() {
		if limited {
			_, err := s.fw.Client.Run("tc", "qdisc", "del", "dev", "eth0", "root")
			assert.NoError(t, err)
			limited = false
		}
	}
	defer unlimit()

	const sleep = 15 * time.Second
	// 256 KiB at 4 Mbit/s: about half a second of writing.
	query := fmt.Sprintf("SELECT pg_sleep(%g) -- %s", sleep.Seconds(), strings.Repeat("x", 256<<10))
	bound := fastKA.d(fastKA.idle+fastKA.interval*fastKA.count) + 5*time.Second + sleep
	ch := runFor(conn, bound, query)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		s.inClient(t, func() error {
			return db.QueryRowContext(context.Background(),
				"SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'", pid).Scan(&n)
		})
		if n == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the statement did not start within 10 s")
		time.Sleep(20 * time.Millisecond)
	}
	unlimit()
	awaitAcked(t, s.fw.Client)
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	require.Contains(t, stacks, "bgreader.(*BGReader).bgRead", "pgx's background reader is not reading: the write was not slow, and the test shows nothing")

	require.NoError(t, s.fw.CutPort(port))
	defer func() { assert.NoError(t, s.fw.Restore()) }()
	r := awaitResult(t, ch, bound+ctxGrace, query[:30])
	require.ErrorIs(t, r.err, dialer.ErrConnectionLost)
	var lost *dialer.ConnLostError
	require.ErrorAs(t, r.err, &lost)
	assert.EqualValues(t, pid, lost.ServerPID)
	assert.Less(t, r.elapsed, sleep, "the error came while the statement ran")
}
