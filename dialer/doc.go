// Package dialer makes TCP connections with the keep-alive settings of a
// DSN on every socket, and tells a connection the kernel ended for want of
// answers ([ConnLostError]) from other errors.
//
// # Use
//
//	d, err := dialer.New(cfg, nil) // cfg from dsnparse.Parse; nil: no logger
//	conn, err := d.DialContext(ctx, "tcp", "example:5439")
//
// The driver package puts [Dialer.DialContext] in pgx's place, so every
// connection and every cancel request goes through it.
//
// # Zero is not "unset"
//
// Go's [net.KeepAliveConfig] reads 0 as Go's own default (15 s, 15 s, 9) and
// a negative value as "leave the OS value". redshift-ka's 0 means the OS
// value, so the dialer turns it into -1, and no 0 ever reaches
// setsockopt (Linux refuses it). keepalives=0 turns SO_KEEPALIVE off.
//
// Options are set after the dial with [net.TCPConn.SetKeepAliveConfig], and
// an error is returned with the socket closed: Go's own dialer ignores
// errors from these options. TCP_USER_TIMEOUT is set on Linux before the
// connect, in [net.Dialer.Control]; elsewhere [New] refuses it.
//
// # Reading back
//
// [github.com/redshift-ka/redshift-ka/settings] reads back what the kernel
// holds on a connection and says where each value came from.
package dialer
