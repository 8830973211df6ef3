// Package settings tells what keep-alive settings are in force on a
// redshift-ka connection, where each came from, and how the connection
// fares.
//
// # Use
//
//	conn, err := db.Conn(ctx) // db opened with "redshift-ka" or "redshift-ka-pq"
//	report, err := settings.Read(conn)
//	fmt.Println(report) // keep-alive on (DSN key KeepAlive), idle 3m20s (DSN key KeepAlivesIdle), ...
//
// [Read] reads SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
// TCP_USER_TIMEOUT back from the kernel with getsockopt (Linux, macOS,
// FreeBSD), and says for each whether a DSN key set it or the OS did, and
// which sysctl or registry value. [ReadPgx] does the same for a pgx
// connection; [Resolve] says what a DSN would get, without dialing.
//
// [Health] reads the kernel's TCP_INFO on Linux: unanswered probes and how
// long the server has been silent, for a status line during a long
// statement.
package settings
