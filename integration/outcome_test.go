//go:build linux

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/outcome"
)

// outcomeSleep outlasts the detection of a cut path with fastKA (4 s after
// the last packet, cut outcomeCutAfter into the statement) by a margin for
// a loaded machine, so that the statement still runs when the error comes.
const (
	outcomeSleep    = 15 * time.Second
	outcomeCutAfter = 1500 * time.Millisecond
)

// lostStatement is a statement whose connection was cut while it ran.
type lostStatement struct {
	query string
	err   error
	lost  *dialer.ConnLostError
	sent  time.Time // as the test saw it, before ExecContext
}

// TestOutcomeAfterLostConnection: statements on three connections, each
// longer than the keep-alive detection time; each connection's own path is
// cut (other connections pass) and each statement fails with a lost
// connection. Then outcome.Of, on a new connection of the same *sql.DB
// (and of a lib/pq-backed one), says: the first is still running, then,
// waited for, finished; the second, which fails on the server after the
// cut (division by zero after the sleep), finished, without a claim of
// success or failure, since PostgreSQL records neither; the third, whose
// session the server terminated, unknown, with why.
//
// pgx, when it closes a broken connection, would send the server a cancel
// request for its statement on a new connection (pgconn's asyncClose); the
// driver refuses that dial. Here it could not land anyway: pgx dials on a
// goroutine outside the client namespace, where the server's address has
// no route. TestCLIExecThroughFirewall, whose whole process is in the
// client namespace, shows the statement running on.
func TestOutcomeAfterLostConnection(t *testing.T) {
	s := newSetup(t)
	db, _ := s.open(t, driver.Name, s.pg.URL(fastKA.params()))
	pqdb, _ := s.open(t, rkpq.Name, s.pg.URL(fastKA.params()))
	sleep := fmt.Sprintf("pg_sleep(%g)", outcomeSleep.Seconds())
	queries := []string{
		"SELECT " + sleep,
		"DO $$BEGIN PERFORM " + sleep + "; PERFORM 1/0; END$$",
		"SELECT " + sleep + ", 'to be terminated'",
	}
	ctx := context.Background()
	conns := make([]*sql.Conn, len(queries))
	ports := make([]int, len(queries))
	for i := range queries {
		s.inClient(t, func() error {
			var err error
			conns[i], err = db.Conn(ctx)
			return err
		})
		t.Cleanup(func() { conns[i].Close() })
		ports[i] = localPort(t, conns[i])
	}
	lost := make([]lostStatement, len(queries))
	chs := make([]<-chan result, len(queries))
	bound := fastKA.d(fastKA.idle+fastKA.interval*fastKA.count) + outcomeCutAfter + outcomeSleep
	for i, q := range queries {
		lost[i] = lostStatement{query: q, sent: time.Now()}
		chs[i] = runFor(conns[i], bound, q)
	}
	time.Sleep(outcomeCutAfter)
	for _, p := range ports {
		require.NoError(t, s.fw.CutPort(p))
	}
	t.Cleanup(func() { assert.NoError(t, s.fw.Restore()) })
	for i := range queries {
		r := awaitResult(t, chs[i], bound+ctxGrace, queries[i])
		require.ErrorIs(t, r.err, dialer.ErrConnectionLost, "%s", queries[i])
		require.Less(t, r.elapsed, outcomeSleep, "%s: the error must come while the statement runs", queries[i])
		require.True(t, errors.As(r.err, &lost[i].lost))
		lost[i].err = r.err
		require.NotZero(t, lost[i].lost.ServerPID)
		// Sent is the time of the statement's write: after the test's
		// clock reading, before the cut.
		assert.False(t, lost[i].lost.Sent.Before(lost[i].sent), "Sent %s, before the statement", lost[i].lost.Sent)
		assert.Less(t, lost[i].lost.Sent.Sub(lost[i].sent), outcomeCutAfter, "Sent")
		t.Logf("%s: lost after %s (server process %d)", queries[i], r.elapsed.Round(time.Millisecond), lost[i].lost.ServerPID)
	}

	ask := func(d *sql.DB, l lostStatement, wait bool, within time.Duration) outcome.Statement {
		t.Helper()
		var st outcome.Statement
		s.inClient(t, func() error {
			actx, cancel := context.WithTimeout(ctx, within)
			defer cancel()
			var err error
			st, err = outcome.Of(actx, d, l.err, l.query, wait)
			return err
		})
		t.Logf("%s: %s", l.query, st)
		return st
	}

	// Still running, on both backends.
	for _, d := range []*sql.DB{db, pqdb} {
		st := ask(d, lost[0], false, 10*time.Second)
		assert.Equal(t, outcome.Running, st.State)
		assert.Equal(t, "PostgreSQL", st.Server)
		assert.Equal(t, lost[0].lost.ServerPID, st.PID)
		assert.Equal(t, queries[0], st.Query)
		assert.Positive(t, st.For)
		assert.Less(t, st.For, outcomeSleep)
		assert.Contains(t, st.String(), fmt.Sprintf("the statement is still running on the server (process %d, for ", st.PID))
	}

	// Terminated by the server: unknown, with why.
	pid := lost[2].lost.ServerPID
	var terminated bool
	s.inClient(t, func() error {
		return db.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&terminated)
	})
	require.True(t, terminated)
	waitGone(t, s, db, pid)
	st := ask(db, lost[2], false, 10*time.Second)
	assert.Equal(t, outcome.Unknown, st.State)
	assert.Contains(t, st.Reason, fmt.Sprintf("no session with process id %d on the server", pid))
	assert.Contains(t, st.String(), "what became of the statement is unknown")

	// Waited for: finished. The first succeeded, the second failed with a
	// division by zero; PostgreSQL records neither, and the answer says so.
	for i, d := range []*sql.DB{db, pqdb} {
		st := ask(d, lost[i], true, outcomeSleep+ctxGrace)
		assert.Equal(t, outcome.Finished, st.State, "%s", queries[i])
		assert.Empty(t, st.Result, "PostgreSQL cannot tell success from failure: %s", queries[i])
		assert.Contains(t, st.Reason, "PostgreSQL does not record whether a statement succeeded")
		assert.EqualValues(t, -1, st.Rows)
		assert.GreaterOrEqual(t, st.For, outcomeSleep, "%s: it ran the whole sleep", queries[i])
		assert.InDelta(t, st.Ended.Sub(st.Started), st.For, float64(time.Millisecond))
		assert.Contains(t, st.String(), "the statement finished on the server at ")
	}
}

// awaitResult waits for a statement's end, failing the test if it does
// not come in time.
func awaitResult(t *testing.T, ch <-chan result, d time.Duration, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(d):
		t.Fatalf("%s: no end within %s", what, d)
		return result{}
	}
}

// localPort is the client port of a pgx connection's socket.
func localPort(t *testing.T, conn *sql.Conn) int {
	t.Helper()
	var port int
	require.NoError(t, conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		port = sc.Conn().PgConn().Conn().LocalAddr().(*net.TCPAddr).Port
		return nil
	}))
	return port
}

// waitGone waits, bounded, until the server no longer lists pid.
func waitGone(t *testing.T, s *setup, db *sql.DB, pid uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		s.inClient(t, func() error {
			return db.QueryRowContext(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", int64(pid)).Scan(&n)
		})
		if n == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "process %d still listed after 10 s", pid)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOutcomePostgresNotTheLost: on a real PostgreSQL server, through both
// backends, outcome.Of takes a running session's statement for the lost
// one only if the session started before Sent and the text matches: with
// a Sent an hour before the session started (as for a session that reused
// a lost one's process id; a new session cannot be made to take a given
// id) or with other text, the answer is unknown. OutcomePostgresRows in
// package outcome places Sent between the session's and statement's start.
func TestOutcomePostgresNotTheLost(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx := context.Background()
	busy, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer busy.Close(ctx)
	pid := busy.PgConn().PID()
	const sleep = "SELECT pg_sleep(30), 'busy'"
	sent := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := busy.Exec(ctx, sleep)
		done <- err
	}()
	defer func() {
		_ = busy.PgConn().CancelRequest(ctx)
		harness.Await(t, done, 10*time.Second, "the cancelled sleep")
	}()
	lostAt := func(sent time.Time) error {
		return &dialer.ConnLostError{Addr: "test", Cause: "built by the test", ServerPID: pid, Sent: sent}
	}
	for _, backend := range []string{driver.Name, rkpq.Name} {
		t.Run(backend, func(t *testing.T) {
			db, err := sql.Open(backend, pg.URL(""))
			require.NoError(t, err)
			defer db.Close()
			deadline := time.Now().Add(10 * time.Second)
			for {
				st, err := outcome.Of(ctx, db, lostAt(sent), sleep, false)
				require.NoError(t, err)
				if st.State == outcome.Running {
					break
				}
				// The sleep may not have reached the server yet.
				require.True(t, time.Now().Before(deadline), "not running within 10 s: %s", st)
				time.Sleep(20 * time.Millisecond)
			}

			st, err := outcome.Of(ctx, db, lostAt(sent.Add(-time.Hour)), sleep, false)
			require.NoError(t, err)
			t.Log(st)
			assert.Equal(t, outcome.Unknown, st.State)
			assert.Contains(t, st.Reason, fmt.Sprintf("process id %d belongs to a session that started at ", pid))
			assert.Empty(t, st.Query)

			st, err = outcome.Of(ctx, db, lostAt(sent), "SELECT pg_sleep(30), 'another'", false)
			require.NoError(t, err)
			t.Log(st)
			assert.Equal(t, outcome.Unknown, st.State)
			assert.Contains(t, st.Reason, "its text differs")
		})
	}
}
