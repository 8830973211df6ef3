// Package outcome asks the server what became of a statement whose
// connection was lost.
//
// A statement that fails with a [*dialer.ConnLostError] may still have run
// to its end on the server: Amazon's own words for the problem are a
// client that "appears to hang" on a long COPY while "the Amazon Redshift
// console displays that the query has completed". Re-running a COPY that
// did commit loads its rows twice; not re-running one that failed loses
// them. [Of] opens a new connection from the same [*sql.DB] and asks.
//
// # Use
//
//	_, err := db.ExecContext(ctx, copySQL)
//	if errors.Is(err, dialer.ErrConnectionLost) {
//		st, qerr := outcome.Of(ctx, db, err, copySQL, true) // wait while it runs
//		if qerr == nil {
//			fmt.Println(st) // the statement finished on the server at 12:04:31 with success (1,234,567 rows loaded)
//		}
//	}
//
// The *sql.DB may be opened with "redshift-ka" or "redshift-ka-pq"; the
// new connection goes through the same DSN (and a fresh IAM login, where
// the DSN asks for one), so it logs in as the same database user, which
// is what both servers require to see the session's rows. A program that
// uses pgx without database/sql passes stdlib.OpenDB(*cfg), cfg from
// [github.com/redshift-ka/redshift-ka/driver.ParseConfig], or
// stdlib.OpenDBFromPool(pool), pool from
// [github.com/redshift-ka/redshift-ka/driver.ParsePoolConfig].
//
// # What each server can tell
//
// PostgreSQL keeps a session's current or last statement in
// pg_stat_activity while the session lives (its state, query_start,
// state_change and query). It does not record whether that statement
// succeeded: a statement that ended is [Finished] with an empty Result,
// unless the session is left in an aborted transaction (Result "failed",
// no message). Once the session has ended, nothing is left: [Unknown].
//
// Amazon Redshift (provisioned and Serverless) keeps each statement in
// SYS_QUERY_HISTORY, running or finished, with its status, times, error
// message and the rows it returned, and each COPY in SYS_LOAD_HISTORY
// with the rows it loaded. A user sees only its own rows there.
//
// Process and session ids are reused, and a scheduler may run the same
// text again: a row is taken for the lost statement only if its session
// and statement started no later than [dialer.ConnLostError].Sent, the
// statement did not end before it (a minute of clock skew allowed), and
// its text, where given, matches.
package outcome
