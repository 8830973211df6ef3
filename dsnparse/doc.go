// Package dsnparse reads the keep-alive settings out of a PostgreSQL or
// Amazon Redshift data source name, and hands back the rest of the DSN for
// pgx or lib/pq without them.
//
// # Forms
//
// Three forms are read, told apart by their look:
//
//	postgres://user:pw@host:5439/dev?sslmode=require&KeepAlivesIdle=200
//	host=example port=5439 dbname=dev keepalives_idle=200
//	Server=example;Port=5439;Database=dev;UID=me;PWD=secret;KeepAlivesIdle=200
//
// An ODBC string is converted to the key=value form, with Port 5439 when it
// has none, as in Amazon's ODBC driver; keys that only an ODBC driver reads
// (Driver, for example) are dropped and listed in [Config.Ignored].
//
// # ODBC data sources
//
// DSN=name in an ODBC string reads the data source [name] from the first
// odbc.ini that has it: $ODBCINI, then ~/.odbc.ini, then /etc/odbc.ini.
// Keys in the connection string override the file's, setting by setting
// (Host in the string overrides Server in the file).
//
// # Keys
//
// [Keys] is the table of every key redshift-ka owns: the ODBC names in
// plural and singular (KeepAlivesIdle, KeepAliveIdle), libpq's
// (keepalives_idle) and redshift_connector's (tcp_keepalive_idle). Keys
// match case-insensitively in every form. A value of 0, like an absent key,
// means "the operating system's value": [Config]'s zero value is "all from
// the OS, keep-alive on".
//
// Every key not in the table is left for pgx or lib/pq as written. Those
// drivers send a key they do not know to the server as a run-time
// parameter, which the server refuses, so the owned keys must not reach
// them.
//
// # Where pgx and lib/pq disagree
//
// A DSN the two backends would read differently is refused rather than
// guessed. In a URL the query is everything after the first '?', as pgx
// reads it, so a '#' is part of a value (KeepAlivesIdle=200#note is refused;
// lib/pq would end the value at the '#'); a '?' before the '@' of the user
// info is refused (write it %3F); query keys may be %-escaped, and a key
// lib/pq would read as one of ours (+keepalives_idle) is taken out too. In
// the key=value form, keys only ODBC reads (Server, UID, PWD, Driver, DSN)
// are refused, and so is white space other than ASCII in an unquoted value.
//
// # Errors
//
// Errors are [*ParseError] values that name the key, the value and the
// accepted range, and wrap [ErrSyntax], [ErrRange], [ErrConflict],
// [ErrMalformed] or [ErrDataSource]. No error contains a password.
package dsnparse
