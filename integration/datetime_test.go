//go:build linux

package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// dates are the DATE and TIME values of the tests, as PostgreSQL prints
// them; "" is NULL.
var dates = []struct{ date, time string }{
	{"2024-02-29", "23:59:59.123456"},
	{"1999-12-31", "00:00:00"},
	{"2000-01-01", "12:00:01.5"},
	{"", ""},
}

// dateTable creates the table moments(id, d, t) on pg.
func dateTable(t *testing.T, pg *harness.Postgres) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE moments (id int PRIMARY KEY, d date, t time)")
	require.NoError(t, err)
	for i, d := range dates {
		_, err = conn.Exec(ctx, "INSERT INTO moments VALUES ($1, $2::date, $3::time)", i, nullable(d.date), nullable(d.time))
		require.NoError(t, err)
	}
}

// checkDates reads every value of dates through q, from the table and as
// parameters, twice (the second time from pgx's statement cache where the
// mode has one): DATE into time.Time, TIME into pgtype.Time through pgx's
// own API and into string through database/sql.
func checkDates(t *testing.T, q rowQuerier, typed bool) {
	t.Helper()
	ctx := context.Background()
	for run := 1; run <= 2; run++ {
		for id, want := range dates {
			var wantDate *time.Time
			if want.date != "" {
				d, err := time.Parse(time.DateOnly, want.date)
				require.NoError(t, err)
				wantDate = &d
			}
			wantTime := parseClock(t, want.time)
			var timeArg any = nullable(want.time)
			if typed {
				timeArg = wantTime
			}
			var dateArg any
			if wantDate != nil {
				dateArg = *wantDate
			}
			for _, from := range []string{"table", "parameter"} {
				query, args := "SELECT d, t FROM moments WHERE id = $1", []any{id}
				if from == "parameter" {
					query, args = "SELECT $1::date, $2::time", []any{dateArg, timeArg}
				}
				where := fmt.Sprintf("run %d, %s, value %d", run, from, id)
				var d *time.Time
				if typed {
					var tm pgtype.Time
					require.NoError(t, q(ctx, query, args...).Scan(&d, &tm), where)
					assert.Equal(t, wantTime, tm, where)
				} else {
					var tm *string
					require.NoError(t, q(ctx, query, args...).Scan(&d, &tm), where)
					assert.Equal(t, nullable(want.time), derefAny(tm), where)
				}
				if wantDate == nil {
					assert.Nil(t, d, where)
				} else if assert.NotNil(t, d, where) {
					assert.Equal(t, want.date, d.Format(time.DateOnly), where)
				}
			}
		}
	}
}

// parseClock reads hh:mm:ss[.ffffff] as pgtype.Time; "" is NULL.
func parseClock(t *testing.T, s string) pgtype.Time {
	if s == "" {
		return pgtype.Time{}
	}
	c, err := time.Parse("15:04:05.999999", s)
	require.NoError(t, err)
	midnight := time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)
	return pgtype.Time{Microseconds: c.Sub(midnight).Microseconds(), Valid: true}
}

func derefAny(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// TestRedshiftDateTime: through the Redshift front end, DATE and TIME are
// read right on every pgx path in every exec mode, with no binary DATE or
// TIME value asked for (redshift_connector reads them as text at the
// protocol version pgx gets); pgx's database/sql adapter's own request for
// binary DATE included. On PostgreSQL they stay binary.
func TestRedshiftDateTime(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	dateTable(t, pg)
	fe := startFrontEnd(t, pg, frontEndOptions{})
	for _, p := range numericPaths {
		for _, mode := range redshiftExecModes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				checkDates(t, p.open(t, fe.Server().URL("default_query_exec_mode="+mode)), p.typed)
			})
		}
	}
	t.Run("batch", func(t *testing.T) {
		cfg, err := driver.ParseConfig(fe.Server().URL(""))
		require.NoError(t, err)
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		b := &pgx.Batch{}
		var d time.Time
		var tm pgtype.Time
		b.Queue("SELECT d, t FROM moments WHERE id = 0").QueryRow(func(row pgx.Row) error { return row.Scan(&d, &tm) })
		require.NoError(t, conn.SendBatch(context.Background(), b).Close())
		assert.Equal(t, dates[0].date, d.Format(time.DateOnly))
		assert.Equal(t, parseClock(t, dates[0].time), tm)
	})
	assert.Zero(t, fe.BinaryDateTime.Load(), "redshift-ka asked Redshift for binary DATE or TIME")

	t.Run("PostgreSQL", func(t *testing.T) {
		pass := startFrontEnd(t, pg, frontEndOptions{Passthrough: true})
		for _, p := range numericPaths {
			t.Run(p.name, func(t *testing.T) {
				before := pass.BinaryDateTime.Load()
				checkDates(t, p.open(t, pass.Server().URL("")), p.typed)
				assert.Greater(t, pass.BinaryDateTime.Load(), before, "pgx did not ask PostgreSQL for binary DATE or TIME")
			})
		}
	})
}

// TestRedshiftFrontEndBatch: the front end follows several statements
// and portals in one batch, each with its own columns, in every exec
// mode: the values are right and the front end finds nothing amiss (a
// row whose columns it mistook fails the test when the front end stops).
// Through redshift-ka on the Redshift front end no NUMERIC is binary,
// either way; plain pgx on PostgreSQL asks for binary NUMERIC results and
// sends binary NUMERIC parameters, and the front end counts both.
func TestRedshiftFrontEndBatch(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	numericTable(t, pg)
	dateTable(t, pg)
	ctx := context.Background()
	rs := startFrontEnd(t, pg, frontEndOptions{})
	pass := startFrontEnd(t, pg, frontEndOptions{Passthrough: true})
	batch := func(t *testing.T, conn *pgx.Conn) {
		t.Helper()
		for run := 1; run <= 2; run++ {
			b := &pgx.Batch{}
			var small, big, param, text string
			var id, n int
			var d time.Time
			b.Queue("SELECT small::text, big::text FROM amounts WHERE id = $1", 0).QueryRow(func(row pgx.Row) error { return row.Scan(&small, &big) })
			b.Queue("SELECT id FROM amounts WHERE id = $1", 1).QueryRow(func(row pgx.Row) error { return row.Scan(&id) })
			b.Queue("SELECT $1::numeric(8,2)::text, 'x'::text, 3, d FROM moments WHERE id = 0", numericArg(t, "-12.34")).
				QueryRow(func(row pgx.Row) error { return row.Scan(&param, &text, &n, &d) })
			b.Queue("SELECT small, big FROM amounts WHERE id = $1", 1).QueryRow(func(row pgx.Row) error {
				var a, c pgtype.Numeric
				if err := row.Scan(&a, &c); err != nil {
					return err
				}
				small, big = ratString(a, 2), ratString(c, 10)
				return nil
			})
			require.NoError(t, conn.SendBatch(ctx, b).Close(), "run %d", run)
			assert.Equal(t, amounts[1].small, small, "run %d", run)
			assert.Equal(t, amounts[1].big, big, "run %d", run)
			assert.Equal(t, 1, id)
			assert.Equal(t, "-12.34", param)
			assert.Equal(t, "x", text)
			assert.Equal(t, 3, n)
			assert.Equal(t, dates[0].date, d.Format(time.DateOnly))
		}
	}
	for _, mode := range redshiftExecModes {
		t.Run("Redshift/"+mode, func(t *testing.T) {
			cfg, err := driver.ParseConfig(rs.Server().URL("default_query_exec_mode=" + mode))
			require.NoError(t, err)
			conn, err := pgx.ConnectConfig(ctx, cfg)
			require.NoError(t, err)
			defer conn.Close(ctx)
			batch(t, conn)
		})
		t.Run("PostgreSQL/"+mode, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, pass.Server().URL("default_query_exec_mode="+mode))
			require.NoError(t, err)
			defer conn.Close(ctx)
			batch(t, conn)
		})
	}
	assert.Zero(t, rs.BinaryNumeric.Load()+rs.BinaryNumericParams.Load()+rs.BinaryDateTime.Load(), "redshift-ka asked Redshift for binary")
	assert.Positive(t, pass.BinaryNumeric.Load(), "plain pgx asked PostgreSQL for no binary NUMERIC")
	assert.Positive(t, pass.BinaryNumericParams.Load(), "plain pgx sent PostgreSQL no binary NUMERIC parameter")
	assert.Positive(t, pass.BinaryDateTime.Load(), "plain pgx asked PostgreSQL for no binary DATE")
	t.Logf("PostgreSQL, plain pgx: %d binary NUMERIC results, %d binary NUMERIC parameters, %d binary DATE/TIME results",
		pass.BinaryNumeric.Load(), pass.BinaryNumericParams.Load(), pass.BinaryDateTime.Load())
}
