// Package serverpid carries the server process id of a session from the
// backends, which learn it at login, to the dialer's connection, whose
// lost-connection error names it, without a method in the dialer's public
// API.
package serverpid

import "net"

// Set records pid on c, or on the connection under a TLS c, when it is a
// connection of the dialer package, which assigns Set when it loads.
var Set = func(c net.Conn, pid uint32) {}
