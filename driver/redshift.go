package driver

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/redshift-ka/redshift-ka/internal/serverpid"
)

// Amazon Redshift speaks PostgreSQL's protocol but not all of its binary
// formats: its binary NUMERIC is a scaled integer, which pgx would read
// as a wrong number, with no error. So on Redshift every pgx connection
// asks for text for every type whose binary form is not known to be
// PostgreSQL's, and PostgreSQL servers keep pgx's defaults.
//
// The switch is made on the connection's own type map (pgx decides the
// result format per column from it, at each execution, statement cache
// included), once connected and again before each query, by a tracer
// that ParseConfig, ParsePoolConfig and NewConnector put in the pgx
// configuration: pgx's tracer is the one hook that sees the *pgx.Conn for
// pgx.ConnectConfig, pgxpool and database/sql alike. A user's AfterConnect
// (pgx's stdlib, pgxpool or pgconn) does not touch it. A user who replaces
// the tracer instead of combining it with ours is stopped on Redshift
// with ErrNoRedshiftTracer by the pgconn ValidateConnect and AfterConnect
// that install puts in place: either one alone is enough, so a
// configuration whose pgconn AfterConnect was assigned over ours, and
// whose tracer was replaced too, is still stopped.

// redshiftParam is the ParameterStatus only Redshift sends at startup
// (lib/pq's master branch, conn.go processParameterStatus, and Amazon's
// ODBC driver, SQL_DBMS_VER, read it the same way).
const redshiftParam = "padb_version"

// ErrNoRedshiftTracer is the error of a pgx connection to Amazon Redshift
// whose configuration lost the tracer [ParseConfig], [ParsePoolConfig] and
// [NewConnector] put in it (ConnConfig.Tracer replaced, not combined, with
// or without ConnConfig.AfterConnect replaced as well), or made by pgconn
// alone from its Config: without the tracer pgx would
// read Redshift's binary NUMERIC as wrong numbers. Combine tracers
// instead:
//
//	cfg.Tracer = multitracer.New(cfg.Tracer, yours) // github.com/jackc/pgx/v5/multitracer
var ErrNoRedshiftTracer = errors.New("redshift-ka: the server is Amazon Redshift and the pgx configuration's Tracer is not redshift-ka's, " +
	"so pgx would misread Redshift's binary NUMERIC; combine yours with it: cfg.Tracer = multitracer.New(cfg.Tracer, yours)")

// IsRedshift reports whether the server of a pgx connection is Amazon
// Redshift: it announced a padb_version at startup.
func IsRedshift(pc *pgconn.PgConn) bool {
	return pc.ParameterStatus(redshiftParam) != ""
}

// binaryOnRedshift are the types whose binary form Amazon's own drivers
// read from Redshift with PostgreSQL's layout; pgx keeps binary for them.
// Every other type pgx would read in binary is read as text on Redshift.
// Sources: aws/amazon-redshift-python-driver (redshift_connector)
// redshift_connector/utils/type_utils.py, the redshift_types table and
// its *_recv functions; aws/amazon-redshift-jdbc-driver
// jdbc/RedshiftConnectionImpl.java getSupportedBinaryOids, decoded by
// util/ByteConverter.java and jdbc/TimestampUtils.java as pgjdbc decodes
// PostgreSQL's.
var binaryOnRedshift = map[uint32]bool{
	pgtype.BoolOID:   true, // redshift_connector bool_recv: one byte, 1 is true
	pgtype.Int2OID:   true, // int2_recv, JDBC INT2: big-endian int16
	pgtype.Int4OID:   true, // int4_recv, JDBC INT4
	pgtype.Int8OID:   true, // int8_recv, JDBC INT8
	pgtype.Float4OID: true, // float4_recv, JDBC FLOAT4: IEEE 754
	pgtype.Float8OID: true, // float8_recv, JDBC FLOAT8
	pgtype.OIDOID:    true, // oid_recv: big-endian uint32
	// TEXT, VARCHAR, BPCHAR, NAME, "char": text_recv, the bytes as they are.
	pgtype.TextOID: true, pgtype.VarcharOID: true, pgtype.BPCharOID: true, pgtype.NameOID: true, pgtype.QCharOID: true,
	// DATE: date_recv_binary and JDBC toDateBin, int32 days since 2000-01-01.
	pgtype.DateOID: true,
	// TIME: time_recv_binary and JDBC toTimeBin, int64 microseconds.
	pgtype.TimeOID: true,
	// TIMESTAMP, TIMESTAMPTZ: timestamp_recv_integer, timestamptz_recv_integer
	// and JDBC toTimestampBin, int64 microseconds since 2000-01-01.
	pgtype.TimestampOID: true, pgtype.TimestamptzOID: true,
}

// Not on the list, among others: NUMERIC (redshift_connector
// numeric_in_binary and JDBC ByteConverter.redshiftNumeric: a big-endian
// 8- or 16-byte integer scaled by the column's scale; JDBC never asks for
// it in binary), INTERVAL (interval_recv_integer: int64, int16, int16,
// 12 bytes, where PostgreSQL's are 16), arrays (redshift_connector reads
// them as text unless Redshift agreed to its own binary protocol, which
// pgx does not ask for), and every type Redshift does not have (bytea,
// uuid, json, ranges, ...), for want of a source.

// builtinOIDs bounds the OIDs of built-in types: PostgreSQL gives the
// user's types OIDs from 16384 (FirstNormalObjectId) on.
const builtinOIDs = 16384

// textOnRedshift lists the types pgx reads in binary by default that
// Redshift's connections read as text: pgx's defaults minus
// binaryOnRedshift, found once.
var textOnRedshift = sync.OnceValue(func() []uint32 {
	m := pgtype.NewMap()
	var oids []uint32
	for oid := uint32(1); oid < builtinOIDs; oid++ {
		if _, ok := m.TypeForOID(oid); ok && m.FormatCodeForOID(oid) == pgtype.BinaryFormatCode && !binaryOnRedshift[oid] {
			oids = append(oids, oid)
		}
	}
	return oids
})

// readAsText makes a Redshift connection's type map ask for text for the
// types of textOnRedshift, with pgx's own TextFormatOnlyCodec around the
// codec pgx has for each: query results, pgx's statement cache included,
// and parameters.
func readAsText(m *pgtype.Map) {
	for _, oid := range textOnRedshift() {
		t, ok := m.TypeForOID(oid)
		if !ok {
			continue
		}
		if _, done := t.Codec.(*pgtype.TextFormatOnlyCodec); done {
			continue
		}
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: oid, Codec: &pgtype.TextFormatOnlyCodec{Codec: t.Codec}})
	}
}

// redshiftTracer is the pgx tracer that switches Redshift connections to
// text: once connected, and again before each query, batch and prepare,
// since a program may register its own codec for NUMERIC on the type map
// after connecting (pgx-shopspring-decimal's Register does, in a pool's
// AfterConnect say). It traces nothing.
type redshiftTracer struct{}

// tracedKey marks a connect traced by redshiftTracer.
type tracedKey struct{}

// TraceConnectStart marks the connect, for install's AfterConnect to see.
func (redshiftTracer) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return context.WithValue(ctx, tracedKey{}, true)
}

// TraceConnectEnd switches a new connection to Redshift to text, and
// tells the socket its server session, as install's hooks do, for a
// configuration that lost them.
func (redshiftTracer) TraceConnectEnd(_ context.Context, d pgx.TraceConnectEndData) {
	if d.Err == nil && d.Conn != nil {
		serverpid.Set(d.Conn.PgConn().Conn(), d.Conn.PgConn().PID())
		keepText(d.Conn)
	}
}

// TraceQueryStart keeps a Redshift connection on text.
func (redshiftTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	keepText(conn)
	return ctx
}

// TraceQueryEnd does nothing.
func (redshiftTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart keeps a Redshift connection on text.
func (redshiftTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	keepText(conn)
	return ctx
}

// TraceBatchQuery does nothing.
func (redshiftTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd does nothing.
func (redshiftTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TracePrepareStart keeps a Redshift connection on text.
func (redshiftTracer) TracePrepareStart(ctx context.Context, conn *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	keepText(conn)
	return ctx
}

// TracePrepareEnd does nothing.
func (redshiftTracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// keepText switches conn to text if its server is Redshift. On
// PostgreSQL it costs a map lookup; on Redshift one per type of
// textOnRedshift, registering only a type found changed.
func keepText(conn *pgx.Conn) {
	if IsRedshift(conn.PgConn()) {
		readAsText(conn.TypeMap())
	}
}

// checkTraced fails a connection to Redshift that redshiftTracer will not
// switch to text.
func checkTraced(ctx context.Context, pc *pgconn.PgConn) error {
	if IsRedshift(pc) && ctx.Value(tracedKey{}) == nil {
		return ErrNoRedshiftTracer
	}
	return nil
}
