package driver

import (
	"context"
	"database/sql"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// argsTracer records the args pgx hands TraceQueryStart and, if put is
// set, puts it in args[0].
type argsTracer struct {
	put  any
	mu   sync.Mutex
	seen [][]any
}

func (a *argsTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, d.Args)
	if a.put != nil {
		d.Args[0] = a.put
	}
	return ctx
}

func (a *argsTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (a *argsTracer) Seen() [][]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen
}

// connect connects to cfg; the test's cleanup closes the connection.
func connect(t *testing.T, cfg *pgx.ConnConfig) *pgx.Conn {
	t.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// query runs sql with args on conn and reads its one row into n and d.
func query(conn *pgx.Conn, n *int32, d *time.Time, args ...any) error {
	rows, err := conn.Query(context.Background(), "SELECT n, d WHERE n = $1", args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := rows.Scan(n, d); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}

// TestPgxQueryReadsTracedArgs pins what textResults relies on in pgx
// (v5.13 conn.go, Conn.Query): it hands TraceQueryStart the very args
// slice it was called with, the caller's own backing array, and reads its
// options (QueryResultFormatsByOID) from that slice after the tracer.
func TestPgxQueryReadsTracedArgs(t *testing.T) {
	s := startProtoServer(t, false)
	cfg, err := pgx.ParseConfig(s.URL())
	require.NoError(t, err)
	tr := &argsTracer{put: pgx.QueryResultFormatsByOID{pgtype.Int4OID: 0, pgtype.DateOID: 1}}
	cfg.Tracer = tr
	conn := connect(t, cfg)

	args := []any{pgx.QueryResultFormatsByOID{pgtype.Int4OID: 1, pgtype.DateOID: 0}, 7}
	var n int32
	var d time.Time
	require.NoError(t, query(conn, &n, &d, args...))
	require.Len(t, tr.Seen(), 1)
	assert.Same(t, &args[0], &tr.Seen()[0][0], "pgx no longer hands the tracer the caller's args slice")
	assert.Equal(t, [][]int16{{0, 1}}, s.Binds(), "pgx no longer reads its QueryResultFormatsByOID from the slice the tracer saw, after it")
	assert.Equal(t, int32(7), n)
	assert.Equal(t, "2024-01-02", d.Format(time.DateOnly))
}

// TestStdlibQueryArgs pins what textResults relies on in pgx's stdlib
// (v5.13 sql.go, Conn.QueryContext): every query gets a slice of its own,
// with stdlib's result formats first, asking binary for DATE; sqlFormats
// is a copy of them.
func TestStdlibQueryArgs(t *testing.T) {
	s := startProtoServer(t, false)
	cfg, err := pgx.ParseConfig(s.URL())
	require.NoError(t, err)
	tr := &argsTracer{}
	cfg.Tracer = tr
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	for range 2 {
		var n int32
		var d time.Time
		require.NoError(t, db.QueryRow("SELECT n, d WHERE n = $1", 7).Scan(&n, &d))
		assert.Equal(t, "2024-01-02", d.Format(time.DateOnly))
	}
	seen := tr.Seen()
	require.Len(t, seen, 2)
	for _, args := range seen {
		require.Len(t, args, 2)
		assert.Equal(t, sqlFormats, args[0], "stdlib's result formats changed: update sqlFormats")
		assert.EqualValues(t, 7, args[1])
	}
	assert.NotSame(t, &seen[0][0], &seen[1][0], "stdlib reuses its args slice")
	assert.Equal(t, [][]int16{{1, 1}, {1, 1}}, s.Binds(), "stdlib asks PostgreSQL for binary INT4 and DATE")
}

// TestRedshiftDatabaseSQLText: on Redshift, database/sql reads DATE as
// text, through NewConnector and through stdlib.OpenDB of ParseConfig's
// configuration, and INT4 stays binary.
func TestRedshiftDatabaseSQLText(t *testing.T) {
	s := startProtoServer(t, true)
	c, err := NewConnector(s.URL())
	require.NoError(t, err)
	cfg, err := ParseConfig(s.URL())
	require.NoError(t, err)
	for _, db := range []*sql.DB{sql.OpenDB(c), stdlib.OpenDB(*cfg)} {
		var n int32
		var d time.Time
		require.NoError(t, db.QueryRow("SELECT n, d WHERE n = $1", 7).Scan(&n, &d))
		require.NoError(t, db.Close())
		assert.Equal(t, int32(7), n)
		assert.Equal(t, "2024-01-02", d.Format(time.DateOnly))
	}
	assert.Equal(t, [][]int16{{1, 0}, {1, 0}}, s.Binds())
}

// TestRedshiftTracerLeavesCallerArgs: on Redshift, the tracer writes
// neither a pgx caller's args slice nor its result-format map; pgx asks
// for what the caller asked for, and a binary DATE is refused, not read.
func TestRedshiftTracerLeavesCallerArgs(t *testing.T) {
	s := startProtoServer(t, true)
	cfg, err := ParseConfig(s.URL())
	require.NoError(t, err)
	conn := connect(t, cfg)

	own := pgx.QueryResultFormatsByOID{pgtype.Int4OID: 1, pgtype.DateOID: 1, pgtype.NumericOID: 1}
	args := []any{own, 7}
	var n int32
	var d time.Time
	assert.ErrorContains(t, query(conn, &n, &d, args...), "cannot scan date (OID 1082) in binary format")
	assert.Equal(t, reflect.ValueOf(own).UnsafePointer(), reflect.ValueOf(args[0]).UnsafePointer(), "the caller's args[0] was replaced")
	assert.Equal(t, pgx.QueryResultFormatsByOID{pgtype.Int4OID: 1, pgtype.DateOID: 1, pgtype.NumericOID: 1}, own)
	assert.Equal(t, 7, args[1])
	assert.Equal(t, [][]int16{{1, 1}}, s.Binds())
}
