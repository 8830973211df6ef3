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
// The DSN may be a URL, a libpq key=value string or an ODBC connection
// string; see [dsnparse] for the keys. A bad DSN fails at [sql.Open], before
// any dial.
//
// # What it sets
//
// Each connection, and each cancel request pgx sends, is dialed by a
// [dialer.Dialer]: SO_KEEPALIVE on, and TCP_KEEPIDLE, TCP_KEEPINTVL,
// TCP_KEEPCNT and TCP_USER_TIMEOUT from the DSN. A setting that is absent or
// 0 keeps the operating system's value, as Amazon's ODBC driver does; Go's
// own defaults (15 s, 15 s, 9) are never used. [Settings] reads back what the
// kernel holds on a connection and where each value came from.
//
// # Other ways in
//
//   - "redshift-ka-pq" ([PQDriver], [NewPQConnector]): lib/pq underneath.
//   - [ParseConfig] and [ParsePoolConfig]: pgx and pgxpool without
//     database/sql; [PgxSettings] reads a pgx connection's socket.
//   - DSN=name in an ODBC string reads an odbc.ini data source.
//
// # Compatibility
//
// Underneath is pgx's stdlib driver: [sql.Conn.Raw] hands back a
// [*stdlib.Conn], and TLS, several hosts, default_query_exec_mode and the
// rest of pgx's keys work as they do with pgx.
package driver
