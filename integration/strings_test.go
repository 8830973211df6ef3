//go:build linux

package integration

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
)

// hostileStrings are values that SQL quoted the wrong way for Redshift
// reads wrong, or runs.
var hostileStrings = []string{
	`it's`,
	`back\slash`,
	`\`,
	`\'`,
	`\\'`,
	`x\'; DROP TABLE victims; --`,
	`'; DROP TABLE victims; --`,
	"żółć 日本語 ☃ \U0001F600",
	"",
}

// TestRedshiftFrontEndStrings is the control of the front end's strings:
// no standard_conforming_strings (not reported, SHOW refused),
// client_encoding UNICODE, and \' in '...' read as a quote, as Redshift
// does; so plain pgx's simple protocol
// refuses arguments there and pgconn's EscapeString refuses too. The
// front end passing PostgreSQL through is the control of the control.
func TestRedshiftFrontEndStrings(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx := context.Background()
	for _, passthrough := range []bool{false, true} {
		fe := startFrontEnd(t, pg, frontEndOptions{Passthrough: passthrough})
		name := map[bool]string{false: "Redshift", true: "PostgreSQL"}[passthrough]
		t.Run(name, func(t *testing.T) {
			pc, err := pgconn.Connect(ctx, fe.Server().URL(""))
			require.NoError(t, err)
			defer pc.Close(ctx)
			scs, enc := pc.ParameterStatus("standard_conforming_strings"), pc.ParameterStatus("client_encoding")
			_, escErr := pc.EscapeString("it's")
			res, litErr := pc.Exec(ctx, `SELECT 'it\'s'`).ReadAll()
			_, showErr := pc.Exec(ctx, "SHOW standard_conforming_strings").ReadAll()
			t.Logf("%s: standard_conforming_strings %q, client_encoding %q, EscapeString error %v, 'it\\'s' error %v", name, scs, enc, escErr, litErr)

			conn, err := pgx.Connect(ctx, fe.Server().URL("default_query_exec_mode=simple_protocol"))
			require.NoError(t, err)
			defer conn.Close(ctx)
			var s string
			noArgs := conn.QueryRow(ctx, "SELECT 'plain'").Scan(&s)
			_, execNoArgs := conn.Exec(ctx, "SELECT 'plain'") // pgx's Exec sends the text as it is, in any mode
			withArgs := conn.QueryRow(ctx, "SELECT $1::text", `it\'s`).Scan(&s)

			if passthrough {
				assert.Equal(t, "on", scs)
				assert.Equal(t, "UTF8", enc)
				assert.NoError(t, escErr)
				assert.Error(t, litErr, `PostgreSQL with standard strings ends 'it\' at the backslash`)
				assert.NoError(t, showErr)
				assert.NoError(t, withArgs)
				assert.Equal(t, `it\'s`, s)
				return
			}
			assert.Empty(t, scs, "Redshift reports no standard_conforming_strings")
			assert.Equal(t, "UNICODE", enc)
			assert.ErrorContains(t, escErr, "standard_conforming_strings=on")
			var pgErr *pgconn.PgError
			require.ErrorAs(t, showErr, &pgErr)
			assert.Equal(t, "42704", pgErr.Code)
			assert.Equal(t, `unrecognized configuration parameter "standard_conforming_strings"`, pgErr.Message)
			require.NoError(t, litErr)
			require.Len(t, res, 1)
			assert.Equal(t, "it's", string(res[0].Rows[0][0]), `Redshift reads 'it\'s' as it's`)
			// pgx refuses every Query in the simple protocol, arguments or
			// not; Exec without arguments quotes nothing and works.
			assert.ErrorContains(t, noArgs, "simple protocol queries must be run with standard_conforming_strings=on")
			assert.NoError(t, execNoArgs)
			assert.ErrorContains(t, withArgs, "simple protocol queries must be run with standard_conforming_strings=on")
		})
	}
}

// TestRedshiftSimpleProtocol: on Redshift, default_query_exec_mode=
// simple_protocol is refused at connect on every path, with an error that
// says why and names the modes to use; those modes read and write hostile
// strings right, and never run them. On PostgreSQL simple_protocol works.
func TestRedshiftSimpleProtocol(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer setup.Close(ctx)
	_, err = setup.Exec(ctx, "CREATE TABLE victims (n int); CREATE TABLE notes (path text, v text)")
	require.NoError(t, err)
	fe := startFrontEnd(t, pg, frontEndOptions{})

	t.Run("refused", func(t *testing.T) {
		dsn := fe.Server().URL("default_query_exec_mode=simple_protocol")
		check := func(t *testing.T, err error) {
			t.Helper()
			require.ErrorIs(t, err, driver.ErrSimpleProtocol)
			assert.ErrorContains(t, err, "default_query_exec_mode=exec")
			assert.ErrorContains(t, err, "backslash")
		}
		db, err := sql.Open(driver.Name, dsn)
		require.NoError(t, err)
		defer db.Close()
		check(t, db.PingContext(ctx))

		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		_, err = pgx.ConnectConfig(ctx, cfg)
		check(t, err)

		cfg, err = driver.ParseConfig(fe.Server().URL(""))
		require.NoError(t, err)
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol // set in code, not in the DSN
		_, err = pgx.ConnectConfig(ctx, cfg)
		check(t, err)

		pcfg, err := driver.ParsePoolConfig(dsn)
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		require.NoError(t, err)
		defer pool.Close()
		check(t, pool.Ping(ctx))
	})

	t.Run("simple protocol for one query", func(t *testing.T) {
		// pgx's own refusal: Redshift does not report
		// standard_conforming_strings=on.
		cfg, err := driver.ParseConfig(fe.Server().URL(""))
		require.NoError(t, err)
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "INSERT INTO notes VALUES ('one query', $1)", pgx.QueryExecModeSimpleProtocol, `x\'); DROP TABLE victims; --`)
		assert.ErrorContains(t, err, "standard_conforming_strings=on")
	})

	for _, p := range numericPaths {
		for _, mode := range redshiftExecModes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				q := p.open(t, fe.Server().URL("default_query_exec_mode="+mode))
				for _, v := range hostileStrings {
					var got string
					require.NoError(t, q(ctx, "SELECT $1::text", v).Scan(&got), "%q", v)
					assert.Equal(t, v, got)
					var n int
					require.NoError(t, q(ctx, "INSERT INTO notes VALUES ($1, $2) RETURNING 1", p.name+"/"+mode, v).Scan(&n), "%q", v)
					require.NoError(t, q(ctx, "SELECT count(*) FROM notes WHERE path = $1 AND v = $2", p.name+"/"+mode, v).Scan(&n), "%q", v)
					assert.Equal(t, 1, n, "%q stored as it is", v)
				}
			})
		}
	}

	t.Run("PostgreSQL", func(t *testing.T) {
		q := numericPaths[0].open(t, pg.URL("default_query_exec_mode=simple_protocol"))
		for _, v := range hostileStrings {
			var got string
			require.NoError(t, q(ctx, "SELECT $1::text", v).Scan(&got), "%q", v)
			assert.Equal(t, v, got)
		}
	})

	var victims *string
	require.NoError(t, setup.QueryRow(ctx, "SELECT to_regclass('victims')::text").Scan(&victims))
	assert.NotNil(t, victims, "a value was run as SQL")
}

// TestRedshiftExecBackslash: the command's exec splits a script the way
// the server reads it. On Redshift \' in '...' is a quote, so a script
// holding 'it\'s; here' runs as three statements; PostgreSQL with
// standard strings ends that literal at the backslash, so there the
// script is refused before anything runs, and a script holding 'C:\'
// runs there and is refused on Redshift.
func TestRedshiftExecBackslash(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := startFrontEnd(t, pg, frontEndOptions{})
	bin := buildCLI(t)
	dir := t.TempDir()
	script := func(name, text string) string {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(text), 0o600))
		return f
	}
	redshiftScript := script("redshift.sql", `CREATE TABLE notes (v text);
INSERT INTO notes SELECT 'it\'s; here';
INSERT INTO notes SELECT 'two';
`)
	postgresScript := script("postgres.sql", `SELECT 'C:\'; SELECT 2;`)
	run := func(dsn, file string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "exec", "-f", file)
		cmd.Env = append(cmd.Environ(), "REDSHIFTKA_DSN="+dsn)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer conn.Close(ctx)

	out, code := run(pg.URL(""), redshiftScript)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "string literal is not closed")
	assert.Contains(t, out, "nothing was run")
	var table *string
	require.NoError(t, conn.QueryRow(ctx, "SELECT to_regclass('notes')::text").Scan(&table))
	assert.Nil(t, table, "PostgreSQL: a statement ran")

	out, code = run(fe.Server().URL(""), redshiftScript)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "running 3 statements")
	assert.Contains(t, out, "done: 3 statements")
	rows, err := conn.Query(ctx, "SELECT v FROM notes ORDER BY v")
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{"it's; here", "two"}, got)

	out, code = run(pg.URL(""), postgresScript)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "done: 2 statements")
	out, code = run(fe.Server().URL(""), postgresScript)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "string literal is not closed")
	assert.Contains(t, out, "nothing was run")
}
