// Package serverpid carries what the backends learn of a session at
// login (the server process id, which the lost-connection error names;
// the server's kind and the database, which metrics carry) to the
// dialer's connection, without a method in the dialer's public API.
package serverpid

import "net"

// Session is what a backend learns of a connection at login.
type Session struct {
	PID uint32
	// System is "aws.redshift" or "postgresql", as the server announced
	// itself; "" when the backend cannot tell.
	System string
	// Database is the database logged in to.
	Database string
}

// Set records s on c, or on the connection under a TLS c, when it is a
// connection of the dialer package, which assigns Set when it loads.
var Set = func(c net.Conn, s Session) {}
