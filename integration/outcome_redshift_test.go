//go:build linux

package integration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/dialer"
	"github.com/redshift-ka/redshift-ka/driver"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/outcome"
)

// redshiftViews emulates, on the upstream PostgreSQL behind the Redshift
// front end, what outcome.Of reads on Redshift, in a schema that the
// database's search_path puts before pg_catalog:
//   - version(), as Redshift answers it (Amazon Redshift Database
//     Developer Guide, "VERSION function":
//     https://docs.aws.amazon.com/redshift/latest/dg/r_VERSION.html);
//   - GETDATE(), the statement's start to whole seconds in the session's
//     time zone ("GETDATE function":
//     https://docs.aws.amazon.com/redshift/latest/dg/r_GETDATE.html);
//   - SYS_QUERY_HISTORY, its documented columns and types from user_id to
//     redshift_version, in the documented order
//     (https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html;
//     the statistics columns the page lists after them are left out);
//   - SYS_LOAD_HISTORY, every documented column and type
//     (https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_HISTORY.html).
const redshiftViews = `
CREATE SCHEMA redshift;
CREATE FUNCTION redshift.version() RETURNS text LANGUAGE sql AS
	$$SELECT 'PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.12103'::text$$;
CREATE FUNCTION redshift.getdate() RETURNS timestamp LANGUAGE sql STABLE AS
	$$SELECT date_trunc('second', statement_timestamp())::timestamp$$;
CREATE TABLE redshift.sys_query_history (
	user_id integer, query_id bigint, query_label character(320), transaction_id bigint,
	session_id integer, database_name character(128), query_type character(32),
	status character(10), result_cache_hit boolean, start_time timestamp, end_time timestamp,
	elapsed_time bigint, queue_time bigint, execution_time bigint, error_message character(512),
	returned_rows bigint, returned_bytes bigint, query_text character(4000),
	redshift_version character(256));
CREATE TABLE redshift.sys_load_history (
	user_id integer, query_id bigint, transaction_id bigint, session_id integer,
	database_name text, status text, table_name text, start_time timestamp, end_time timestamp,
	duration bigint, data_source text, file_format text, loaded_rows bigint, loaded_bytes bigint,
	source_file_count integer, source_file_bytes bigint, file_count_scanned integer,
	file_bytes_scanned bigint, error_count bigint, copy_job_id bigint);
`

// startRedshiftUpstream starts the PostgreSQL server for a Redshift front
// end, on 127.0.0.1, with redshiftViews in a schema its database's
// search_path puts first (new sessions, the front end's included, see
// them), and returns it with a connection, closed with the test, to write
// the views' rows.
func startRedshiftUpstream(t *testing.T) (*harness.Postgres, *pgx.Conn) {
	t.Helper()
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx := context.Background()
	up, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	t.Cleanup(func() { up.Close(ctx) })
	_, err = up.Exec(ctx, redshiftViews)
	require.NoError(t, err)
	_, err = up.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s SET search_path = redshift, pg_catalog, public", pgx.Identifier{pg.Database}.Sanitize()))
	require.NoError(t, err)
	return pg, up
}

// TestOutcomeOnRedshift: outcome.Of through the Redshift front end, on both
// backends, reads the emulated system views: a statement running, one that
// succeeded (a COPY, with the rows SYS_LOAD_HISTORY says it loaded, found
// by its text though Redshift kept only its first 4000 characters and the
// session ran another after it; a SELECT, with its returned rows), one
// that failed with a message, one cancelled, and a session with no row.
// Rows that started after Sent plus a minute of skew (a later statement, a
// retry of the same text in a session that reused the id) or ended before
// Sent are not the lost statement; one within the skew is. For is the
// server's GETDATE() minus the start, however far the client's clock is,
// in any session time zone.
// The lost connections are built by the test: TestOutcomeAfterLostConnection
// shows the real ones; this shows the queries and their reading. It was
// not run on a real cluster.
func TestOutcomeOnRedshift(t *testing.T) {
	pg, up := startRedshiftUpstream(t)
	ctx := context.Background()
	var err error

	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	end := start.Add(35*time.Minute + 12*time.Second)
	sent := start.Add(-100 * time.Millisecond)
	retried := sent.Add(time.Minute + time.Second) // after Sent plus the skew
	copySQL := "COPY sales FROM 's3://bucket/sales/' IAM_ROLE default FORMAT CSV -- " + strings.Repeat("x", 4100)
	type row struct {
		session  int
		id       int64
		typ      string
		status   string
		start    time.Time
		end      any
		msg      string
		returned int64
		text     string
	}
	rows := []row{
		{101, 1, "SELECT", "running", start, nil, "", 0, "SELECT pg_sleep(3600)"},
		{102, 2, "COPY", "success", start, end, "", 0, copySQL[:4000]},
		{102, 3, "SELECT", "success", end, end, "", 1, "SELECT 1"}, // after the COPY, in the same session
		{103, 4, "COPY", "failed", start, end, "Load into table 'sales' failed. Check 'sys_load_error_detail' system table for details.", 0, "COPY sales FROM 's3://bucket/bad/'"},
		{104, 5, "CTAS", "canceled", start, end, "", 0, "CREATE TABLE big AS SELECT * FROM sales"},
		{106, 6, "SELECT", "success", start, end, "", 42, "SELECT * FROM sales LIMIT 42"},
		// The lost COPY, then the same text retried by a scheduler in a later
		// session that got the same id.
		{107, 7, "COPY", "success", start, start.Add(time.Second), "", 0, "COPY sales FROM 's3://bucket/daily/'"},
		{107, 8, "COPY", "running", retried, nil, "", 0, "COPY sales FROM 's3://bucket/daily/'"},
		{108, 9, "SELECT", "success", retried, retried.Add(time.Second), "", 5, "SELECT * FROM sales LIMIT 5"},
		{109, 10, "SELECT", "success", start.Add(-time.Hour), start.Add(-time.Hour + time.Second), "", 6, "SELECT * FROM sales LIMIT 6"},
		{110, 11, "SELECT", "running", start.Add(59 * time.Second), nil, "", 0, "SELECT * FROM sales LIMIT 7"}, // the server's clock a bit ahead
	}
	for _, r := range rows {
		_, err := up.Exec(ctx, `INSERT INTO redshift.sys_query_history (user_id, query_id, session_id, query_type, status, start_time, end_time, error_message, returned_rows, query_text)
			VALUES (100, $1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.id, r.session, r.typ, r.status, r.start, r.end, r.msg, r.returned, r.text)
		require.NoError(t, err)
	}
	_, err = up.Exec(ctx, `INSERT INTO redshift.sys_load_history (user_id, query_id, session_id, status, table_name, start_time, end_time, loaded_rows)
		VALUES (100, 2, 102, 'completed', 'sales', $1, $2, 1234567)`, start, end)
	require.NoError(t, err)

	fe := startFrontEnd(t, pg, frontEndOptions{})
	lostOf := func(pid uint32) error {
		return &dialer.ConnLostError{Addr: "redshift.example:5439", Cause: "test", ServerPID: pid, Sent: sent}
	}
	for _, backend := range []string{driver.Name, rkpq.Name} {
		t.Run(backend, func(t *testing.T) {
			db, err := sql.Open(backend, fe.Server().URL(""))
			require.NoError(t, err)
			defer db.Close()
			of := func(pid uint32, query string) outcome.Statement {
				t.Helper()
				st, err := outcome.Of(ctx, db, lostOf(pid), query, false)
				require.NoError(t, err)
				t.Logf("%d: %s", pid, st)
				assert.Equal(t, "Amazon Redshift", st.Server)
				assert.Equal(t, pid, st.PID)
				return st
			}

			st := of(101, "SELECT pg_sleep(3600)")
			assert.Equal(t, outcome.Running, st.State)
			assert.True(t, st.Started.Equal(start), "started %s, want %s", st.Started, start)
			assert.Greater(t, st.For, time.Minute-time.Second) // GETDATE() is whole seconds
			assert.LessOrEqual(t, st.For, time.Since(start))
			assert.Contains(t, st.String(), "the statement is still running on the server (process 101, for ")

			st = of(102, copySQL)
			assert.Equal(t, outcome.Finished, st.State)
			assert.Equal(t, "success", st.Result)
			assert.EqualValues(t, 1234567, st.Rows)
			assert.Equal(t, 35*time.Minute+12*time.Second, st.For)
			assert.True(t, st.Ended.Equal(end))
			assert.Equal(t, copySQL[:4000], st.Query)
			assert.Equal(t, fmt.Sprintf("the statement finished on the server at %s with success (1,234,567 rows)", end.Format("15:04:05 UTC")), st.String())

			st = of(102, "") // no text: the latest that started by Sent, not the later SELECT 1
			assert.True(t, st.Query == copySQL[:4000], "got %.40q", st.Query)

			st = of(103, "")
			assert.Equal(t, outcome.Finished, st.State)
			assert.Equal(t, "failed", st.Result)
			assert.Equal(t, rows[3].msg, st.Message)
			assert.Contains(t, st.String(), ", failed: Load into table 'sales' failed.")

			st = of(104, "CREATE TABLE big AS SELECT * FROM sales")
			assert.Equal(t, outcome.Cancelled, st.State)
			assert.True(t, st.Ended.Equal(end))

			st = of(105, "SELECT 1")
			assert.Equal(t, outcome.Unknown, st.State)
			assert.Contains(t, st.Reason, "SYS_QUERY_HISTORY has no statement of session 105")

			st = of(106, "SELECT * FROM sales LIMIT 42")
			assert.Equal(t, "success", st.Result)
			assert.EqualValues(t, 42, st.Rows)

			st = of(101, "SELECT something else") // text that matches no row
			assert.Equal(t, outcome.Unknown, st.State)

			st = of(107, "COPY sales FROM 's3://bucket/daily/'") // not the retry
			assert.Equal(t, outcome.Finished, st.State)
			assert.Equal(t, "success", st.Result)
			assert.True(t, st.Started.Equal(start))

			st = of(108, "SELECT * FROM sales LIMIT 5")
			assert.Equal(t, outcome.Unknown, st.State)
			assert.Contains(t, st.Reason, "SYS_QUERY_HISTORY's statements of session 108 with that text all started after the lost one was sent")
			st = of(108, "")
			assert.Equal(t, outcome.Unknown, st.State)

			st = of(109, "SELECT * FROM sales LIMIT 6")
			assert.Equal(t, outcome.Unknown, st.State)
			assert.Contains(t, st.Reason, "ended at "+start.Add(-time.Hour+time.Second).Format("15:04:05 UTC")+", before the lost one was sent")

			st = of(110, "SELECT * FROM sales LIMIT 7")
			assert.Equal(t, outcome.Running, st.State)
		})
	}

	// A session time zone other than UTC: GETDATE() follows it, For not.
	tzdb, err := sql.Open(driver.Name, fe.Server().URL("timezone=Asia/Tokyo"))
	require.NoError(t, err)
	defer tzdb.Close()
	var tz string
	require.NoError(t, tzdb.QueryRowContext(ctx, "SHOW timezone").Scan(&tz))
	require.Equal(t, "Asia/Tokyo", tz)
	st, err := outcome.Of(ctx, tzdb, lostOf(101), "SELECT pg_sleep(3600)", false)
	require.NoError(t, err)
	assert.Equal(t, outcome.Running, st.State)
	assert.Greater(t, st.For, time.Minute-time.Second, "%s", st)
	assert.LessOrEqual(t, st.For, time.Since(start), "%s", st)

	// The server's clock an hour ahead of the client's: For follows it.
	_, err = up.Exec(ctx, `CREATE OR REPLACE FUNCTION redshift.getdate() RETURNS timestamp LANGUAGE sql STABLE AS
		$$SELECT date_trunc('second', statement_timestamp() + interval '1 hour')::timestamp$$`)
	require.NoError(t, err)
	db, err := sql.Open(driver.Name, fe.Server().URL(""))
	require.NoError(t, err)
	defer db.Close()
	st, err = outcome.Of(ctx, db, lostOf(101), "SELECT pg_sleep(3600)", false)
	require.NoError(t, err)
	assert.Equal(t, outcome.Running, st.State)
	assert.Greater(t, st.For, time.Hour+time.Minute-time.Second, "%s", st)
	assert.LessOrEqual(t, st.For, time.Hour+time.Since(start))
}
