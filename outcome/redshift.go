package outcome

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// The views read on Redshift, and the Amazon Redshift Database Developer
// Guide pages that document every column used:
//
//   - SYS_QUERY_HISTORY
//     (https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html):
//     query_id bigint; session_id integer, "the process identifier of the
//     process running the query"; status character(10), one of planning,
//     queued, running, returning, failed, canceled, success; start_time and
//     end_time timestamp; error_message character(512), "the reason a
//     query failed"; returned_rows bigint, rows returned to the client;
//     query_text character(4000), "this string might be truncated";
//     query_type character(32) (SELECT, INSERT, COPY, CTAS, ...). It holds
//     running and finished statements, on provisioned clusters and
//     Serverless alike, and shows a regular user only its own rows.
//   - SYS_LOAD_HISTORY
//     (https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_HISTORY.html):
//     query_id bigint, loaded_rows bigint, "the number of rows copied to
//     the table", for each COPY.
//
// STV_RECENTS (https://docs.aws.amazon.com/redshift/latest/dg/r_STV_RECENTS.html)
// also shows what runs, but not on Serverless, and Amazon recommends the
// SYS views; SYS_QUERY_HISTORY's status already says running.
//
// GETDATE() (https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html)
// is the server's clock at the statement's start, to whole seconds, in
// the session's time zone (the cast makes it absolute); the views' times
// are UTC.
const (
	redshiftHistory = `SELECT query_id, status, start_time, end_time, error_message, returned_rows, query_text, query_type,
		CAST(getdate() AS timestamptz)
		FROM sys_query_history WHERE session_id = $1 ORDER BY start_time DESC LIMIT 100`
	redshiftLoaded = `SELECT loaded_rows FROM sys_load_history WHERE query_id = $1`
)

// historyRow is one row of SYS_QUERY_HISTORY.
type historyRow struct {
	id                int64
	status, msg, text string
	typ               string
	start, end, now   sql.NullTime
	returned          sql.NullInt64
}

// askRedshift finds the lost statement among the session's in
// SYS_QUERY_HISTORY: the latest whose stored text starts the given text
// (the view truncates it), or the latest if no text is given, among those
// that started no later than Sent (session ids are reused, and a
// scheduler may retry the text); none if that one ended before Sent.
func askRedshift(ctx context.Context, conn *sql.Conn, cl *dialer.ConnLostError, query string) (Statement, error) {
	st := Statement{Server: "Amazon Redshift", PID: cl.ServerPID, Rows: -1}
	rows, err := conn.QueryContext(ctx, redshiftHistory, int64(cl.ServerPID))
	if err != nil {
		return Statement{}, err
	}
	defer rows.Close()
	var (
		found bool
		later int // rows of the text that started after Sent
		r     historyRow
	)
	for rows.Next() {
		var c historyRow
		var status, msg, text, typ sql.NullString
		var returned sql.NullInt64
		if err := rows.Scan(&c.id, &status, &c.start, &c.end, &msg, &returned, &text, &typ, &c.now); err != nil {
			return Statement{}, err
		}
		c.status, c.msg, c.text, c.typ = trim(status), trim(msg), trim(text), trim(typ)
		c.returned = returned
		if query != "" && !sameStart(c.text, query) {
			continue
		}
		if startedAfter(c.start, cl.Sent) {
			later++
			continue
		}
		r, found = c, true
		break
	}
	if err := rows.Err(); err != nil {
		return Statement{}, err
	}
	rows.Close()
	withText := ""
	if query != "" {
		withText = " with that text"
	}
	if !found {
		st.State = Unknown
		if later > 0 {
			st.Reason = fmt.Sprintf("SYS_QUERY_HISTORY's statements of session %d%s all started after the lost one was sent (%s): they are later ones (the session id was reused, or the text run again)", cl.ServerPID, withText, clock(cl.Sent))
			return st, nil
		}
		st.Reason = fmt.Sprintf("SYS_QUERY_HISTORY has no statement of session %d%s (a user sees only its own rows there: log in as the same user)", cl.ServerPID, withText)
		return st, nil
	}
	if endedBefore(r.end, cl.Sent) {
		st.State = Unknown
		st.Reason = fmt.Sprintf("the latest statement of session %d%s on record ended at %s, before the lost one was sent (%s)", cl.ServerPID, withText, clock(r.end.Time), clock(cl.Sent))
		return st, nil
	}
	st.Query, st.Started = r.text, r.start.Time
	switch r.status {
	case "planning", "queued", "running", "returning":
		st.State = Running
		st.For = lasted(r.start, sql.NullTime{}, r.now)
		return st, nil
	case "canceled", "cancelled":
		st.State = Cancelled
	case "success":
		st.State, st.Result = Finished, "success"
	case "failed":
		st.State, st.Result, st.Message = Finished, "failed", r.msg
	default:
		st.State = Unknown
		st.Reason = fmt.Sprintf("SYS_QUERY_HISTORY gives the status %q", r.status)
		return st, nil
	}
	if r.end.Valid {
		st.Ended = r.end.Time
		st.For = lasted(r.start, r.end, r.now)
	}
	if st.Result != "success" {
		return st, nil
	}
	switch r.typ {
	case "COPY":
		var loaded sql.NullInt64
		err := conn.QueryRowContext(ctx, redshiftLoaded, r.id).Scan(&loaded)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Statement{}, fmt.Errorf("ask SYS_LOAD_HISTORY: %w", err)
		}
		if loaded.Valid {
			st.Rows = loaded.Int64
		}
	case "SELECT":
		if r.returned.Valid {
			st.Rows = r.returned.Int64
		}
	}
	return st, nil
}

// trim drops the padding of Redshift's character(n) columns.
func trim(s sql.NullString) string { return strings.TrimSpace(s.String) }

// sameStart reports whether stored, a statement's text as Redshift keeps
// it (perhaps truncated), is the start of text, white space aside.
func sameStart(stored, text string) bool {
	s, t := strings.Join(strings.Fields(stored), " "), strings.Join(strings.Fields(text), " ")
	return s != "" && strings.HasPrefix(t, s)
}
