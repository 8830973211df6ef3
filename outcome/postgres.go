package outcome

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// postgresActivity reads pg_stat_activity for a process id (PostgreSQL
// documentation, "The Cumulative Statistics System", pg_stat_activity:
// https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW).
// state is "active" while a statement runs and "idle" (or "idle in
// transaction", "idle in transaction (aborted)") after it; backend_start
// is when the session started; query_start when the current or last
// statement started; state_change when state last changed, so when an
// idle session's statement ended; query the text of that statement,
// truncated to track_activity_query_size. Another user's session shows
// these as NULL unless the asking user has pg_read_all_stats.
const postgresActivity = `SELECT state, query, backend_start, query_start, state_change, clock_timestamp()
	FROM pg_stat_activity WHERE pid = $1`

// activity is a session's row of pg_stat_activity; now is the server's
// clock when it was read.
type activity struct {
	state, query                               sql.NullString
	backendStart, queryStart, stateChange, now sql.NullTime
}

// readActivity reads the row of process pid; nil if there is none.
func readActivity(ctx context.Context, conn *sql.Conn, pid uint32) (*activity, error) {
	var a activity
	err := conn.QueryRowContext(ctx, postgresActivity, int64(pid)).
		Scan(&a.state, &a.query, &a.backendStart, &a.queryStart, &a.stateChange, &a.now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// askPostgres reads the lost session's row and says what it tells.
func askPostgres(ctx context.Context, conn *sql.Conn, cl *dialer.ConnLostError, query string) (Statement, error) {
	a, err := readActivity(ctx, conn, cl.ServerPID)
	if err != nil {
		return Statement{}, err
	}
	return postgresStatement(cl.ServerPID, a, cl.Sent, query), nil
}

// postgresStatement says what a (nil: no row) tells of the statement
// sent at sent with text query (if not empty) in session pid. Process ids
// are reused: a session that started after sent, a statement that
// started after it or ended before it, or other text, is not the lost one.
func postgresStatement(pid uint32, a *activity, sent time.Time, query string) Statement {
	st := Statement{Server: "PostgreSQL", PID: pid, Rows: -1}
	unknown := func(format string, args ...any) Statement {
		st.State, st.Reason = Unknown, fmt.Sprintf(format, args...)
		return st
	}
	switch {
	case a == nil:
		return unknown("no session with process id %d on the server: the session has ended (the server ended it, or noticed the client was gone), and PostgreSQL keeps no record of its statements", pid)
	case !a.state.Valid:
		return unknown("pg_stat_activity hides session %d from this user: log in as the same user, or one with pg_read_all_stats", pid)
	case startedAfter(a.backendStart, sent):
		return unknown("process id %d belongs to a session that started at %s, after the lost statement was sent (%s): the lost session has ended, and PostgreSQL keeps no record of its statements", pid, clock(a.backendStart.Time), clock(sent))
	case startedAfter(a.queryStart, sent):
		return unknown("session %d's current or last statement started at %s, after the lost one was sent (%s): it is another statement", pid, clock(a.queryStart.Time), clock(sent))
	case strings.HasPrefix(a.state.String, "idle") && endedBefore(a.stateChange, sent):
		return unknown("session %d's last statement ended at %s, before the lost one was sent (%s): the lost one did not start", pid, clock(a.stateChange.Time), clock(sent))
	case query != "" && !sameStart(a.query.String, query):
		return unknown("session %d's current or last statement is not the lost one (its text differs): the process id is another session's, or the lost statement did not start", pid)
	}
	st.Query = a.query.String
	st.Started = a.queryStart.Time
	switch a.state.String {
	case "active", "fastpath function call":
		st.State = Running
		st.For = lasted(a.queryStart, sql.NullTime{}, a.now)
	case "idle", "idle in transaction", "idle in transaction (aborted)":
		st.State = Finished
		st.Ended = a.stateChange.Time
		st.For = lasted(a.queryStart, a.stateChange, a.now)
		if a.state.String == "idle in transaction (aborted)" {
			st.Result = "failed"
			st.Reason = "the session's transaction is aborted, so the statement failed; PostgreSQL keeps no message"
		} else {
			st.Reason = "PostgreSQL does not record whether a statement succeeded or how many rows it touched: check its effect"
		}
	default: // "disabled" (track_activities off) and anything newer
		st.State = Unknown
		st.Reason = fmt.Sprintf("pg_stat_activity gives session %d the state %q", pid, a.state.String)
	}
	return st
}
