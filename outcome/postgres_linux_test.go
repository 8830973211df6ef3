//go:build linux

package outcome

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// TestOutcomePostgresRows: what postgresStatement makes of rows read, as
// Of reads them, from a real PostgreSQL server, for a lost connection
// whose Sent is placed against the row's own times. A new session cannot
// be made to take a given process id, so a reused one is a Sent before
// the session started; a later statement in the session, a Sent before
// the statement but after the session started. Neither, nor a statement
// that ended before Sent, nor one with other text, is taken for the lost
// one; For is the server's clock minus query_start.
func TestOutcomePostgresRows(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx := context.Background()
	db, err := sql.Open("pgx", pg.URL(""))
	require.NoError(t, err)
	defer db.Close()
	session, err := db.Conn(ctx)
	require.NoError(t, err)
	defer session.Close()
	asker, err := db.Conn(ctx)
	require.NoError(t, err)
	defer asker.Close()
	var pid uint32
	require.NoError(t, session.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid))
	// The session's last statement starts at least 200 ms after the session.
	_, err = session.ExecContext(ctx, "SELECT pg_sleep(0.2)")
	require.NoError(t, err)
	const text = "SELECT 'the lost one'"
	_, err = session.ExecContext(ctx, text)
	require.NoError(t, err)

	a, err := readActivity(ctx, asker, pid)
	require.NoError(t, err)
	require.NotNil(t, a)
	require.Equal(t, "idle", a.state.String)
	b, q, e := a.backendStart.Time, a.queryStart.Time, a.stateChange.Time
	require.GreaterOrEqual(t, q.Sub(b), 200*time.Millisecond)
	half := q.Sub(b) / 2
	t.Logf("session %d started %s, its last statement ran %s .. %s", pid, b, q, e)

	for _, tc := range []struct {
		name   string
		sent   time.Time
		query  string
		reason string // "": the lost statement, finished
	}{
		{"sent as it started", q, text, ""},
		{"no text", q, "", ""},
		{"Sent unknown", time.Time{}, text, ""},
		{"Sent within the skew after its end", e.Add(clockSkew), text, ""},
		{"a later statement", q.Add(-clockSkew - half), text, "statement started at " + clock(q) + ", after the lost one was sent"},
		{"a reused process id", b.Add(-clockSkew - time.Millisecond), text, "belongs to a session that started at " + clock(b) + ", after the lost statement was sent"},
		{"ended before Sent", e.Add(clockSkew + time.Millisecond), text, "last statement ended at " + clock(e) + ", before the lost one was sent"},
		{"other text", q, "SELECT 'another one'", "its text differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := postgresStatement(pid, a, tc.sent, tc.query)
			t.Log(st)
			if tc.reason != "" {
				assert.Equal(t, Unknown, st.State)
				assert.Contains(t, st.Reason, tc.reason)
				assert.Empty(t, st.Query)
				return
			}
			assert.Equal(t, Finished, st.State)
			assert.Equal(t, text, st.Query)
			assert.True(t, st.Started.Equal(q))
			assert.True(t, st.Ended.Equal(e))
			assert.Equal(t, e.Sub(q), st.For)
		})
	}

	// Running: For is the server's now minus query_start.
	const sleep = "SELECT pg_sleep(30), 'running'"
	done := make(chan error, 1)
	go func() {
		_, err := session.ExecContext(ctx, sleep)
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err = readActivity(ctx, asker, pid)
		require.NoError(t, err)
		if a.state.String == "active" && a.query.String == sleep {
			break
		}
		require.True(t, time.Now().Before(deadline), "not running after 10 s: %q %q", a.state.String, a.query.String)
		time.Sleep(20 * time.Millisecond)
	}
	st := postgresStatement(pid, a, a.queryStart.Time, sleep)
	assert.Equal(t, Running, st.State)
	assert.Equal(t, a.now.Time.Sub(a.queryStart.Time), st.For)
	st = postgresStatement(pid, a, a.queryStart.Time.Add(-clockSkew-time.Millisecond), sleep)
	assert.Equal(t, Unknown, st.State, "a statement that started after Sent, running")
	var cancelled bool
	require.NoError(t, asker.QueryRowContext(ctx, "SELECT pg_cancel_backend($1)", int64(pid)).Scan(&cancelled))
	require.True(t, cancelled)
	harness.Await(t, done, 10*time.Second, "the cancelled sleep")
}
