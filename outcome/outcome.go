package outcome

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// The states of a [Statement].
const (
	// Running: the statement is still running on the server.
	Running = "running"
	// Finished: the statement ended on the server; Result says how where
	// the server records it.
	Finished = "finished"
	// Cancelled: the server records the statement as cancelled.
	Cancelled = "cancelled"
	// Unknown: the server cannot say; Reason says why.
	Unknown = "unknown"
)

// Statement is what the server says became of the statement of a lost
// connection.
type Statement struct {
	// State is [Running], [Finished], [Cancelled] or [Unknown].
	State string `json:"state"`
	// Server is "PostgreSQL" or "Amazon Redshift".
	Server string `json:"server"`
	// PID is the server process id of the lost session.
	PID uint32 `json:"server_pid"`
	// Started is when the statement started on the server; zero if
	// unknown.
	Started time.Time `json:"started,omitzero"`
	// Ended is when it ended; zero while it runs or if unknown.
	Ended time.Time `json:"ended,omitzero"`
	// For is how long it has run (Running) or ran (Finished, Cancelled),
	// by the server's clock: its time now, or the end, minus Started.
	For time.Duration `json:"for_ns,omitempty"`
	// Result is "success" or "failed" where the server records it, empty
	// where it does not (PostgreSQL: see Reason).
	Result string `json:"result,omitempty"`
	// Message is the server's error message for a failed statement,
	// where it records one.
	Message string `json:"message,omitempty"`
	// Rows is the rows the statement loaded (COPY) or returned (SELECT),
	// -1 where the server does not record it.
	Rows int64 `json:"rows"`
	// Query is the statement's text as the server keeps it (Redshift
	// truncates it).
	Query string `json:"query,omitempty"`
	// Reason says why the state is Unknown, or what the server cannot
	// tell about a finished statement.
	Reason string `json:"reason,omitempty"`
}

// String says it in one line, as the command prints it: "the statement is
// still running on the server (process 4514, for 35m12s)".
func (s Statement) String() string {
	switch s.State {
	case Running:
		return fmt.Sprintf("the statement is still running on the server (process %d, for %s)", s.PID, s.For.Round(time.Second))
	case Cancelled:
		return fmt.Sprintf("the statement was cancelled on the server at %s (process %d)", clock(s.Ended), s.PID)
	case Finished:
		var b strings.Builder
		fmt.Fprintf(&b, "the statement finished on the server at %s", clock(s.Ended))
		switch s.Result {
		case "success":
			b.WriteString(" with success")
			if s.Rows >= 0 {
				fmt.Fprintf(&b, " (%s %s)", thousands(s.Rows), plural(s.Rows, "row", "rows"))
			}
		case "failed":
			b.WriteString(", failed")
			if s.Message != "" {
				b.WriteString(": " + s.Message)
			}
		default:
			b.WriteString("; " + s.Reason)
		}
		return b.String()
	}
	if s.State == "" {
		return "the server was not asked what became of the statement"
	}
	if s.PID == 0 {
		return "what became of the statement is unknown: " + s.Reason
	}
	return fmt.Sprintf("what became of the statement is unknown (process %d): %s", s.PID, s.Reason)
}

// clock formats a server time as the console shows it: UTC, seconds.
func clock(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("15:04:05 UTC")
}

// plural picks the word for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands writes n with commas: 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// clockSkew is how far the server's clock may be off the client's, either
// way. The lost statement was on the server when the client last wrote
// (Sent): a statement that started after Sent+clockSkew, or ended before
// Sent-clockSkew, is another one.
const clockSkew = time.Minute

// startedAfter reports whether start, a server time, is after sent plus
// clockSkew. Unknown times (zero sent, NULL start) say nothing: false.
func startedAfter(start sql.NullTime, sent time.Time) bool {
	return !sent.IsZero() && start.Valid && start.Time.After(sent.Add(clockSkew))
}

// endedBefore reports whether end, a server time, is before sent minus
// clockSkew. Unknown times say nothing: false.
func endedBefore(end sql.NullTime, sent time.Time) bool {
	return !sent.IsZero() && end.Valid && end.Time.Before(sent.Add(-clockSkew))
}

// lasted is how long a statement ran from start to end, or to now while
// it runs (end NULL). All three are the server's times, so the client's
// clock plays no part; 0 if a time is unknown.
func lasted(start, end, now sql.NullTime) time.Duration {
	to := now
	if end.Valid {
		to = end
	}
	if !start.Valid || !to.Valid || to.Time.Before(start.Time) {
		return 0
	}
	return to.Time.Sub(start.Time)
}

// pollEvery is how often [Of] asks again while a statement runs and the
// caller waits. A variable for the tests.
var pollEvery = time.Second

// Of asks the server, through a new connection from db, what became of
// the statement whose connection was lost: lost is the error the
// statement failed with, holding a [*dialer.ConnLostError]; for any other
// error Of asks nothing and returns it wrapped, with an [Unknown]
// Statement whose Reason says it is not a lost connection. query, if not empty,
// is the statement's text as sent: a statement with other text is not the
// lost one, nor one that started after the lost connection's Sent or
// ended before it (a minute of clock skew allowed either way). For is
// read on the server's clock. With wait, Of asks again every second while
// the statement runs, until it no longer runs or ctx ends; then it
// returns the last answer, Running, with no error.
//
// An error means the server could not be asked (it is unreachable, or
// refused the query); what the server could not say is an [Unknown]
// Statement with its Reason.
func Of(ctx context.Context, db *sql.DB, lost error, query string, wait bool) (Statement, error) {
	var cl *dialer.ConnLostError
	if !errors.As(lost, &cl) {
		return Statement{State: Unknown, Rows: -1, Reason: "the error is not a lost connection, so the server was not asked"},
			fmt.Errorf("redshift-ka: outcome: not a lost connection: %w", lost)
	}
	if cl.ServerPID == 0 {
		return Statement{State: Unknown, Rows: -1, Reason: "the server did not tell the session's process id"}, nil
	}
	var last Statement
	for {
		st, err := ask(ctx, db, cl, query)
		if err != nil && last.State == Running && ctx.Err() != nil {
			return last, nil // the wait ended while asking again
		}
		if err != nil || !wait || st.State != Running {
			return st, err
		}
		last = st
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, nil
		case <-t.C:
		}
	}
}

// ask asks once, on a connection of its own.
func ask(ctx context.Context, db *sql.DB, cl *dialer.ConnLostError, query string) (Statement, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return Statement{}, fmt.Errorf("redshift-ka: outcome: reconnect: %w", err)
	}
	defer conn.Close()
	redshift, err := isRedshift(ctx, conn)
	if err != nil {
		return Statement{}, fmt.Errorf("redshift-ka: outcome: %w", err)
	}
	if redshift {
		st, err := askRedshift(ctx, conn, cl, query)
		if err != nil {
			return Statement{}, fmt.Errorf("redshift-ka: outcome: ask SYS_QUERY_HISTORY: %w", err)
		}
		return st, nil
	}
	st, err := askPostgres(ctx, conn, cl, query)
	if err != nil {
		return Statement{}, fmt.Errorf("redshift-ka: outcome: ask pg_stat_activity: %w", err)
	}
	return st, nil
}

// isRedshift: a pgx connection knows from the padb_version the server
// announced at startup; lib/pq keeps those to itself, so its connection
// asks version(), which on Redshift names Redshift ("PostgreSQL 8.0.2
// on i686-pc-linux-gnu, ..., Redshift 1.0.NNNNN"; Redshift Database
// Developer Guide, "VERSION function":
// https://docs.aws.amazon.com/redshift/latest/dg/r_VERSION.html).
func isRedshift(ctx context.Context, conn *sql.Conn) (bool, error) {
	known, redshift := false, false
	_ = conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			known, redshift = true, c.Conn().PgConn().ParameterStatus("padb_version") != ""
		}
		return nil
	})
	if known {
		return redshift, nil
	}
	var v string
	if err := conn.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return false, fmt.Errorf("ask version(): %w", err)
	}
	return strings.Contains(v, "Redshift"), nil
}
