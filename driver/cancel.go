package driver

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/redshift-ka/redshift-ka/dialer"
)

// errNoCancel is what the dial of pgx's cancel request for a lost
// connection's statement returns; pgx drops it (see keepStatement).
var errNoCancel = errors.New("redshift-ka: no cancel request for the statement of a lost connection: it may still finish on the server")

// keepStatement returns an AfterNetConnect that calls next and then keeps
// pgx from cancelling the statement of a connection the kernel gave up
// on. When pgx drops a broken connection (pgconn's asyncClose) it dials
// the server again, through the configuration's DialFunc, and sends a
// cancel request for the statement. For a connection lost to a dead path
// that is the wrong thing to do: the server does not know the client has
// gone, and a COPY or UNLOAD it would have finished is cancelled as soon
// as a new connection gets through (a NAT gateway that forgot the old
// flow lets new ones pass). libpq, lib/pq and Amazon's drivers send none.
// So the connection's own configuration (pgx.ConnectConfig copies it for
// each connection) gets a DialFunc that refuses a dial made by asyncClose
// once the connection is lost; every other dial passes: a cancel request
// for a connection that is not lost (a context cancelled, Ctrl-C), one a
// program sends itself, and a connection made with a copy of the
// configuration (pgx.Conn.Config).
func keepStatement(next func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error)) func(context.Context, *pgconn.Config, net.Conn) (net.Conn, error) {
	return func(ctx context.Context, c *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if next != nil {
			var err error
			if conn, err = next(ctx, c, conn); err != nil {
				return conn, err
			}
		}
		kc := dialerConn(conn)
		if kc == nil || c.DialFunc == nil {
			return conn, nil // not our socket: pgx's behaviour stays
		}
		dial, addr := c.DialFunc, kc.RemoteAddr().String()
		c.DialFunc = func(ctx context.Context, network, address string) (net.Conn, error) {
			if address == addr && kc.Lost() != nil && fromAsyncClose() {
				return nil, errNoCancel
			}
			return dial(ctx, network, address)
		}
		return conn, nil
	}
}

// asyncClose is where pgx dials to cancel the statement of a connection it
// drops (pgx v5.12: the goroutine asyncClose starts calls CancelRequest).
const asyncClose = "github.com/jackc/pgx/v5/pgconn.(*PgConn).asyncClose"

// fromAsyncClose reports whether the caller was called by pgx's
// asyncClose. It runs only for a dial to a lost connection's server.
func fromAsyncClose() bool {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, asyncClose) {
			return true
		}
		if !more {
			return false
		}
	}
}

// dialerConn finds the dialer's connection under conn (a *tls.Conn, or a
// wrapper with a NetConn method); nil if there is none.
func dialerConn(conn net.Conn) *dialer.Conn {
	for range 8 { // a bound, against a wrapper that returns itself
		if kc, ok := conn.(*dialer.Conn); ok {
			return kc
		}
		u, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		conn = u.NetConn()
	}
	return nil
}
