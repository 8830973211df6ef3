package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"strconv"
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
// whose tracer was replaced too, is still stopped. A configuration whose
// default exec mode is pgx's simple protocol is stopped there with
// ErrSimpleProtocol.

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

// ErrSimpleProtocol is the error of a pgx connection to Amazon Redshift
// whose default_query_exec_mode is simple_protocol. pgx's simple protocol
// writes the arguments into the SQL text, quoted for a server with
// standard_conforming_strings on: it doubles a quote and leaves a
// backslash alone. Redshift has no such setting and reads a backslash in
// '...' as an escape, so a value holding \' would end the literal early:
// a wrong value or SQL injection. pgx itself refuses, on Redshift, every
// Query and SendBatch in that mode and every Exec with arguments ("simple
// protocol queries must be run with standard_conforming_strings=on",
// since Redshift does not report the setting); redshift-ka refuses the
// connection, so that the mode fails at once, with the reason and the
// way out. The other modes send arguments apart from the SQL and work on
// Redshift.
var ErrSimpleProtocol = errors.New("redshift-ka: default_query_exec_mode=simple_protocol does not work on Amazon Redshift: " +
	"pgx quotes arguments into the SQL for standard_conforming_strings=on, and Redshift reads a backslash in '...' as an escape; " +
	"use default_query_exec_mode=exec (one round trip, as simple_protocol) or leave the default")

// IsRedshift reports whether the server of a pgx connection is Amazon
// Redshift: it announced a padb_version at startup.
func IsRedshift(pc *pgconn.PgConn) bool {
	return pc.ParameterStatus(redshiftParam) != ""
}

// binaryOnRedshift are the types whose binary form Amazon's own drivers
// read from Redshift with PostgreSQL's layout at the protocol version pgx
// gets (the base one: pgx never asks for another); pgx keeps binary for
// them.
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
	// TIMESTAMP, TIMESTAMPTZ: timestamp_recv_integer, timestamptz_recv_integer
	// and JDBC toTimestampBin, int64 microseconds since 2000-01-01.
	pgtype.TimestampOID: true, pgtype.TimestamptzOID: true,
}

// Not on the list, among others: DATE and TIME (redshift_connector
// core.py Connection._enable_protocol_based_conversion_funcs reads them
// with date_recv_binary and time_recv_binary only when Redshift agreed to
// client_protocol_version 2, BINARY, a startup parameter pgx never sends;
// at the base version it reads them as text, with date_in and time_in,
// and Connection.__init__ falls back to that base version when the server
// does not answer with server_protocol_version), NUMERIC (redshift_connector
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
// types of textOnRedshift, with textOnly around the codec pgx has for
// each: query results, pgx's statement cache included, and parameters.
func readAsText(m *pgtype.Map) {
	for _, oid := range textOnRedshift() {
		t, ok := m.TypeForOID(oid)
		if !ok {
			continue
		}
		if _, done := t.Codec.(*textOnly); done {
			continue
		}
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: oid, Codec: &textOnly{pgtype.TextFormatOnlyCodec{Codec: t.Codec}}})
	}
}

// textOnly is pgx's TextFormatOnlyCodec that also refuses to read a value
// in binary, which a program's own pgx.QueryResultFormats or
// QueryResultFormatsByOID may still ask Redshift for: an error, not a
// wrong number.
type textOnly struct{ pgtype.TextFormatOnlyCodec }

// PlanScan plans a scan of text only; pgx fails a binary one ("cannot scan").
func (c *textOnly) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if format != pgtype.TextFormatCode {
		return nil
	}
	return c.Codec.PlanScan(m, oid, format, target)
}

// DecodeDatabaseSQLValue decodes a value in text.
func (c *textOnly) DecodeDatabaseSQLValue(m *pgtype.Map, oid uint32, format int16, src []byte) (driver.Value, error) {
	if format != pgtype.TextFormatCode && src != nil {
		return nil, binaryRefused(m, oid)
	}
	return c.Codec.DecodeDatabaseSQLValue(m, oid, format, src)
}

// DecodeValue decodes a value in text.
func (c *textOnly) DecodeValue(m *pgtype.Map, oid uint32, format int16, src []byte) (any, error) {
	if format != pgtype.TextFormatCode && src != nil {
		return nil, binaryRefused(m, oid)
	}
	return c.Codec.DecodeValue(m, oid, format, src)
}

// binaryRefused is textOnly's error for a binary value of oid.
func binaryRefused(m *pgtype.Map, oid uint32) error {
	name := "OID " + strconv.FormatUint(uint64(oid), 10)
	if t, ok := m.TypeForOID(oid); ok {
		name = t.Name + " (" + name + ")"
	}
	return fmt.Errorf("redshift-ka: %s asked for in binary: Amazon Redshift's binary form of it is not read; let pgx ask for text", name)
}

// redshiftTracer is the pgx tracer that switches Redshift connections to
// text: once connected, and again before each query, batch and prepare,
// since a program may register its own codec for NUMERIC on the type map
// after connecting (pgx-shopspring-decimal's Register does, in a pool's
// AfterConnect say). It traces nothing.
type redshiftTracer struct{}

// tracedKey marks a connect traced by redshiftTracer.
type tracedKey struct{}

// TraceConnectStart marks the connect with its configuration's exec mode,
// for install's AfterConnect to see.
func (redshiftTracer) TraceConnectStart(ctx context.Context, d pgx.TraceConnectStartData) context.Context {
	mode := pgx.QueryExecModeCacheStatement
	if d.ConnConfig != nil {
		mode = d.ConnConfig.DefaultQueryExecMode
	}
	return context.WithValue(ctx, tracedKey{}, mode)
}

// TraceConnectEnd switches a new connection to Redshift to text, and
// tells the socket its server session, as install's hooks do, for a
// configuration that lost them.
func (redshiftTracer) TraceConnectEnd(_ context.Context, d pgx.TraceConnectEndData) {
	if d.Err == nil && d.Conn != nil {
		serverpid.Set(d.Conn.PgConn().Conn(), session(d.Conn.PgConn(), d.Conn.Config().Database))
		keepText(d.Conn)
	}
}

// TraceQueryStart keeps a Redshift connection on text, and the result
// formats pgx's database/sql adapter asks for too (see textResults).
func (redshiftTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if IsRedshift(conn.PgConn()) {
		readAsText(conn.TypeMap())
		textResults(d.Args)
	}
	return ctx
}

// sqlFormats are the result formats pgx's database/sql adapter passes
// first in every query, in a slice of its own (stdlib Conn.QueryContext);
// TestStdlibQueryArgs checks both.
var sqlFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID: 1, pgtype.ByteaOID: 1, pgtype.CIDOID: 1, pgtype.DateOID: 1, pgtype.Float4OID: 1, pgtype.Float8OID: 1,
	pgtype.Int2OID: 1, pgtype.Int4OID: 1, pgtype.Int8OID: 1, pgtype.OIDOID: 1, pgtype.TimestampOID: 1, pgtype.TimestamptzOID: 1,
	pgtype.XIDOID: 1,
}

// sqlFormatsOnRedshift is sqlFormats with text for the types not in
// binaryOnRedshift. pgx only reads it.
var sqlFormatsOnRedshift = func() pgx.QueryResultFormatsByOID {
	m := maps.Clone(sqlFormats)
	for oid := range m {
		if !binaryOnRedshift[oid] {
			m[oid] = pgtype.TextFormatCode
		}
	}
	return m
}()

// textResults puts sqlFormatsOnRedshift in args[0] when that holds
// sqlFormats: the args of a query of pgx's database/sql adapter. Other
// args, a pgx program's own, are left as they are (an own copy of
// sqlFormats would be taken for stdlib's).
func textResults(args []any) {
	if len(args) == 0 {
		return
	}
	if f, ok := args[0].(pgx.QueryResultFormatsByOID); ok && maps.Equal(f, sqlFormats) {
		args[0] = sqlFormatsOnRedshift
	}
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
// switch to text, or whose queries would use pgx's simple protocol.
func checkTraced(ctx context.Context, pc *pgconn.PgConn) error {
	if !IsRedshift(pc) {
		return nil
	}
	mode, traced := ctx.Value(tracedKey{}).(pgx.QueryExecMode)
	switch {
	case !traced:
		return ErrNoRedshiftTracer
	case mode == pgx.QueryExecModeSimpleProtocol:
		return ErrSimpleProtocol
	}
	return nil
}
