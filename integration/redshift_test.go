//go:build linux

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	rkpq "github.com/redshift-ka/redshift-ka/driver/pq"
	"github.com/redshift-ka/redshift-ka/settings"
	"math/big"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/redshift-ka/redshift-ka/driver"
	"github.com/redshift-ka/redshift-ka/internal/harness"
	"github.com/redshift-ka/redshift-ka/internal/serverpid"
)

// amounts are the NUMERIC values of the tests: a NUMERIC(8,2) and a
// NUMERIC(38,10) beyond int64, as PostgreSQL prints them; "" is NULL.
var amounts = []struct{ small, big string }{
	{"12.34", "1234567890123456789012345678.0123456789"},
	{"-12.34", "-1234567890123456789012345678.0123456789"},
	{"0.00", "0.0000000000"},
	{"", ""},
}

// numericTable creates the table amounts(id, small, big) on pg.
func numericTable(t *testing.T, pg *harness.Postgres) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL(""))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE TABLE amounts (id int PRIMARY KEY, small numeric(8,2), big numeric(38,10))")
	require.NoError(t, err)
	for i, a := range amounts {
		_, err = conn.Exec(ctx, "INSERT INTO amounts VALUES ($1, $2::numeric, $3::numeric)", i, nullable(a.small), nullable(a.big))
		require.NoError(t, err)
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// execModes are pgx's query exec modes, as the DSN names them.
var execModes = []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// redshiftExecModes are those that connect to Redshift: simple_protocol
// is refused there (TestRedshiftSimpleProtocol).
var redshiftExecModes = execModes[:4]

// rowQuerier runs a query that returns one row, through some path.
type rowQuerier func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error }

// numericPath opens a connection to dsn one way and returns its querier.
type numericPath struct {
	name  string
	typed bool // pgx's own API: pgx asks for formats by its type map
	open  func(t *testing.T, dsn string) rowQuerier
}

var numericPaths = []numericPath{
	{"database/sql", false, func(t *testing.T, dsn string) rowQuerier {
		_, conn := open(t, driver.Name, dsn)
		return func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
			return conn.QueryRowContext(ctx, sql, args...)
		}
	}},
	{"Raw", true, func(t *testing.T, dsn string) rowQuerier {
		_, conn := open(t, driver.Name, dsn)
		var pc *pgx.Conn
		require.NoError(t, conn.Raw(func(dc any) error { pc = dc.(*stdlib.Conn).Conn(); return nil }))
		return func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
			return pc.QueryRow(ctx, sql, args...)
		}
	}},
	{"ParseConfig", true, func(t *testing.T, dsn string) rowQuerier {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close(context.Background()) })
		return func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
			return conn.QueryRow(ctx, sql, args...)
		}
	}},
	{"ParsePoolConfig", true, func(t *testing.T, dsn string) rowQuerier {
		cfg, err := driver.ParsePoolConfig(dsn + "&pool_max_conns=1")
		require.NoError(t, err)
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		return func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
			return pool.QueryRow(ctx, sql, args...)
		}
	}},
}

// pqPath is lib/pq underneath, which has no exec modes.
var pqPath = numericPath{"lib/pq", false, func(t *testing.T, dsn string) rowQuerier {
	_, conn := open(t, rkpq.Name, dsn)
	return func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
		return conn.QueryRowContext(ctx, sql, args...)
	}
}}

// checkNumerics reads every value of amounts through q, from the table
// and as parameters, twice (the second time from pgx's statement cache
// where the mode has one), into string, float64 and, withNumeric,
// pgtype.Numeric (which lib/pq's []byte does not scan into).
func checkNumerics(t *testing.T, q rowQuerier, withNumeric bool) {
	t.Helper()
	ctx := context.Background()
	for run := 1; run <= 2; run++ {
		for id, want := range amounts {
			var args []any
			queries := map[string]string{"table": "SELECT small, big FROM amounts WHERE id = $1"}
			tableArgs := []any{id}
			paramArgs := []any{numericArg(t, want.small), numericArg(t, want.big)}
			queries["parameter"] = "SELECT $1::numeric(8,2), $2::numeric(38,10)"
			for _, from := range []string{"table", "parameter"} {
				args = tableArgs
				if from == "parameter" {
					args = paramArgs
				}
				where := fmt.Sprintf("run %d, %s, value %d", run, from, id)

				var s1, s2 *string // pgx prints binary NUMERIC without trailing zeros
				require.NoError(t, q(ctx, queries[from], args...).Scan(&s1, &s2), "%s: string", where)
				assert.Equal(t, want.small, scaled(s1, 2), "%s: string", where)
				assert.Equal(t, want.big, scaled(s2, 10), "%s: string", where)

				var f1, f2 *float64
				require.NoError(t, q(ctx, queries[from], args...).Scan(&f1, &f2), "%s: float64", where)
				assert.Equal(t, parseFloat(want.small), f1, "%s: float64", where)
				assert.Equal(t, parseFloat(want.big), f2, "%s: float64", where)

				if !withNumeric {
					continue
				}
				var n1, n2 pgtype.Numeric
				require.NoError(t, q(ctx, queries[from], args...).Scan(&n1, &n2), "%s: pgtype.Numeric", where)
				assert.Equal(t, want.small, ratString(n1, 2), "%s: pgtype.Numeric", where)
				assert.Equal(t, want.big, ratString(n2, 10), "%s: pgtype.Numeric", where)
			}
		}
	}
}

func numericArg(t *testing.T, s string) pgtype.Numeric {
	var n pgtype.Numeric
	if s != "" {
		require.NoError(t, n.Scan(s))
	}
	return n
}

// scaled prints the number s with scale decimals; "" for NULL.
func scaled(s *string, scale int) string {
	if s == nil {
		return ""
	}
	r, ok := new(big.Rat).SetString(*s)
	if !ok {
		return "not a number: " + *s
	}
	return r.FloatString(scale)
}

func parseFloat(s string) *float64 {
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return &f
}

// ratString prints n with scale decimals, as PostgreSQL would; "" for NULL.
func ratString(n pgtype.Numeric, scale int) string {
	if !n.Valid {
		return ""
	}
	if n.NaN || n.Int == nil {
		return "NaN"
	}
	r := new(big.Rat).SetInt(n.Int)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil))
	if n.Exp < 0 {
		r.Quo(r, p)
	} else {
		r.Mul(r, p)
	}
	return r.FloatString(scale)
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// TestRedshiftFrontEndIsFaithful is the control of the front end: plain
// pgx, which asks for binary NUMERIC, reads Redshift's binary NUMERIC
// wrong or fails. If it ever reads it right, the front end is not
// faithful.
func TestRedshiftFrontEndIsFaithful(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := startFrontEnd(t, pg, frontEndOptions{})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fe.Server().URL(""))
	require.NoError(t, err)
	defer conn.Close(ctx)
	assert.Equal(t, redshiftPadbVersion, conn.PgConn().ParameterStatus("padb_version"))
	assert.Equal(t, "8.0.2", conn.PgConn().ParameterStatus("server_version"))

	for _, v := range []string{"12.34", "-12.34"} {
		var s string
		err := conn.QueryRow(ctx, "SELECT "+v+"::numeric(8,2)").Scan(&s)
		t.Logf("plain pgx reads %s::numeric(8,2) as %q, error %v", v, s, err)
		assert.False(t, err == nil && s == v, "plain pgx read %s right: the front end is not Redshift's binary NUMERIC", v)
		var f float64
		err = conn.QueryRow(ctx, "SELECT "+v+"::numeric(8,2)").Scan(&f)
		assert.False(t, err == nil && f == *parseFloat(v), "plain pgx read %s right into float64", v)
	}
	assert.Positive(t, fe.BinaryNumeric.Load(), "the front end saw no binary NUMERIC")
}

// TestRedshiftNumeric: redshift-ka reads NUMERIC right through the front
// end on every path, in every exec mode, and never asks for it in binary.
//
// Not every subtest can fail with the switch to text gone (readAsText
// made a no-op): the five database/sql ones, whose adapter asks for binary
// only for a fixed list without NUMERIC, and the exec and simple_protocol
// modes of the others, where pgx asks for text results anyway. They stay,
// as guards should pgx change that. The ones that can fail cover each
// entry point: Raw (NewConnector), ParseConfig and ParsePoolConfig in
// cache_statement, cache_describe and describe_exec modes, nine subtests,
// all red with the switch gone.
func TestRedshiftNumeric(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	numericTable(t, pg)
	fe := startFrontEnd(t, pg, frontEndOptions{})
	for _, p := range numericPaths {
		for _, mode := range redshiftExecModes {
			t.Run(p.name+"/"+mode, func(t *testing.T) {
				checkNumerics(t, p.open(t, fe.Server().URL("default_query_exec_mode="+mode)), true)
			})
		}
	}
	t.Run(pqPath.name, func(t *testing.T) {
		checkNumerics(t, pqPath.open(t, fe.Server().URL("")), false)
	})
	assert.Zero(t, fe.BinaryNumeric.Load(), "redshift-ka asked Redshift for binary NUMERIC")
	assert.Zero(t, fe.BinaryNumericParams.Load(), "redshift-ka sent Redshift binary NUMERIC parameters")
}

// TestRedshiftNotOnPostgreSQL: on PostgreSQL (a front end that changes
// nothing, and the server itself) pgx still asks for binary NUMERIC
// through redshift-ka's configs, and reads it right.
func TestRedshiftNotOnPostgreSQL(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	numericTable(t, pg)
	fe := startFrontEnd(t, pg, frontEndOptions{Passthrough: true})
	for _, p := range numericPaths {
		if !p.typed {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			before, params := fe.BinaryNumeric.Load(), fe.BinaryNumericParams.Load()
			checkNumerics(t, p.open(t, fe.Server().URL("")), true)
			assert.Greater(t, fe.BinaryNumeric.Load(), before, "pgx did not ask PostgreSQL for binary NUMERIC")
			assert.Greater(t, fe.BinaryNumericParams.Load(), params, "pgx sent PostgreSQL no binary NUMERIC parameter")
		})
	}
	t.Run("type map", func(t *testing.T) {
		cfg, err := driver.ParseConfig(pg.URL(""))
		require.NoError(t, err)
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		assert.False(t, driver.IsRedshift(conn.PgConn()))
		assert.Equal(t, int16(pgtype.BinaryFormatCode), conn.TypeMap().FormatCodeForOID(pgtype.NumericOID))
		assert.Equal(t, int16(pgtype.BinaryFormatCode), conn.TypeMap().FormatCodeForOID(pgtype.IntervalOID))
	})
}

// countingTracer is a user's own tracer.
type countingTracer struct{ connects, queries atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *countingTracer) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	c.connects.Add(1)
	return ctx
}
func (c *countingTracer) TraceConnectEnd(context.Context, pgx.TraceConnectEndData) {}

// recordServerPIDs records, until the test ends, the server process ids
// told to sockets (see internal/serverpid); only connections made on the
// test's goroutine may be counted on.
func recordServerPIDs(t *testing.T) func() []uint32 {
	var (
		mu   sync.Mutex
		pids []uint32
	)
	set := serverpid.Set
	serverpid.Set = func(c net.Conn, s serverpid.Session) {
		mu.Lock()
		pids = append(pids, s.PID)
		mu.Unlock()
		set(c, s)
	}
	t.Cleanup(func() { serverpid.Set = set })
	return func() []uint32 {
		mu.Lock()
		defer mu.Unlock()
		return append([]uint32(nil), pids...)
	}
}

// TestRedshiftUserHooks: a user's own tracer, combined with ours, and
// their own AfterConnect hooks, keep NUMERIC right; a tracer put in
// ours' place is refused on Redshift, not silently obeyed, and accepted on
// PostgreSQL.
func TestRedshiftUserHooks(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	numericTable(t, pg)
	fe := startFrontEnd(t, pg, frontEndOptions{})
	ctx := context.Background()
	dsn := fe.Server().URL("")
	read := func(t *testing.T, q rowQuerier) {
		t.Helper()
		var s string
		require.NoError(t, q(ctx, "SELECT small FROM amounts WHERE id = 0").Scan(&s))
		assert.Equal(t, "12.34", s)
	}
	pgxQuerier := func(conn *pgx.Conn) rowQuerier {
		return func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
			return conn.QueryRow(ctx, sql, args...)
		}
	}

	t.Run("tracer combined", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		var mine countingTracer
		cfg.Tracer = multitracer.New(cfg.Tracer, &mine)
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		defer conn.Close(ctx)
		read(t, pgxQuerier(conn))
		assert.EqualValues(t, 1, mine.connects.Load())
		assert.Positive(t, mine.queries.Load())
	})
	t.Run("tracer replaced", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		cfg.Tracer = &countingTracer{}
		_, err = pgx.ConnectConfig(ctx, cfg)
		require.ErrorIs(t, err, driver.ErrNoRedshiftTracer)

		pcfg, err := driver.ParsePoolConfig(dsn)
		require.NoError(t, err)
		pcfg.ConnConfig.Tracer = &countingTracer{}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		require.NoError(t, err)
		defer pool.Close()
		require.ErrorIs(t, pool.Ping(ctx), driver.ErrNoRedshiftTracer)
	})
	t.Run("tracer replaced in OptionBeforeConnect", func(t *testing.T) {
		c, err := driver.NewConnector(dsn, driver.WithPgxOptions(stdlib.OptionBeforeConnect(func(_ context.Context, cfg *pgx.ConnConfig) error {
			cfg.Tracer = &countingTracer{}
			return nil
		})))
		require.NoError(t, err)
		db := sql.OpenDB(c)
		defer db.Close()
		require.ErrorIs(t, db.PingContext(ctx), driver.ErrNoRedshiftTracer)
	})
	t.Run("pgconn alone", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		_, err = pgconn.ConnectConfig(ctx, &cfg.Config)
		require.ErrorIs(t, err, driver.ErrNoRedshiftTracer)
	})
	t.Run("tracer replaced on PostgreSQL", func(t *testing.T) {
		cfg, err := driver.ParseConfig(pg.URL(""))
		require.NoError(t, err)
		cfg.Tracer = &countingTracer{}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		conn.Close(ctx)
	})
	// A program that assigns a pgconn hook (cfg.AfterConnect is pgconn's
	// on a pgx.ConnConfig) in place of chaining it keeps the Redshift
	// check and the server pid on the socket through the other hooks.
	t.Run("pgconn AfterConnect replaced", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		var called atomic.Bool
		cfg.AfterConnect = func(context.Context, *pgconn.PgConn) error { called.Store(true); return nil }
		pids := recordServerPIDs(t)
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		defer conn.Close(ctx)
		assert.True(t, called.Load())
		assert.Contains(t, pids(), conn.PgConn().PID(), "the socket was told its server session")
		read(t, pgxQuerier(conn))
	})
	t.Run("pgconn AfterConnect and tracer replaced", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		cfg.AfterConnect = func(context.Context, *pgconn.PgConn) error { return nil }
		cfg.Tracer = &countingTracer{}
		_, err = pgx.ConnectConfig(ctx, cfg)
		require.ErrorIs(t, err, driver.ErrNoRedshiftTracer)

		pcfg, err := driver.ParsePoolConfig(dsn)
		require.NoError(t, err)
		pcfg.ConnConfig.AfterConnect = func(context.Context, *pgconn.PgConn) error { return nil }
		pcfg.ConnConfig.Tracer = &countingTracer{}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		require.NoError(t, err)
		defer pool.Close()
		require.ErrorIs(t, pool.Ping(ctx), driver.ErrNoRedshiftTracer)
	})
	t.Run("pgconn ValidateConnect replaced", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		cfg.ValidateConnect = func(context.Context, *pgconn.PgConn) error { return nil }
		cfg.AfterConnect = func(context.Context, *pgconn.PgConn) error { return nil }
		pids := recordServerPIDs(t)
		conn, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err)
		defer conn.Close(ctx)
		assert.Contains(t, pids(), conn.PgConn().PID(), "the tracer told the socket its server session")
		read(t, pgxQuerier(conn))

		cfg.Tracer = &countingTracer{}
		cfg.AfterConnect = nil // ParseConfig's, chained to nothing, is gone too
		_, err = pgx.ConnectConfig(ctx, cfg)
		assert.NoError(t, err, "with all three hooks replaced nothing is left to check (documented)")
	})
	t.Run("pgconn ValidateConnect and tracer replaced", func(t *testing.T) {
		cfg, err := driver.ParseConfig(dsn)
		require.NoError(t, err)
		cfg.ValidateConnect = func(context.Context, *pgconn.PgConn) error { return nil }
		cfg.Tracer = &countingTracer{}
		_, err = pgx.ConnectConfig(ctx, cfg)
		require.ErrorIs(t, err, driver.ErrNoRedshiftTracer)
	})
	t.Run("pgxpool AfterConnect", func(t *testing.T) {
		cfg, err := driver.ParsePoolConfig(dsn)
		require.NoError(t, err)
		var called atomic.Bool
		cfg.AfterConnect = func(context.Context, *pgx.Conn) error { called.Store(true); return nil }
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		read(t, func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
			return pool.QueryRow(ctx, sql, args...)
		})
		assert.True(t, called.Load())
	})
	t.Run("NUMERIC codec registered after connect", func(t *testing.T) {
		// As pgx-shopspring-decimal's Register does, in a pool's AfterConnect.
		cfg, err := driver.ParsePoolConfig(dsn + "&default_query_exec_mode=cache_statement")
		require.NoError(t, err)
		cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
			conn.TypeMap().RegisterType(&pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: pgtype.NumericCodec{}})
			return nil
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer pool.Close()
		for range 2 {
			read(t, func(ctx context.Context, sql string, args ...any) interface{ Scan(...any) error } {
				return pool.QueryRow(ctx, sql, args...)
			})
			batch := &pgx.Batch{}
			var s string
			batch.Queue("SELECT small FROM amounts WHERE id = 0").QueryRow(func(row pgx.Row) error { return row.Scan(&s) })
			require.NoError(t, pool.SendBatch(ctx, batch).Close())
			assert.Equal(t, "12.34", s, "batch")
		}
	})
	t.Run("stdlib OptionAfterConnect", func(t *testing.T) {
		var called atomic.Bool
		c, err := driver.NewConnector(dsn, driver.WithPgxOptions(stdlib.OptionAfterConnect(func(context.Context, *pgx.Conn) error {
			called.Store(true)
			return nil
		})))
		require.NoError(t, err)
		db := sql.OpenDB(c)
		defer db.Close()
		conn, err := db.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		assert.True(t, called.Load())
		require.NoError(t, conn.Raw(func(dc any) error {
			read(t, pgxQuerier(dc.(*stdlib.Conn).Conn()))
			return nil
		}))
	})
	assert.Zero(t, fe.BinaryNumeric.Load(), "redshift-ka asked Redshift for binary NUMERIC")
}

// redshiftOnlyColumns are values of Redshift's own types, as Redshift
// prints them, each in a column the front end presents with the type's
// OID.
var redshiftOnlyColumns = []struct {
	name, value string
	oid         uint32
}{
	{"rs_super", `{"a":[1,2],"b":"x"}`, oidSuper},
	{"rs_varbyte", "616263", oidVarbyte}, // VARBYTE prints as hex (redshift_connector varbytehex_recv)
	{"rs_geometry", "0101000000000000000000F03F000000000000F03F", oidGeometry},
	{"rs_geography", "0101000020E6100000000000000000F03F000000000000F03F", oidGeography},
	{"rs_hllsketch", `{"version":1,"logm":15,"sparse":{"indices":[4878],"values":[1]}}`, oidHLLSketch},
	{"rs_interval_ym", "1 year 2 mons", oidIntervalYM},
	{"rs_interval_ym_array", `{"1 year","2 mons"}`, oidIntervalYMArray},
	{"rs_interval_ds", "3 days 04:05:06", oidIntervalDS},
	{"rs_interval_ds_array", `{"3 days","04:05:06"}`, oidIntervalDSArray},
}

// TestRedshiftOnlyTypes: Redshift's own types scan into string (VARBYTE
// into []byte too), with no error, on both backends and through pgx.
func TestRedshiftOnlyTypes(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	relabel := map[string]uint32{}
	var cols []string
	for _, c := range redshiftOnlyColumns {
		relabel[c.name] = c.oid
		cols = append(cols, fmt.Sprintf("'%s'::text AS %s", strings.ReplaceAll(c.value, "'", "''"), c.name))
	}
	query := "SELECT " + strings.Join(cols, ", ")
	fe := startFrontEnd(t, pg, frontEndOptions{Relabel: relabel})
	ctx := context.Background()

	paths := append([]numericPath{pqPath}, numericPaths...)
	for _, p := range paths {
		for _, mode := range redshiftExecModes {
			if p.name == pqPath.name && mode != execModes[0] {
				continue
			}
			dsn := fe.Server().URL("default_query_exec_mode=" + mode)
			name := p.name + "/" + mode
			if p.name == pqPath.name {
				dsn, name = fe.Server().URL(""), p.name
			}
			t.Run(name, func(t *testing.T) {
				q := p.open(t, dsn)
				for run := 1; run <= 2; run++ {
					got := make([]string, len(redshiftOnlyColumns))
					dest := make([]any, len(got))
					for i := range got {
						dest[i] = &got[i]
					}
					require.NoError(t, q(ctx, query).Scan(dest...), "run %d", run)
					for i, c := range redshiftOnlyColumns {
						assert.Equal(t, c.value, got[i], "run %d: %s", run, c.name)
					}
					var b []byte
					require.NoError(t, q(ctx, "SELECT '616263'::text AS rs_varbyte").Scan(&b), "run %d", run)
					assert.Equal(t, []byte("616263"), b, "run %d: VARBYTE into []byte", run)
				}
			})
		}
	}
	// The front end did present them: plain pgx sees the OIDs.
	conn, err := pgx.Connect(ctx, fe.Server().URL(""))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, query)
	require.NoError(t, err)
	fds := rows.FieldDescriptions()
	require.Len(t, fds, len(redshiftOnlyColumns))
	for i, fd := range fds {
		assert.Equal(t, redshiftOnlyColumns[i].name, fd.Name)
		assert.Equal(t, redshiftOnlyColumns[i].oid, fd.DataTypeOID, fd.Name)
	}
	require.True(t, rows.Next(), "one row: %v", rows.Err())
	assert.False(t, rows.Next(), "one row only")
	rows.Close()
	require.NoError(t, rows.Err())
}

// TestRedshiftSettings: Settings and PgxSettings name Amazon Redshift
// and its padb_version; on PostgreSQL, its version.
func TestRedshiftSettings(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	fe := startFrontEnd(t, pg, frontEndOptions{})
	_, conn := open(t, driver.Name, fe.Server().URL(""))
	assert.Equal(t, "Amazon Redshift "+redshiftPadbVersion, reportOf(t, conn).Server)
	_, conn = open(t, driver.Name, pg.URL(""))
	assert.Regexp(t, `^\d+\.\d+`, reportOf(t, conn).Server)

	cfg, err := driver.ParseConfig(fe.Server().URL(""))
	require.NoError(t, err)
	pc, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	defer pc.Close(context.Background())
	r, err := settings.ReadPgx(pc.PgConn())
	require.NoError(t, err)
	assert.Equal(t, "Amazon Redshift "+redshiftPadbVersion, r.Server)
}

// TestRedshiftFrontEndRefusesCopy: the front end refuses COPY FROM STDIN
// as Redshift does; the control, PostgreSQL as it is, takes it.
func TestRedshiftFrontEndRefusesCopy(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	numericTable(t, pg)
	ctx := context.Background()
	for _, passthrough := range []bool{false, true} {
		fe := startFrontEnd(t, pg, frontEndOptions{Passthrough: passthrough})
		conn, err := pgconn.Connect(ctx, fe.Server().URL(""))
		require.NoError(t, err)
		_, err = conn.CopyFrom(ctx, strings.NewReader(fmt.Sprintf("%d\t1\t1\n", 100+len(amounts))), "COPY amounts FROM STDIN")
		if passthrough {
			assert.NoError(t, err, "PostgreSQL")
		} else {
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr)
			assert.Equal(t, "42601", pgErr.Code)
			assert.Equal(t, `syntax error at or near "STDIN"`, pgErr.Message)
			assert.EqualValues(t, 1, fe.CopyRefused.Load())
		}
		// The connection is usable after the refusal.
		assert.NoError(t, conn.Exec(ctx, "SELECT 1").Close())
		conn.Close(ctx)
	}
}

// TestRedshiftCLI: the command's check names Amazon Redshift, and exec
// refuses COPY ... FROM STDIN on Redshift without sending it.
func TestRedshiftCLI(t *testing.T) {
	pg := harness.StartPostgresT(t, harness.PostgresOptions{})
	numericTable(t, pg)
	fe := startFrontEnd(t, pg, frontEndOptions{})
	bin := buildCLI(t)
	run := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(cmd.Environ(), "REDSHIFTKA_DSN="+fe.Server().URL(""))
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("%s %s did not run: %v\n%s", bin, strings.Join(args, " "), err, out)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := run("check")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "version Amazon Redshift "+redshiftPadbVersion)

	out, code = run("exec", "-c", "SELECT 1; COPY amounts FROM STDIN")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "statement 2 (line 1) is COPY ... FROM STDIN, which Amazon Redshift does not have")
	assert.Zero(t, fe.CopyRefused.Load(), "exec sent the COPY")

	out, code = run("exec", "-c", "SELECT small FROM amounts")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "version Amazon Redshift "+redshiftPadbVersion)
}
