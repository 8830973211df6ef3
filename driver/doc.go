// Package driver is the redshift-ka database/sql driver: pgx v5's driver,
// with TCP keep-alive set on every socket from the DSN.
//
// # Use
//
// Import the package for its side effect and open a database by name:
//
//	import _ "github.com/redshift-ka/redshift-ka/driver"
//
//	db, err := sql.Open("redshift-ka",
//		"postgres://me:pw@example.redshift.amazonaws.com:5439/dev?sslmode=require&KeepAlivesIdle=200")
//
// or build a connector, for options:
//
//	c, err := driver.NewConnector(dsn, driver.WithLogger(logger))
//	db := sql.OpenDB(c)
//
// The DSN may be a URL, a libpq key=value string, an ODBC connection
// string or a JDBC URL of Amazon's Redshift driver (jdbc:redshift://,
// jdbc:redshift:iam://); see [dsnparse] for the keys, Amazon's keep-alive
// and timeout keys among them. A bad DSN, a misspelt key among them, fails
// at [sql.Open], before any dial.
//
// # Errors
//
// A bad DSN gives a [*dsnparse.ParseError] (or pgx's own error with the
// password masked). A connection the kernel ended because the server
// stopped answering gives a [*dialer.ConnLostError]: check with
// errors.Is(err, dialer.ErrConnectionLost). No error shows a password.
//
// The error's text begins "redshift-ka: connection to HOST:PORT lost:"
// (after pgx's "write failed: " when pgx saw the loss on a write), then why (keep-alive probes unanswered, data unacknowledged past
// tcp_user_timeout) and the server process id to look for; the connection
// is closed, so a pool never hands it out again.
//
// The statement of a lost connection is not cancelled. pgx, dropping a
// broken connection, sends the server a cancel request for its statement
// on a new connection; for a connection lost to a dead path (a NAT gateway
// that forgot the flow lets new ones pass) that would cancel a COPY the
// server was about to finish. The dialer refuses that one dial, so the
// statement runs on, as it does with libpq, lib/pq and Amazon's drivers;
// [github.com/redshift-ka/redshift-ka/outcome.Of] tells what became of
// it. A statement whose context is cancelled is cancelled on the server
// as before. DESIGN.md, at the root of the repository, says how.
//
// # What it sets
//
// Each connection, and each cancel request pgx sends, is dialed by a
// [dialer.Dialer]: SO_KEEPALIVE on, and TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT and TCP_USER_TIMEOUT from the DSN. A setting that is absent or
// 0 keeps the operating system's value, as Amazon's ODBC driver does; Go's
// own defaults (15 s, 15 s, 9) are never used.
// [github.com/redshift-ka/redshift-ka/settings.Read] reads back what the
// kernel holds on a connection and where each value came from.
//
// # Other ways in
//
//   - "redshift-ka-pq": lib/pq underneath, registered by importing
//     [github.com/redshift-ka/redshift-ka/driver/pq].
//   - [ParseConfig] and [ParsePoolConfig]: pgx and pgxpool without
//     database/sql.
//   - DSN=name in an ODBC string reads an odbc.ini data source.
//
// sqlx does not know the name "redshift-ka": call
// sqlx.BindDriver("redshift-ka", sqlx.DOLLAR) before sqlx.Connect, or its
// Rebind and named queries write "?". The driver does not, so that programs
// without sqlx do not link it. Tested recipes for sqlx, golang-migrate,
// sqlc and ent: the recipes directory of the repository, a module of its own.
//
// # IAM login
//
// A DSN with IAM=1 (iam=true, jdbc:redshift:iam://) logs in with temporary
// credentials from the Redshift API when the program imports
// [github.com/redshift-ka/redshift-ka/iam]; without it, [sql.Open],
// [NewConnector], [ParseConfig] and [ParsePoolConfig] fail with [ErrNoIAM].
// Each new connection gets cached [Credentials] ([Login]), shared by the
// connectors of the process that make the same call, got before the dial
// (the server's authentication_timeout does not run while an identity
// provider answers) and set in its AfterNetConnect, for database/sql,
// pgx.ConnectConfig and pgxpool alike, so a BeforeConnect of your own
// keeps working. database/sql's connect logs in first, once, and a
// refused login is its own error; pgx.ConnectConfig and pgxpool log in in
// pgconn's LookupFunc, once per connect whose context can end (the
// configurations of sslmode=prefer and of several hosts share it), and
// their error reads "hostname resolving error: redshift-ka: ...". A
// LookupFunc of your own that does not call the one parsed, or a
// Unix-domain socket, moves the login into AfterNetConnect. Set
// ConnectTimeout on the parsed configuration: a BeforeConnect's copy
// does not bound the login.
//
// # Digest login
//
// A Redshift user whose password was set as a sha256 hash logs in with
// Redshift's SHA-256 digest login (authentication code 13), which pgx does
// not know. Every pgx connection answers it, over TLS or not, with the
// DSN's password (or the IAM login's), as Amazon's drivers do
// (redshift_connector core.py handle_AUTHENTICATION_REQUEST and
// extensible_digest.py; JDBC ConnectionFactoryImpl and ExtensibleDigest):
// the server sends a salt and a nonce, the client answers with
// SHA256(SHA256(password + salt) + server nonce + client nonce), and the
// password never crosses the wire. A wrong password fails with the
// server's error (SQLSTATE 28P01); an algorithm other than SHA-256 (0),
// which neither of Amazon's drivers computes either, fails with an error
// that says so. With pgx's require_auth or channel_binding=require, which
// have no name for this login, it is not answered: pgx refuses it, and no
// digest of the password is sent.
//
// The answer is given in pgconn's AfterNetConnect, last, after the IAM
// login's and any of your configuration's own: for that one connection,
// it has pgconn's BuildFrontend (yours, if you set one) read the server
// through a small reader that looks at the server's messages until the
// login is over and then passes bytes through (a few nanoseconds per read,
// BenchmarkDigestReader). The connection itself is left alone:
// [pgconn.PgConn.Conn] is the *tls.Conn under TLS, as with pgx. It works
// for database/sql, [ParseConfig] with pgx.ConnectConfig, and
// [ParsePoolConfig]; keep the AfterNetConnect those return when adding
// your own.
//
// The lib/pq backend answers it only without TLS (sslmode=disable), on the
// socket redshift-ka dials for lib/pq. Over TLS it cannot: lib/pq speaks
// TLS itself, on that socket, which then carries only ciphertext. It fails
// there with [github.com/redshift-ka/redshift-ka/driver/pq.ErrDigestLogin],
// which names the login and the pgx driver, "redshift-ka".
//
// # Native identity-provider login
//
// A DSN with plugin_name=BasicJwtCredentialsProvider (ODBC: JWT) and
// web_identity_token, or plugin_name=IdpTokenAuthPlugin with token and
// token_type, hands Redshift an identity provider's token, which Redshift
// checks itself; no AWS call, no iam import:
//
//	db, err := sql.Open("redshift-ka", "postgres://warehouse.example.com:5439/dev?sslmode=verify-full"+
//		"&plugin_name=BasicJwtCredentialsProvider&provider_name=azure_idp&web_identity_token="+jwt)
//
// The startup message then names plugin_name, idp_type (AzureAD, AwsIdc),
// provider_name, token_type and identity_namespace, as Amazon's drivers
// send them (and only then: PostgreSQL refuses parameters it does not
// know); a DSN without a user names an empty one, as redshift_connector
// does, since the token says who logs in. Redshift asks for the token (authentication code 14), which every
// pgx connection answers as the digest login is answered, with an 'i'
// message holding the token and a NUL, as JDBC and ODBC send it, and only
// over TLS: without TLS the connection fails with
// [ErrTokenWithoutTLS] and the
// token is not sent. A refused token fails with the server's error, its
// message beginning "Amazon Redshift refused the identity-provider token: ".
// The lib/pq backend cannot answer it: such a DSN fails at sql.Open with
// [github.com/redshift-ka/redshift-ka/driver/pq.ErrNativeLogin]. The token
// is masked wherever a password is. Other plugins: see the table in
// [github.com/redshift-ka/redshift-ka/iam].
//
// A plugin whose token comes at connect time, not from the DSN
// (IdpTokenAuthPlugin with AWS credentials, exchanged through
// GetIdentityCenterAuthToken; the browser plugins), needs the iam package
// imported, else sql.Open fails with [ErrNoTokenSource]. Each new
// connection that may use TLS, on every pgx path, asks for the token
// before it dials, so that no server connection waits (its
// authentication_timeout running) while a person signs in; the iam
// package caches it once per process and renews it ahead of its expiry
// (see its Token caching). [Connector.LoginSteps] lists a login's calls.
//
// # Amazon Redshift
//
// Redshift speaks PostgreSQL's protocol but not all of its binary formats:
// its binary NUMERIC is an integer scaled by the column's scale, which pgx
// would read as a wrong number (12.34 as 0) with no error. A server that
// announces a padb_version at startup is Redshift ([IsRedshift]); on it,
// every pgx connection asks for text, not binary, for NUMERIC and every
// other type whose binary form Amazon's own drivers do not read with
// PostgreSQL's layout, in every query exec mode and from pgx's statement
// cache, also after a program registers its own NUMERIC codec
// (pgx-shopspring-decimal's Register). Binary stays for bool, int2, int4,
// int8, float4, float8, oid, timestamp and timestamptz (text types are
// text anyway); DATE and TIME are read as text too. PostgreSQL servers keep
// pgx's defaults, binary NUMERIC, DATE and TIME included.
//
// The switch is a tracer in the pgx configuration of [NewConnector],
// [ParseConfig] and [ParsePoolConfig]: keep it when adding your own,
//
//	cfg.Tracer = multitracer.New(cfg.Tracer, yours) // github.com/jackc/pgx/v5/multitracer
//
// A configuration whose tracer was replaced instead fails to connect to
// Redshift with [ErrNoRedshiftTracer]; it works as before on PostgreSQL.
// AfterConnect hooks (pgx's stdlib, pgxpool, pgconn) do not affect it: the
// check runs in both pgconn's ValidateConnect and its AfterConnect, so a
// pgconn AfterConnect assigned over redshift-ka's, tracer replaced or not,
// leaves it in force. Chain a ValidateConnect of your own too; with
// ValidateConnect, AfterConnect and the tracer all replaced, nothing is
// left to check.
//
// Why these types stay binary: Amazon's own drivers read Redshift's binary
// form of them with PostgreSQL's layout, at the protocol version pgx gets.
// rc below is
// github.com/aws/amazon-redshift-python-driver (redshift_connector/utils/type_utils.py,
// the redshift_types table and its *_recv functions); JDBC is
// github.com/aws/amazon-redshift-jdbc-driver (RedshiftConnectionImpl.getSupportedBinaryOids,
// decoded by ByteConverter and TimestampUtils as pgjdbc decodes PostgreSQL's):
//
//	type                   Redshift's binary form               source
//	bool                   one byte                             rc bool_recv
//	int2, int4, int8       big-endian integers                  rc int2_recv, int4_recv, int8_recv; JDBC
//	float4, float8         IEEE 754                             rc float4_recv, float8_recv; JDBC
//	oid                    big-endian uint32                    rc oid_recv
//	timestamp, timestamptz int64 microseconds since 2000-01-01  rc timestamp_recv_integer,
//	                                                            timestamptz_recv_integer; JDBC toTimestampBin
//
// Read as text on Redshift: every other type pgx would read in binary, among
// them
//
//	type          why                                                   source
//	numeric       a scaled 8- or 16-byte integer, not PostgreSQL's      rc numeric_in_binary;
//	              base-10000 digits                                     JDBC ByteConverter.redshiftNumeric
//	                                                                    (JDBC never asks for it in binary)
//	interval      int64, int16, int16: 12 bytes, where PostgreSQL's     rc interval_recv_integer
//	              are 16
//	date, time    rc reads them in binary (date_recv_binary,            rc core.py
//	              time_recv_binary) only at client_protocol_version     _enable_protocol_based_conversion_funcs
//	              2, a startup parameter pgx never sends; at the base   (its text branch: date_in,
//	              version, pgx's, it reads them as text                 time_in)
//	arrays        rc reads them as text unless Redshift agreed to its   rc core.py
//	              own binary protocol (client_protocol_version),        _enable_protocol_based_conversion_funcs
//	              which pgx does not ask for
//	bytea, uuid,  not Redshift column types; no source, so text         -
//	json, inet,
//	ranges, ...
//
// pgx's database/sql adapter asks for binary itself, whatever the type map
// says, for a fixed list (bool, bytea, cid, date, float4/8, int2/4/8, oid,
// timestamp, timestamptz, xid): a pgx.QueryResultFormatsByOID it passes
// first in every query. On Redshift the tracer replaces that argument with
// one that asks for text for date and the rest not on the binary list
// above, so database/sql reads DATE as text too and [sql.Conn.Raw] still
// hands back pgx's own [*stdlib.Conn]. A pgx.QueryResultFormatsByOID or
// QueryResultFormats a pgx program passes itself is left as it is; a
// value it asks Redshift for in binary that is read as text there fails
// to scan ("cannot scan numeric (OID 1700) in binary format"), never
// reads as a wrong number.
// pgconn.ConnectConfig(ctx, &cfg.Config), pgconn alone, is never seen by pgx's
// tracer, so it fails on Redshift with ErrNoRedshiftTracer.
//
// The cost on PostgreSQL is none measurable: BenchmarkNumeric in the
// integration package (1 000 rows of two NUMERIC columns) makes the same
// allocations per query with pgx's configuration and with redshift-ka's.
// lib/pq reads everything as text already.
//
// Redshift's own types (SUPER, VARBYTE, GEOMETRY, GEOGRAPHY, HLLSKETCH,
// INTERVAL YEAR TO MONTH and DAY TO SECOND) arrive as text and scan into a
// string, VARBYTE into a []byte too (its hex text), with either backend.
// Redshift has no COPY ... FROM STDIN: its COPY reads Amazon S3 and other
// sources on the server side.
//
// # Strings on Redshift
//
// Redshift has no standard_conforming_strings setting: it does not report
// it, and it reads a backslash in an ordinary '...' literal as an escape,
// so \' is a quote inside the literal. It reports client_encoding as
// UNICODE, where PostgreSQL says UTF8. pgx reads both values in two
// places, and neither can give a wrong value there:
//
//   - pgx's simple protocol (default_query_exec_mode=simple_protocol, or
//     pgx.QueryExecModeSimpleProtocol for one query) writes the arguments
//     into the SQL, doubling a quote and leaving a backslash alone, which
//     on Redshift would let a value holding \' end the literal: a wrong
//     value or SQL injection. On Redshift pgx refuses every Query and
//     SendBatch in that mode, and every Exec with arguments ("simple
//     protocol queries must be run with standard_conforming_strings=on");
//     redshift-ka refuses a connection whose default mode it is, at
//     once, with [ErrSimpleProtocol]. Use default_query_exec_mode=exec (one round
//     trip too) or the default: they send arguments apart from the SQL.
//     Conn.Exec without arguments sends the SQL as it is, in every mode.
//   - pgconn's PgConn.EscapeString fails on Redshift ("EscapeString must be
//     run with standard_conforming_strings=on"); pass values as arguments.
//
// Nothing else in pgx reads either value; text arrives as UTF-8 either
// way. lib/pq sends arguments apart from the SQL and reads neither value.
//
// # Compatibility
//
// Underneath is pgx's stdlib driver: [sql.Conn.Raw] hands back a
// [*stdlib.Conn], and TLS, several hosts, default_query_exec_mode and the
// rest of pgx's keys work as they do with pgx; on Redshift every exec mode
// but simple_protocol (see above). Unlike pgx, and like lib/pq and Amazon's
// drivers, a TLS 1.2 connection accepts the server's renegotiations;
// set TLSConfig.Renegotiation after [ParseConfig] to choose otherwise.
package driver
