package outcome

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// askPostgres reads pg_stat_activity for the session's process id
// (PostgreSQL documentation, "The Cumulative Statistics System",
// pg_stat_activity: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW).
// state is "active" while a statement runs and "idle" (or "idle in
// transaction", "idle in transaction (aborted)") after it; query_start is
// when the current or last statement started; state_change when state
// last changed, so when an idle session's statement ended; query the text
// of that statement. Another user's session shows these as NULL unless
// the asking user has pg_read_all_stats.
func askPostgres(ctx context.Context, conn *sql.Conn, pid uint32) (Statement, error) {
	st := Statement{Server: "PostgreSQL", PID: pid, Rows: -1}
	var (
		state, query     sql.NullString
		started, changed sql.NullTime
		runFor, ranFor   sql.NullFloat64
	)
	err := conn.QueryRowContext(ctx, `SELECT state, query_start, state_change, query,
		extract(epoch FROM clock_timestamp() - query_start)::float8,
		extract(epoch FROM state_change - query_start)::float8
		FROM pg_stat_activity WHERE pid = $1`, int64(pid)).
		Scan(&state, &started, &changed, &query, &runFor, &ranFor)
	if errors.Is(err, sql.ErrNoRows) {
		st.State = Unknown
		st.Reason = fmt.Sprintf("no session with process id %d on the server: the session has ended (the server ended it, or noticed the client was gone), and PostgreSQL keeps no record of its statements", pid)
		return st, nil
	}
	if err != nil {
		return Statement{}, err
	}
	if !state.Valid {
		st.State = Unknown
		st.Reason = fmt.Sprintf("pg_stat_activity hides session %d from this user: log in as the same user, or one with pg_read_all_stats", pid)
		return st, nil
	}
	st.Query = query.String
	st.Started = started.Time
	switch state.String {
	case "active", "fastpath function call":
		st.State = Running
		st.For = seconds(runFor)
	case "idle", "idle in transaction", "idle in transaction (aborted)":
		st.State = Finished
		st.Ended = changed.Time
		st.For = seconds(ranFor)
		if state.String == "idle in transaction (aborted)" {
			st.Result = "failed"
			st.Reason = "the session's transaction is aborted, so the statement failed; PostgreSQL keeps no message"
		} else {
			st.Reason = "PostgreSQL does not record whether a statement succeeded or how many rows it touched: check its effect"
		}
	default: // "disabled" (track_activities off) and anything newer
		st.State = Unknown
		st.Reason = fmt.Sprintf("pg_stat_activity gives session %d the state %q", pid, state.String)
	}
	return st, nil
}

// seconds converts a count of seconds from SQL.
func seconds(f sql.NullFloat64) time.Duration {
	if !f.Valid || f.Float64 < 0 {
		return 0
	}
	return time.Duration(f.Float64 * float64(time.Second))
}
